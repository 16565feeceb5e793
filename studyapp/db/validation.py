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

import contextlib
import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from studyapp.db.models import MAX_ROWID, Base
from studyapp.model import (
    BUNDLED_CHANGE_KINDS,
    DECK_SETTINGS,
    MAX_REVIEW_MS,
    MAX_SEED,
    REVIEW_KINDS,
    card_uid_problem,
    deck_name_problem,
    demo_id_problem,
    demo_params_problem,
    grade_problem,
    question_id_problem,
    text_problem,
)
from studyapp.scheduling import MAX_COUNT, MAX_EASE_CENTS, MAX_INTERVAL, MIN_EASE_CENTS, days
from studyapp.scheduling.fsrs import (
    MAX_DIFFICULTY,
    MAX_STABILITY,
    MIN_DIFFICULTY,
    MIN_STABILITY,
    PARAMETER_COUNT,
    parameters_problem,
)

# Integer columns are 32-bit in the databases other than SQLite that the models also serve.
MAX_INT = 2**31 - 1
MAX_RATING = 5
# Days and moments the app can move a day either way from without leaving the calendar.
FIRST_DAY, LAST_DAY = days.FIRST_DAY.isoformat(), days.LAST_DAY.isoformat()
VALUE_SHOWN = 40  # characters of a bad value quoted in the message
TEXT_CHUNK = 20_000  # rowids whose text is read at once to see that it is UTF-8


class InvalidCollection(ValueError):
    """The first thing wrong with a candidate, as a phrase: "table decks, row 3, column ..."."""


@dataclass(frozen=True)
class Column:
    """A column's rule: `bad` is SQL that holds for a wrong value of `{c}`; `check`, if
    given, judges the value as the app reads it, the way the JSON backup's import does: it
    gives the import's reason (a phrase) or None when the value is right, and raises
    ValueError where it cannot read it (its bytes are read as UTF-8 first). A `text`
    column's bytes must all be UTF-8 and hold what any text the app keeps may hold
    (`text_problem`)."""

    name: str
    says: str  # what a right value is, for the message
    bad: str
    check: Callable[[Any], str | None] | None = None
    nullable: bool = False
    unsure: str = "1"  # SQL that holds for the values `check` must see (the rest are right)
    text: bool = False

    def condition(self) -> str:
        bad = self.bad.format(c=f'"{self.name}"')
        return f'("{self.name}" IS NOT NULL AND ({bad}))' if self.nullable else f"({bad})"


@dataclass(frozen=True)
class RowRule:
    """A rule on several columns of a row: `check` is given the values of `reads` and gives
    a phrase when they cannot go together (the message names `column`), or None. Only rows
    `suspect` (SQL) holds for are read: the rest are right."""

    column: str
    says: str
    reads: tuple[str, ...]
    check: Callable[..., str | None]
    suspect: str = "1"


def _memory_together(stability: str, difficulty: str) -> RowRule:
    """An FSRS memory state is both its numbers or neither: the app reads one alone as
    none, so an export would drop it."""
    return RowRule(
        stability,
        "part of a whole memory state",
        (stability, difficulty),
        lambda s, d: f"{stability} and {difficulty} are both given or both null",
        suspect=f'("{stability}" IS NULL) != ("{difficulty}" IS NULL)',
    )


def integer(
    name: str, low: int, high: int = MAX_INT, says: str | None = None, nullable: bool = False
) -> Column:
    return Column(
        name,
        says or f"a whole number from {low} to {high}",
        f"typeof({{c}}) != 'integer' OR {{c}} < {low} OR {{c}} > {high}",
        nullable=nullable,
    )


# Text that holds a character other than a space and could still be blank to Python's
# `str.strip` is only text with no printable ASCII character at all.
_MAYBE_BLANK = "NOT ({c} GLOB '*[!-~]*')"


def text(
    name: str,
    blank: bool = True,
    nullable: bool = False,
    check: Callable[[str], str | None] | None = None,
    says: str | None = None,
    unsure: str = "1",
) -> Column:
    """Text, non-empty unless `blank`; `check` (the import's rule for it), if given, sees
    every value, else a non-empty one must hold more than what `str.strip` removes."""
    if blank:
        return Column(
            name, says or "text", "typeof({c}) != 'text'", check, nullable, unsure, text=True
        )
    if check is None:
        check, unsure = _filled, _MAYBE_BLANK
    return Column(
        name,
        says or "non-empty text",
        "typeof({c}) != 'text' OR trim({c}, ' ' || char(9, 10, 13)) = ''",
        check,
        nullable,
        unsure,
        text=True,
    )


