"""Many rows go into SQLite as statements of many rows each: every row, in order, whatever
the number of rows and however few values the connection lets one statement bind; values
every row shares are bound once, never written into the statement."""

from __future__ import annotations

import sqlite3

import pytest

from studyapp.sqlite_rows import ROWS_PER_STATEMENT, Shared, bound_limit_of, insert_columns


def _table() -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER, c TEXT)")
    return connection


def _stored(connection: sqlite3.Connection) -> list[tuple[object, ...]]:
    return connection.execute("SELECT a, b, c FROM t ORDER BY id").fetchall()


@pytest.mark.parametrize("count", [1, ROWS_PER_STATEMENT, 2 * ROWS_PER_STATEMENT + 501])
def test_every_row_goes_in_once_in_order(count: int) -> None:
    connection = _table()
    rows = [(f"a{i}", i, "it's ?" if i % 2 else None) for i in range(count)]
    columns = [[a for a, _, _ in rows], range(count), tuple(c for _, _, c in rows)]
    insert_columns(connection.execute, "INSERT INTO t (a, b, c)", columns, 250_000)
    assert _stored(connection) == rows


def test_a_connection_binding_few_values_gets_small_statements() -> None:
    connection = _table()
    connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 7)  # ?1, then 2 rows of 3
    rows = [(f"a{i}", i, "x") for i in range(25)]
    statements: list[str] = []

    def execute(sql: str, values: tuple[object, ...]) -> object:
        statements.append(sql)
        return connection.execute(sql, values)

    columns = [[a for a, _, _ in rows], range(25)]
    limit = bound_limit_of(connection)
    insert_columns(execute, "INSERT INTO t (a, b, c)", [*columns, Shared("x")], limit)
    assert _stored(connection) == rows
    assert len(statements) == 9  # 3 values a row: 2 rows with the shared one, 7 values


@pytest.mark.parametrize("text", ["same, (for) all", "x VALUES (1, 2, 3)--", "it's '); --"])
def test_a_shared_value_is_bound_once_for_every_row_never_written_into_the_sql(
    text: str,
) -> None:
    connection = _table()
    statements: list[str] = []

    def execute(sql: str, values: tuple[object, ...]) -> object:
        statements.append(sql)
        return connection.execute(sql, values)

    values = [Shared(text), range(1_500), Shared(None)]
    insert_columns(execute, "INSERT INTO t (a, b, c)", values, 250_000)
    assert _stored(connection) == [(text, i, None) for i in range(1_500)]
    assert not any(text in sql for sql in statements)


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        insert_columns(_table().execute, "INSERT INTO t (a, b)", [["x", "y"], [1]], 100)


def test_no_rows_runs_nothing() -> None:
    ran: list[str] = []
    insert_columns(lambda sql, values: ran.append(sql), "INSERT INTO t (a)", [[]], 100)
    assert ran == []


def test_only_the_first_row_numbers_its_own_values() -> None:
    """SQLite looks up every numbered placeholder in a list of all the numbers written when
    it compiles a statement: numbered all through, a thousand rows took 45 ms to compile
    instead of 4 ms. The rows after the first give their own values as plain `?`."""
    statements: list[str] = []
    connection = _table()

    def execute(sql: str, values: tuple[object, ...]) -> object:
        statements.append(sql)
        return connection.execute(sql, values)

    values = [Shared("a"), range(2_500), [f"c{i}" for i in range(2_500)]]
    insert_columns(execute, "INSERT INTO t (a, b, c)", values, 250_000)
    assert _stored(connection) == [("a", i, f"c{i}") for i in range(2_500)]
    for sql in statements:
        first, *after = sql.split(" VALUES ")[1].split("),(")
        assert first == "(?1,?2,?3" and set(after) == {"?1,?,?", "?1,?,?)"}
