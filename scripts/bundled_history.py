"""Write `cards/history.json`: every content the bundled deck has shipped, and its merges.

A collection keeps the bundled cards it was given; when a card is corrected in `cards/`, the
app updates it in the learner's collection only if its content is one the app shipped (the
learner has not edited it). This script records those contents: a fingerprint of every
version of every card and deck description in the repository's history of `cards/`, plus the
working tree's, and the "Merged cards" table of `cards/README.md`.

Run it after changing `cards/` (the test suite fails until you do):

    .venv/bin/python scripts/bundled_history.py
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studyapp.formats import get_format  # noqa: E402
from studyapp.formats.base import ParseResult  # noqa: E402
from studyapp.services.bundled import HISTORY_FILE, BundledHistory  # noqa: E402

CARDS = ROOT / "cards"
MERGE_ROW = re.compile(r"^\|\s*`?(\w[\w.:-]*)`?\s*\|\s*`?(\w[\w.:-]*)`?\s*\|\s*$")


def deck_files(names: list[str]) -> list[str]:
    return sorted(n for n in names if n.endswith(".md") and not n.lower().startswith("readme"))


def parse(text: str, name: str) -> ParseResult:
    native = get_format("md")
    assert native.parse is not None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8")
        return native.parse(path)


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout


def versions() -> list[ParseResult]:
    """Every deck file of every commit that touched `cards/`, and the working tree's."""
    results = []
    for commit in git("log", "--format=%H", "--", "cards/").split():
        names = [Path(p).name for p in git("ls-tree", "--name-only", commit, "cards/").split()]
        for name in deck_files(names):
            results.append(parse(git("show", f"{commit}:cards/{name}"), name))
    for name in deck_files([p.name for p in CARDS.glob("*.md")]):
        results.append(parse((CARDS / name).read_text(encoding="utf-8"), name))
    return results


def merges(readme: str) -> dict[str, str]:
    """The "Merged cards" table of cards/README.md: removed id -> kept id."""
    found: dict[str, str] = {}
    in_section = False
    for line in readme.splitlines():
        if line.startswith("## "):
            in_section = line.strip() == "## Merged cards"
            continue
        match = MERGE_ROW.match(line.strip()) if in_section else None
        if match and match.group(1).lower() != "removed":
            found[match.group(1)] = match.group(2)
    return found


def build() -> BundledHistory:
    readme = (CARDS / "README.md").read_text(encoding="utf-8")
    return BundledHistory.of(versions(), merges(readme))


def main() -> int:
    history = build()
    (CARDS / HISTORY_FILE).write_text(history.to_json(), encoding="utf-8")
    print(
        f"{CARDS / HISTORY_FILE}: {len(history.cards)} cards, {len(history.decks)} decks, "
        f"{len(history.merged)} merges"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