def _filled(value: str) -> str | None:
    return None if value.strip() else "it is empty"


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
        check=_moment,
        unsure=f"NOT ({written})",
    )


def _moment(value: str) -> str | None:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        raise ValueError("stored times carry no zone")
    if not FIRST_DAY <= parsed.date().isoformat() <= LAST_DAY:
        raise ValueError("out of range")
    return None


def number(name: str, low: float, high: float, nullable: bool = False) -> Column:
    """A real number from `low` to `high` (SQLite may keep a whole one as an integer)."""
    return Column(
        name,
        f"a number from {low:g} to {high:g}",
        f"typeof({{c}}) NOT IN ('real', 'integer') OR {{c}} < {low!r} OR {{c}} > {high!r}",
        nullable=nullable,
    )


def setting(name: str, says: str | None = None) -> Column:
    """A deck setting, within the bounds every other way of setting it keeps
    (`DECK_SETTINGS`: the `deck` command, the options screen, the JSON backup's import)."""
    found = next(s for s in DECK_SETTINGS if s.name == name)
    if found.choices:
        return one_of(name, found.choices)
    if found.decimals:
        return number(name, found.low, found.high)
    return integer(name, int(found.low), int(found.high), says=says)


def parameter_list(name: str) -> Column:
    """FSRS parameters as the app reads them back: a JSON list of 21 numbers in bounds."""
    return Column(
        name,
        f"a JSON list of {PARAMETER_COUNT} FSRS parameters within their bounds",
        "typeof({c}) != 'text'",
        check=_parameter_list,
        nullable=True,
    )


def _parameter_list(value: str) -> str | None:
    parsed = json.loads(value)
    if not isinstance(parsed, list):
        raise ValueError("not a list")
    return parameters_problem(parsed)


def json_object(
    name: str,
    nullable: bool = False,
    check: Callable[[dict[str, Any]], str | None] | None = None,
    says: str = "a JSON object",
) -> Column:
    """A JSON object as the app reads it back; `check`, if given, judges it."""

    def read(value: str) -> str | None:
        parsed = json.loads(value)
        if not isinstance(parsed, dict):
            raise ValueError("not an object")
        return check(parsed) if check is not None else None

    return Column(name, says, "typeof({c}) != 'text'", check=read, nullable=nullable)


def demo_id(name: str, nullable: bool = False) -> Column:
    """The id of a demo, as a card's demo link or a prediction names it ('' or null: none)."""
    return text(
        name,
        blank=nullable,
        nullable=nullable,
        check=lambda value: demo_id_problem(value) if value else None,
        says="a demo id",
    )


def demo_params(name: str, nullable: bool = False) -> Column:
    return json_object(name, nullable, demo_params_problem, says="a JSON object of demo parameters")


def _stored_deck_name(name: str) -> str | None:
    """A deck name as the app keeps it: one every import reads back as itself (imports strip
    the spaces at either end of a name)."""
    if name != name.strip():
        return "it has spaces at one end, which an import would take off"
    return deck_name_problem(name)


def _bundled_name(kind: str, name: str) -> str | None:
    """A deleted bundled card is named by its id, a bundled deck by its name."""
    if kind == "deleted_card":
        return _filled(name)
    return deck_name_problem(name)


EASE = f"an ease in hundredths from {MIN_EASE_CENTS} to {MAX_EASE_CENTS}"
INTERVAL = f"an interval from 0 to {MAX_INTERVAL} days"


