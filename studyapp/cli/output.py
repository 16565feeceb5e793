"""Plain-text tables for the command line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def print_table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], footer: bool = False
) -> None:
    """Print rows under a header; numbers right-aligned, text left-aligned."""
    cells = [[str(c) for c in columns]] + [[_cell(v) for v in row] for row in rows]
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
    return str(value)
