"""What a file must hold before it may replace the collection.

`studyapp restore` puts a file's rows in place of the collection's, and every screen and
command then reads them and trusts what it reads: a deck whose day starts at hour 99 or a card
due on 'not-a-date' would stop `decks`, `stats` and `export` until restored again. So a
candidate is checked whole first, the way the app reads it: SQLite's foreign-key check (its
integrity check comes first, on the file given), the tables and columns of this version and
nothing else, and each value's type and range. The first thing wrong is named, by table, row
and column.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from studyapp.db.models import Base
from studyapp.model import BUNDLED_CHANGE_KINDS, REVIEW_KINDS
from studyapp.scheduling import MAX_INTERVAL, MIN_EASE_CENTS
from studyapp.scheduling.fsrs import (
    MAX_DESIRED_RETENTION,
    MAX_DIFFICULTY,
    MAX_STABILITY,
    MIN_DESIRED_RETENTION,
    MIN_DIFFICULTY,
    MIN_STABILITY,
    PARAMETER_COUNT,
    SCHEDULERS,
    parameters_problem,
)

# Integer columns are 32-bit in the databases other than SQLite that the models also serve.
MAX_INT = 2**31 - 1
MAX_SEED = 2**32 - 1  # a demo seed (a 64-bit column)
MAX_HOUR = 23
MAX_RATING = 5
# Days and moments the app can move a day either way from without leaving the calendar.
FIRST_DAY, LAST_DAY = "0001-01-02", "9999-12-30"
VALUE_SHOWN = 40  # characters of a bad value quoted in the message


class InvalidCollection(ValueError):
    """The first thing wrong with a candidate, as a phrase: "table decks, row 3, column ..."."""


@dataclass(frozen=True)
class Column:
    """A column's rule: `bad` is SQL that holds for a wrong value of `{c}`; `parse`, if
    given, is how the app reads the value, and raises ValueError where it cannot."""

    name: str
    says: str  # what a right value is, for the message
    bad: str
    parse: Callable[[Any], object] | None = None
    nullable: bool = False
    unsure: str = "1"  # SQL that holds for the values `parse` must see (the rest are right)

    def condition(self) -> str:
        bad = self.bad.format(c=f'"{self.name}"')
        return f'("{self.name}" IS NOT NULL AND ({bad}))' if self.nullable else f"({bad})"


def integer(
    name: str, low: int, high: int = MAX_INT, says: str | None = None, nullable: bool = False
) -> Column:
    return Column(
        name,
        says or f"a whole number from {low} to {high}",
        f"typeof({{c}}) != 'integer' OR {{c}} < {low} OR {{c}} > {high}",
        nullable=nullable,
    )


def text(name: str, blank: bool = True, nullable: bool = False) -> Column:
    if blank:
        return Column(name, "text", "typeof({c}) != 'text'", nullable=nullable)
    return Column(
        name,
        "non-empty text",
        "typeof({c}) != 'text' OR trim({c}, ' ' || char(9, 10, 13)) = ''",
        nullable=nullable,
    )


def boolean(name: str, nullable: bool = False) -> Column:
    return Column(
        name,
        "0 or 1 (false or true)",
        "typeof({c}) != 'integer' OR {c} NOT IN (0, 1)",
        nullable=nullable,
    )


def one_of(name: str, values: Sequence[str]) -> Column:
    listed = ", ".join(f"'{v}'" for v in values)
    return Column(name, f"one of {listed}", f"typeof({{c}}) != 'text' OR {{c}} NOT IN ({listed})")


def day(name: str, nullable: bool = False) -> Column:
    """A day as the app stores it and compares it in SQL: YYYY-MM-DD, a real date (moved by
    no days, SQLite gives back exactly such a text, and rolls a 30th of February over)."""
    return Column(
        name,
        f"a date (YYYY-MM-DD) from {FIRST_DAY} to {LAST_DAY}",
        f"typeof({{c}}) != 'text' OR date({{c}}, '+0 days') IS NOT {{c}}"
        f" OR {{c}} < '{FIRST_DAY}' OR {{c}} > '{LAST_DAY}'",
        nullable=nullable,
    )


def moment(name: str) -> Column:
    """A date and time as the app reads it back (ISO 8601, in UTC without a zone).

    Those in the form the app writes are checked in SQL; any other is parsed as the app
    would parse it.
    """
    d2 = "[0-9]" * 2
    shape = f"{d2}{d2}-{d2}-{d2} {d2}:{d2}:{d2}.{d2 * 3}"
    written = (
        f"{{c}} GLOB '{shape}'"
        " AND datetime(substr({c}, 1, 19), '+0 days') = substr({c}, 1, 19)"
        f" AND {{c}} >= '{FIRST_DAY}' AND {{c}} < '{LAST_DAY} 99'"
    )
    return Column(
        name,
        f"a date and time (YYYY-MM-DD HH:MM:SS) from {FIRST_DAY} to {LAST_DAY}",
        "typeof({c}) != 'text'",
        parse=_moment,
        unsure=f"NOT ({written})",
    )


def _moment(value: str) -> object:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        raise ValueError("stored times carry no zone")
    if not FIRST_DAY <= parsed.date().isoformat() <= LAST_DAY:
        raise ValueError("out of range")
    return parsed


def number(name: str, low: float, high: float, nullable: bool = False) -> Column:
    """A real number from `low` to `high` (SQLite may keep a whole one as an integer)."""
    return Column(
        name,
        f"a number from {low:g} to {high:g}",
        f"typeof({{c}}) NOT IN ('real', 'integer') OR {{c}} < {low!r} OR {{c}} > {high!r}",
        nullable=nullable,
    )


def parameter_list(name: str) -> Column:
    """FSRS parameters as the app reads them back: a JSON list of 21 numbers in bounds."""
    return Column(
        name,
        f"a JSON list of {PARAMETER_COUNT} FSRS parameters within their bounds",
        "typeof({c}) != 'text'",
        parse=_parameter_list,
        nullable=True,
    )


def _parameter_list(value: str) -> object:
    parsed = json.loads(value)
    if not isinstance(parsed, list) or parameters_problem(parsed) is not None:
        raise ValueError("not FSRS parameters")
    return parsed


def json_object(name: str, nullable: bool = False) -> Column:
    return Column(
        name, "a JSON object", "typeof({c}) != 'text'", parse=_json_object, nullable=nullable
    )


def _json_object(value: str) -> object:
    parsed = json.loads(value)  # as the app reads it back
    if not isinstance(parsed, dict):
        raise ValueError("not an object")
    return parsed


EASE = f"an ease in hundredths from {MIN_EASE_CENTS} to {MAX_INT}"
INTERVAL = f"an interval from 0 to {MAX_INTERVAL} days"


def _state(suffix: str = "") -> list[Column]:
    """A card's scheduling state: on the card, or before or after a review."""
    ease, interval = ("ease_cents", "interval") if not suffix else ("ease", "interval")
    return [
        integer(f"{ease}{suffix}", MIN_EASE_CENTS, says=EASE),
        integer(f"{interval}{suffix}", 0, MAX_INTERVAL, says=INTERVAL),
        integer(f"repetitions{suffix}", 0),
        integer(f"lapses{suffix}", 0),
        day(f"due{suffix}", nullable=True),
    ]


