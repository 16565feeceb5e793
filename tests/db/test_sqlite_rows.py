"""Many rows go into SQLite as statements of many rows each: every row, in order, whatever
the number of rows and however few values the connection lets one statement bind."""

from __future__ import annotations

import sqlite3

import pytest

from studyapp.sqlite_rows import ROWS_PER_STATEMENT, bound_limit_of, insert_columns


def _table() -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER, c TEXT)")
    return connection


@pytest.mark.parametrize("count", [1, ROWS_PER_STATEMENT, 2 * ROWS_PER_STATEMENT + 501])
def test_every_row_goes_in_once_in_order(count: int) -> None:
    connection = _table()
    rows = [(f"a{i}", i, "it's ?" if i % 2 else None) for i in range(count)]
    columns = [[a for a, _, _ in rows], range(count), tuple(c for _, _, c in rows)]
    statement = "INSERT INTO t (a, b, c) VALUES (?, ?, ?)"
    insert_columns(connection.execute, statement, columns, bound_limit_of(connection))
    assert connection.execute("SELECT a, b, c FROM t ORDER BY id").fetchall() == rows


def test_a_connection_binding_few_values_gets_small_statements() -> None:
    connection = _table()
    connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 7)  # two rows of three a statement
    rows = [(f"a{i}", i, "x") for i in range(25)]
    statements: list[str] = []

    def execute(sql: str, values: tuple[object, ...]) -> object:
        statements.append(sql)
        return connection.execute(sql, values)

    columns = [list(column) for column in zip(*rows, strict=True)]
    statement = "INSERT INTO t (a, b, c) VALUES (?, ?, ?)"
    insert_columns(execute, statement, columns, bound_limit_of(connection))
    assert connection.execute("SELECT a, b, c FROM t ORDER BY id").fetchall() == rows
    assert len(statements) == 13


def test_values_written_into_the_statement_are_kept_for_every_row() -> None:
    connection = _table()
    statement = "INSERT INTO t (a, b, c) VALUES ('same, (for) all', ?, NULL)"
    insert_columns(connection.execute, statement, [range(1500)], bound_limit_of(connection))
    stored = connection.execute("SELECT a, b, c FROM t ORDER BY id").fetchall()
    assert stored == [("same, (for) all", i, None) for i in range(1500)]


def test_no_rows_runs_nothing() -> None:
    ran: list[str] = []
    insert_columns(lambda sql, values: ran.append(sql), "INSERT INTO t VALUES (?)", [[]], 100)
    assert ran == []
