"""The benchmark command keeps working: a tiny run of its database parts prints the table.

The figures themselves are never asserted (they belong to the README, measured on a quiet
machine); this only proves that `python -m benchmarks` still runs end to end.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_small_benchmark_run_prints_every_row(tmp_path: Path) -> None:
    before = (ROOT / "README.md").read_text(encoding="utf-8")
    parts = ["--only", "rating", "--only", "queue", "--only", "import"]
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--cards", "300", "--reviews", "2000"]
        + ["--ratings", "20", "--work", str(tmp_path), *parts],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")][1:]
    what = [row.split(" | ")[0].lstrip("| ") for row in rows]
    assert what == [
        "rating to next card, p50 (20 ratings)",
        "rating to next card, p99 (20 ratings)",
        "build today's queue (all 10 decks)",
        "import 300 CSV cards",
        "import 300 CSV cards, against the same table",
        "`studyapp import` of 300 CSV cards into a new collection, process start to exit",
        "export 300 cards to json",
        "export 300 cards to apkg",
        "export 300 cards to apkg, against writing the same file",
    ]
    assert (ROOT / "README.md").read_text(encoding="utf-8") == before  # a partial run


def test_a_small_benchmark_run_on_postgresql_prints_its_rows_or_says_why_not(
    tmp_path: Path,
) -> None:
    from benchmarks import postgres

    parts = ["--only", "postgres", "--only", "rating", "--only", "import"]
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--cards", "300", "--reviews", "2000"]
        + ["--ratings", "20", "--work", str(tmp_path), *parts],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")][1:]
    what = [row.split(" | ")[0].lstrip("| ") for row in rows if "PostgreSQL" in row]
    if postgres.find_binaries() is None:
        assert what == ["PostgreSQL rows"] and "skipped: no PostgreSQL server" in rows[-1]
        return
    assert what == [
        "PostgreSQL: rating to next card, p50 (20 ratings)",
        "PostgreSQL: rating to next card, p99 (20 ratings)",
        "PostgreSQL: import 300 CSV cards",
        "PostgreSQL: import 300 CSV cards, against the same table",
    ]
    assert "same server" in rows[-2]