def _memory(suffix: str = "") -> list[Column]:
    """A card's FSRS memory state (null until it has one): on the card, or around a review."""
    return [
        number(f"stability{suffix}", MIN_STABILITY, MAX_STABILITY, nullable=True),
        number(f"difficulty{suffix}", MIN_DIFFICULTY, MAX_DIFFICULTY, nullable=True),
    ]


RULES: dict[str, list[Column]] = {
    "collection_info": [text("key", blank=False), text("value")],
    "decks": [
        integer("id", 1),
        text("name", blank=False),
        text("description"),
        integer("new_per_day", 0),
        integer("reviews_per_day", 0),
        integer("day_start_hour", 0, MAX_HOUR, says=f"an hour from 0 to {MAX_HOUR}"),
        moment("created_at"),
        one_of("scheduler", SCHEDULERS),
        number("desired_retention", MIN_DESIRED_RETENTION, MAX_DESIRED_RETENTION),
        parameter_list("fsrs_params"),
    ],
    "cards": [
        integer("id", 1),
        text("uid", blank=False),
        integer("deck_id", 1),
        integer("position", -MAX_INT),
        text("front"),
        text("back"),
        text("tags"),
        text("source"),
        text("content_key"),
        text("demo_id", nullable=True),
        json_object("demo_params", nullable=True),
        boolean("suspended"),
        day("buried_until", nullable=True),
        *_state(),
        moment("created_at"),
        moment("modified_at"),
        *_memory(),
    ],
    "reviews": [
        integer("id", 1),
        integer("card_id", 1),
        moment("at"),
        day("study_day"),
        integer("rating", 1, MAX_RATING, says=f"a rating from 1 to {MAX_RATING}"),
        integer("duration_ms", 0),
        one_of("kind", REVIEW_KINDS),
        *_state("_before"),
        *_state("_after"),
        boolean("imported"),
        *_memory("_before"),
        *_memory("_after"),
    ],
    "bundled_changes": [
        one_of("kind", BUNDLED_CHANGE_KINDS),
        text("bundled", blank=False),
        text("current", blank=False, nullable=True),
    ],
    "demo_results": [
        integer("id", 1),
        text("cache_key", blank=False),
        text("demo_id", blank=False),
        json_object("payload"),
        moment("created_at"),
    ],
    "predictions": [
        integer("id", 1),
        integer("card_id", 1, nullable=True),
        text("demo_id", blank=False),
        json_object("params"),
        integer("seed", 0, MAX_SEED),
        text("question_id", blank=False),
        text("question"),
        text("chosen", blank=False),
        text("answer", nullable=True),
        text("why", nullable=True),
        boolean("correct", nullable=True),
        moment("at"),
    ],
}
BOOKKEEPING = {"alembic_version", "sqlite_sequence"}  # tables that hold no collection data


