"""Many rows into an SQLite table, a thousand to a statement.

An executemany binds and steps its statement once per row; one statement of many rows
(`INSERT ... VALUES (...), (...), ...`) inserts them in about 60% of that time, measured
on 100,000 cards into the cards table with its indexes.

The statement holds no value, only placeholders: a value every row shares (the deck, the
import time) is bound once a statement, as ?1, and each row's own values after (see
_rows). So the statement's text depends on the table, its columns and the number of rows
alone: SQLite's statement cache keeps one of each size, import after import, and no text
from a file is ever read as SQL.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# Ten times more rows a statement are slower again: SQLite compiles each row of a VALUES
# list into the statement's program, which then no longer fits the processor's caches.
ROWS_PER_STATEMENT = 1000


@dataclass(frozen=True, slots=True)
class Shared:
    """A value every row has, bound once a statement."""

    value: Any


def insert_columns(
    execute: Callable[[str, tuple[Any, ...]], object],
    into: str,
    values: Sequence[Sequence[Any] | Shared],
    bound_limit: int,
) -> None:
    """Insert rows with `into` (`INSERT INTO table (a, b, c)`, or `INSERT INTO table` for
    all its columns in order) and `values`, one per column: a Shared value, or a column
    with a value for each row (all of one length). `execute` runs SQL with its values;
    SQLite binds at most `bound_limit` values a statement (`bound_limit_of` tells). Each
    statement reads its slice of every column, no more."""
    columns = [column for column in values if not isinstance(column, Shared)]
    shared = tuple(value.value for value in values if isinstance(value, Shared))
    if not columns:
        raise ValueError("insert_columns needs at least one column of values")
    count = len(columns[0])
    if any(len(column) != count for column in columns):
        raise ValueError("the columns of an insert differ in length")
    width = len(columns)
    shape = tuple(isinstance(value, Shared) for value in values)
    per_statement = max(1, min(ROWS_PER_STATEMENT, (bound_limit - len(shared)) // width))
    statements: dict[int, str] = {}
    for start in range(0, count, per_statement):
        stop = min(start + per_statement, count)
        rows = stop - start
        bound: list[Any] = [None] * (rows * width)
        for at, column in enumerate(columns):
            bound[at::width] = column[start:stop]  # row by row: a, b, c, a, b, c, ...
        sql = statements.get(rows)
        if sql is None:
            sql = statements[rows] = f"{into} VALUES {_rows(shape, rows)}"
        execute(sql, shared + tuple(bound))


@functools.lru_cache(maxsize=32)
def _rows(shape: tuple[bool, ...], rows: int) -> str:
    """The VALUES list of `rows` rows whose values are shared where `shape` says True:
    ?1, ?2 ... for the shared values, then each row's own, numbered on.

    Only the first row numbers its own values; the rows after it give theirs as plain `?`,
    which SQLite numbers on from the highest number so far, so they mean the same. SQLite
    looks up each numbered placeholder in a list of every number written out when it
    compiles the statement: numbered all through, a statement of a thousand rows took 45 ms
    to compile instead of 4 ms, on each new connection (an import into a new collection,
    every Anki export).
    """
    first, after = [], []
    shared, own = 0, shape.count(True)
    for is_shared in shape:
        if is_shared:
            shared += 1
            first.append(f"?{shared}")
            after.append(f"?{shared}")
        else:
            own += 1
            first.append(f"?{own}")
            after.append("?")
    row_after = f"({','.join(after)})"
    return ",".join([f"({','.join(first)})", *[row_after] * (rows - 1)])


def bound_limit_of(connection: sqlite3.Connection) -> int:
    """How many values `connection` binds at most in one statement."""
    return connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
