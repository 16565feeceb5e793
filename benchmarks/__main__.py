"""`python -m benchmarks` (or `make bench`): measure, print, and write the README table.

Each figure is measured against its floor in the same run, so the ratio holds on a noisy
machine. The synthetic collection is generated from a seed (benchmarks/synth.py); pass
`--reuse` to keep one generated earlier in the work folder. The `postgres` part measures the
start-up, rating and import figures again on a PostgreSQL server (benchmarks/server_measures.py):
with `--only postgres` and other parts, only those of them.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
from datetime import date
from pathlib import Path

from benchmarks import measures
from benchmarks.measures import Row
from benchmarks.server_measures import server_rows
from benchmarks.synth import make_collection

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
START, END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"
PARTS = ("startup", "rating", "queue", "import", "demos", "postgres")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7, help="start-up runs of each program")
    parser.add_argument("--ratings", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=Path("/tmp/studyapp-bench"))
    parser.add_argument("--only", choices=PARTS, action="append", help="run only these parts")
    parser.add_argument("--reuse", action="store_true", help="keep an existing collection")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite README.md")
    args = parser.parse_args(argv)
    parts = args.only or list(PARTS)
    args.work.mkdir(parents=True, exist_ok=True)
    collection = args.work / f"synthetic-{args.cards}-{args.reviews}-{args.seed}.db"
    if not (args.reuse and collection.exists()):
        print(f"generating {args.cards:,} cards and {args.reviews:,} reviews ...", flush=True)
        started = time.perf_counter()
        make_collection(collection, args.cards, args.reviews, args.seed)
        print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)

    rows: list[Row] = []
    if "startup" in parts:
        rows += _run("start-up", lambda: measures.startup(collection, args.runs))
    if "rating" in parts:
        rows += _run("rating", lambda: measures.rating(collection, args.work, args.ratings))
    if "queue" in parts:
        rows += _run("queue", lambda: measures.queue(collection))
    if "import" in parts:
        rows += _run("import/export", lambda: measures.import_export(args.work, args.cards))
    if "demos" in parts:
        rows += _run("demos", measures.demos)
    if "postgres" in parts:
        on_server = (
            [p for p in parts if p in ("startup", "rating", "import")]
            if args.only
            else [
                "startup",
                "rating",
                "import",
            ]
        )
        rows += _run(
            "PostgreSQL",
            lambda: server_rows(
                args.work, args.cards, args.reviews, args.seed, args.runs, args.ratings, on_server
            ),
        )

    table = render(rows, args)
    print()
    print(table)
    if not args.no_readme and set(parts) == set(PARTS):
        write_readme(table)
        print(f"\nwrote the table into {README}")
    return 0


def _run(label: str, action):  # type: ignore[no-untyped-def]
    print(f"measuring {label} ...", flush=True)
    started = time.perf_counter()
    rows = action()
    print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
    return rows


def render(rows: list[Row], args: argparse.Namespace) -> str:
    head = (
        f"Measured {date.today().isoformat()} with `python -m benchmarks` on "
        f"{os.cpu_count()} CPU cores, Python {platform.python_version()}, "
        f"{args.cards:,} cards and {args.reviews:,} review-log rows (seed {args.seed})."
    )
    lines = [
        head,
        "",
        "| what | studyapp | floor | ratio | goal | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        ratio = f"{row.ratio:.1f}x" if row.ratio is not None else "-"
        lines.append(
            f"| {row.what} | {row.measured} | {row.floor} | {ratio} | {row.goal} | {row.verdict} |"
        )
    return "\n".join(lines)


def write_readme(table: str) -> None:
    text = README.read_text(encoding="utf-8")
    block = f"{START}\n{table}\n{END}"
    if START in text and END in text:
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n## Benchmarks\n\n" + block + "\n"
    README.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