def check_collection(conn: sqlite3.Connection) -> None:
    """Raise InvalidCollection naming the first thing wrong with the database `conn` reads,
    which is at the current schema revision (migrated if it was older) and has passed
    SQLite's integrity check."""
    _check_shape(conn)
    _check_foreign_keys(conn)
    for table, columns in RULES.items():
        _check_rows(conn, table, columns)


def _check_shape(conn: sqlite3.Connection) -> None:
    """The tables and columns of this version, and nothing that runs code on a change."""
    objects = conn.execute(
        "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view', 'trigger')"
        " ORDER BY type, name"
    ).fetchall()
    for kind, name in objects:
        if kind != "table":
            raise InvalidCollection(f"it holds a {kind} {name!r}, which a collection never has")
    tables = {name for _, name in objects}
    for name in sorted(tables - BOOKKEEPING - set(RULES)):
        raise InvalidCollection(f"it holds a table {name!r} that is not part of a collection")
    for name, table in Base.metadata.tables.items():
        if name not in tables:
            raise InvalidCollection(f"it has no table {name!r}")
        found = [row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')]
        expected = [column.name for column in table.columns]
        for column in expected:
            if column not in found:
                raise InvalidCollection(f"table {name} has no column {column!r}")
        for column in found:
            if column not in expected:
                raise InvalidCollection(f"table {name} has a column {column!r} it should not")
    assert set(RULES) == set(Base.metadata.tables)  # a new table needs its rules here


def _check_foreign_keys(conn: sqlite3.Connection) -> None:
    broken = conn.execute("PRAGMA foreign_key_check").fetchone()
    if broken is None:
        return
    table, rowid, parent, key = broken
    column = next(
        row[3] for row in conn.execute(f'PRAGMA foreign_key_list("{table}")') if row[0] == key
    )
    (value,) = conn.execute(
        f'SELECT "{column}" FROM "{table}" WHERE rowid = ?', (rowid,)
    ).fetchone()
    raise InvalidCollection(
        f"table {table}, row {rowid}, column {column}: {value!r} is no row of table {parent}"
    )


def _check_rows(conn: sqlite3.Connection, table: str, columns: Sequence[Column]) -> None:
    """Every value of `columns` in `table`: one pass in SQL, then the values SQL cannot
    judge read as the app reads them."""
    anything_wrong = " OR ".join(column.condition() for column in columns)
    row = conn.execute(
        f'SELECT rowid FROM "{table}" WHERE {anything_wrong} ORDER BY rowid LIMIT 1'
    ).fetchone()
    if row is not None:
        for column in columns:
            bad = conn.execute(
                f'SELECT "{column.name}" FROM "{table}" WHERE rowid = ? AND {column.condition()}',
                row,
            ).fetchone()
            if bad is not None:
                raise _wrong(table, column, row[0], bad[0])
    for column in columns:
        if column.parse is None:
            continue
        unsure = column.unsure.format(c=f'"{column.name}"')
        for rowid, value in conn.execute(
            f'SELECT rowid, "{column.name}" FROM "{table}"'
            f' WHERE "{column.name}" IS NOT NULL AND ({unsure}) ORDER BY rowid'
        ):
            try:
                column.parse(value)
            except (ValueError, TypeError, RecursionError):
                raise _wrong(table, column, rowid, value) from None


def _wrong(table: str, column: Column, rowid: int, value: object) -> InvalidCollection:
    shown = repr(value)
    if len(shown) > VALUE_SHOWN:
        shown = shown[: VALUE_SHOWN - 1] + "…"
    return InvalidCollection(
        f"table {table}, row {rowid}, column {column.name}: {shown} is not {column.says}"
    )
