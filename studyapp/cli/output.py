"""What the command line prints for a person: report lines and plain-text tables.

Both show text from files (deck names, card text, warnings that quote a file) visibly: a
control character is printed as `\\x1b`, never sent raw to the terminal, whether the output
goes to a terminal, a pager or a file (see `studyapp.terminal`). Data for programs (`--json`,
`export --output -`) is written by its command, exact.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, TextIO

from studyapp.terminal import json_text, one_line, visible


def say(*lines: str, file: TextIO | None = None) -> None:
    """Print report lines for a person, each shown visibly."""
    out = file or sys.stdout
    for line in lines:
        print(visible(line), file=out)


def print_json(data: Any, **options: Any) -> None:
    """Print JSON for a program: the exact values, with no raw control character in the text."""
    print(json_text(data, **options))


def print_table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], footer: bool = False
) -> None:
    """Print rows under a header; numbers right-aligned, text left-aligned."""
    cells = [[one_line(str(c)) for c in columns]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    numeric = [
        all(isinstance(row[i], int | float) for row in rows) if rows else False
        for i in range(len(columns))
    ]

    def line(row: list[str]) -> str:
        parts = [
            cell.rjust(w) if num else cell.ljust(w)
            for cell, w, num in zip(row, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for i, row in enumerate(cells[1:]):
        if footer and i == len(rows) - 1:
            print("  ".join("-" * w for w in widths))
        print(line(row))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return one_line(str(value))