def _state(suffix: str = "") -> list[Column]:
    """A card's scheduling state: on the card, or before or after a review; within the
    bounds the JSON backup's import and the scheduler keep (`SM2State.check`)."""
    ease, interval = ("ease_cents", "interval") if not suffix else ("ease", "interval")
    return [
        integer(f"{ease}{suffix}", MIN_EASE_CENTS, MAX_EASE_CENTS, says=EASE),
        integer(f"{interval}{suffix}", 0, MAX_INTERVAL, says=INTERVAL),
        integer(f"repetitions{suffix}", 0, MAX_COUNT),
        integer(f"lapses{suffix}", 0, MAX_COUNT),
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
        text("name", blank=False, check=_stored_deck_name, says="a deck name"),
        text("description"),
        setting("new_per_day"),
        setting("reviews_per_day"),
        setting("day_start_hour", says="an hour from 0 to 23"),
        moment("created_at"),
        setting("scheduler"),
        setting("desired_retention"),
        parameter_list("fsrs_params"),
    ],
    "cards": [
        integer("id", 1),
        text("uid", blank=False, check=card_uid_problem, says="a card id"),
        integer("deck_id", 1),
        integer("position", -MAX_INT),
        text("front", blank=False),
        text("back"),
        text("tags"),
        text("source"),
        text("content_key"),
        demo_id("demo_id", nullable=True),
        demo_params("demo_params", nullable=True),
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
        integer("duration_ms", 0, MAX_REVIEW_MS),
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
        demo_id("demo_id"),
        demo_params("params"),
        integer("seed", 0, MAX_SEED),
        text(
            "question_id",
            blank=False,
            check=lambda value: question_id_problem(value.strip()),
            says="a question id",
        ),
        text("question"),
        text("chosen", blank=False),
        text("answer", nullable=True),
        text("why", nullable=True),
        boolean("correct", nullable=True),
        moment("at"),
    ],
}
# What the JSON backup's import asks of values taken together.
ROW_RULES: dict[str, list[RowRule]] = {
    "cards": [_memory_together("stability", "difficulty")],
    "reviews": [
        _memory_together("stability_before", "difficulty_before"),
        _memory_together("stability_after", "difficulty_after"),
    ],
    "bundled_changes": [
        RowRule("bundled", "a bundled card id or deck name", ("kind", "bundled"), _bundled_name),
        RowRule(
            "current",
            "a deck name",
            ("current",),
            lambda current: deck_name_problem(current) if current is not None else None,
        ),
    ],
    "predictions": [
        RowRule(
            "correct",
            "the grade of its answer",
            ("chosen", "answer", "correct"),
            lambda chosen, answer, correct: grade_problem(
                chosen, answer, None if correct is None else bool(correct)
            ),
        ),
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
        _check_text(conn, table, [column for column in columns if column.text])
        _check_values(conn, table, columns)
        _check_together(conn, table, ROW_RULES.get(table, ()))


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
    value = _value(conn, table, column, rowid)
    raise InvalidCollection(
        f"table {table}, row {rowid}, column {column}: {value!r} is no row of table {parent}"
    )


def _check_rows(conn: sqlite3.Connection, table: str, columns: Sequence[Column]) -> None:
    """Every value of `columns` in `table`, in one pass in SQL."""
    anything_wrong = " OR ".join(column.condition() for column in columns)
    row = conn.execute(
        f'SELECT rowid FROM "{table}" WHERE {anything_wrong} ORDER BY rowid LIMIT 1'
    ).fetchone()
    if row is None:
        return
    for column in columns:
        bad = conn.execute(
            f'SELECT 1 FROM "{table}" WHERE rowid = ? AND {column.condition()}', row
        ).fetchone()
        if bad is not None:
            raise _wrong(table, column, row[0], _value(conn, table, column.name, row[0]))


def _check_text(conn: sqlite3.Connection, table: str, columns: Sequence[Column]) -> None:
    """The text of `columns` is UTF-8 and holds only what text the app keeps may hold.

    Each column's values in a range of rows are read joined by a newline, which is UTF-8
    and passes `text_problem` exactly when each of them does: 100,000 cards take about a
    tenth of a second. Only a range with something wrong is read row by row.
    """
    if not columns:
        return
    joined = ", ".join(
        f'CAST(group_concat("{column.name}", char(10)) AS BLOB)' for column in columns
    )
    batch = f'SELECT {joined} FROM "{table}" WHERE rowid BETWEEN ? AND ?'
    following = f'SELECT min(rowid) FROM "{table}" WHERE rowid > ?'
    (low,) = conn.execute(f'SELECT min(rowid) FROM "{table}"').fetchone()
    while low is not None:
        high = min(low + TEXT_CHUNK - 1, MAX_ROWID)
        texts = conn.execute(batch, (low, high)).fetchone()
        if any(value is not None and _text_problem(value) for value in texts):
            _find_text(conn, table, columns, low, high)
        (low,) = conn.execute(following, (high,)).fetchone() if high < MAX_ROWID else (None,)


def _find_text(
    conn: sqlite3.Connection, table: str, columns: Sequence[Column], low: int, high: int
) -> None:
    """Raise InvalidCollection for the first text of rows `low` to `high` that is not UTF-8
    or holds what no text the app keeps may hold."""
    names = ", ".join(f'CAST("{column.name}" AS BLOB)' for column in columns)
    for rowid, *values in conn.execute(
        f'SELECT rowid, {names} FROM "{table}" WHERE rowid BETWEEN ? AND ? ORDER BY rowid',
        (low, high),
    ):
        for column, value in zip(columns, values, strict=True):
            problem = _text_problem(value) if value is not None else None
            if problem is not None:
                raise _not_text(table, column.name, rowid, value, problem)
    raise AssertionError("a range of text was wrong but none of its rows")  # pragma: no cover


def _not_text(table: str, column: str, rowid: int, value: bytes, problem: str) -> InvalidCollection:
    shown: object = value
    with contextlib.suppress(UnicodeDecodeError):
        shown = value.decode()
    return _invalid(table, column, rowid, shown, "text", problem)


def _text_problem(value: bytes) -> str | None:
    """Why bytes read from a text column are not text the app keeps, or None."""
    try:
        text = value.decode()  # strictly: a lone surrogate's bytes are no UTF-8 either
    except UnicodeDecodeError:
        return "it is not UTF-8"
    problem = text_problem(text)
    return None if problem is None else f"it {problem}"


def _check_values(conn: sqlite3.Connection, table: str, columns: Sequence[Column]) -> None:
    """The values SQL cannot judge, read as the app reads them (text, as UTF-8)."""
    for column in columns:
        if column.check is None:
            continue
        unsure = column.unsure.format(c=f'"{column.name}"')
        c = f'"{column.name}"'
        for rowid, value in conn.execute(
            f"SELECT rowid, CASE typeof({c}) WHEN 'text' THEN CAST({c} AS BLOB) ELSE {c} END"
            f' FROM "{table}" WHERE {c} IS NOT NULL AND ({unsure}) ORDER BY rowid'
        ):
            if isinstance(value, bytes):
                try:
                    value = value.decode()
                except UnicodeDecodeError:
                    raise _not_text(table, column.name, rowid, value, "it is not UTF-8") from None
            try:
                problem = column.check(value)
            except (ValueError, TypeError, RecursionError):
                raise _wrong(table, column, rowid, value) from None
            if problem is not None:
                raise _wrong(table, column, rowid, value, problem)


def _check_together(conn: sqlite3.Connection, table: str, rules: Sequence[RowRule]) -> None:
    for rule in rules:
        reads = ", ".join(f'"{name}"' for name in (rule.column, *rule.reads))
        for rowid, value, *values in conn.execute(
            f'SELECT rowid, {reads} FROM "{table}" WHERE {rule.suspect} ORDER BY rowid'
        ):
            problem = rule.check(*values)
            if problem is not None:
                raise _invalid(table, rule.column, rowid, value, rule.says, problem)


def _value(conn: sqlite3.Connection, table: str, column: str, rowid: int) -> object:
    """A value to quote: text as text, or as its bytes where they are not UTF-8."""
    kind, value = conn.execute(
        f'SELECT typeof("{column}"), CASE typeof("{column}") WHEN \'text\''
        f' THEN CAST("{column}" AS BLOB) ELSE "{column}" END FROM "{table}" WHERE rowid = ?',
        (rowid,),
    ).fetchone()
    if kind == "text":
        with contextlib.suppress(UnicodeDecodeError):
            return value.decode()
    return value


def _wrong(
    table: str, column: Column, rowid: int, value: object, problem: str | None = None
) -> InvalidCollection:
    return _invalid(table, column.name, rowid, value, column.says, problem)


def _invalid(
    table: str, column: str, rowid: int, value: object, says: str, problem: str | None = None
) -> InvalidCollection:
    """The message for a wrong value: where it is, what it is, what it should be and why."""
    shown = repr(value)
    if len(shown) > VALUE_SHOWN:
        shown = shown[: VALUE_SHOWN - 1] + "…"
    reason = f": {problem}" if problem else ""
    return InvalidCollection(
        f"table {table}, row {rowid}, column {column}: {shown} is not {says}{reason}"
    )
