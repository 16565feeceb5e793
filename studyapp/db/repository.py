"""Queries and the mapping between rows and the plain values of `studyapp.model`.

Services call these inside a unit of work (`store.read()` / `store.write()`); what they hand
back up is always a frozen value, never a row.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import secrets
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from studyapp.db.models import CardRow, DeckRow, ReviewRow
from studyapp.db.reads import (
    CARD_COLUMN_NAMES,
    Rows,
    card_from_row,
    demo_from_db,
    memory_from_db,
    params_from_db,
    study_card,
    tags_from_db,
)
from studyapp.errors import UserError
from studyapp.model import (
    DECK_SETTINGS,
    Card,
    Deck,
    DeckSettings,
    DemoLink,
    Review,
    deck_name_problem,
    named_alike,
    normalize_tags,
)
from studyapp.scheduling import SM2State
from studyapp.scheduling.fsrs import FSRSMemory
from studyapp.sqlite_rows import Shared, bound_limit_of
from studyapp.sqlite_rows import insert_columns as insert_many


def utc_naive(moment: datetime) -> datetime:
    """How times are stored: UTC without a zone (portable across databases)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def aware(stored: datetime) -> datetime:
    return stored.replace(tzinfo=UTC)


def new_uid() -> str:
    """A fresh card id: 60 random bits, enough for any collection."""
    return f"c{secrets.token_hex(8)[:15]}"


class UidSequence:
    """Fresh card ids for one batch: a random 40-bit prefix and a counter.

    Ids that follow each other go into the unique index in order, which keeps a large
    import from writing all over the index; the random prefix keeps batches apart. Call it
    for one id, or iterate over it (`next(ids)` costs no Python call per id).
    """

    def __init__(self) -> None:
        prefix = f"c{secrets.token_hex(5)}"
        self._ids = map(f"{prefix}{{:06x}}".format, itertools.count(1))

    def __call__(self) -> str:
        return next(self._ids)

    def __iter__(self) -> Iterator[str]:
        return self._ids


def content_key(front: str, back: str) -> str:
    """A key for matching cards by content when a file carries no ids of its own.

    Keys are stored with the cards, so this must never change: the SHA-256 of the text with
    its whitespace collapsed, case-folded. Text already in that form (no whitespace but
    single inner spaces, which `isprintable` tells for the rest) is not split and joined
    again: an import computes one key per card.
    """
    if not (front.isprintable() and "  " not in front and front[:1] != " " != front[-1:]):
        front = " ".join(front.split())
    if not (back.isprintable() and "  " not in back and back[:1] != " " != back[-1:]):
        back = " ".join(back.split())
    return _sha256(f"{front}\x1f{back}".casefold().encode()).hexdigest()[:32]


_sha256 = hashlib.sha256


def tags_to_db(tags: Iterable[str]) -> str:
    clean = normalize_tags(tags)
    return f" {' '.join(clean)} " if clean else " "


def demo_to_db(demo: DemoLink | None) -> tuple[str | None, str | None]:
    if demo is None:
        return None, None
    return demo.id, json.dumps(dict(demo.params), sort_keys=True)


# --- scheduling state -----------------------------------------------------------------------


def state_of(row: CardRow) -> SM2State:
    return SM2State(
        ease=row.ease_cents / 100,
        repetitions=row.repetitions,
        interval=row.interval,
        due=row.due,
        lapses=row.lapses,
    )


def _before(row: ReviewRow) -> SM2State:
    return SM2State(
        ease=row.ease_before / 100,
        repetitions=row.repetitions_before,
        interval=row.interval_before,
        due=row.due_before,
        lapses=row.lapses_before,
    )


def _after(row: ReviewRow) -> SM2State:
    return SM2State(
        ease=row.ease_after / 100,
        repetitions=row.repetitions_after,
        interval=row.interval_after,
        due=row.due_after,
        lapses=row.lapses_after,
    )


def params_to_db(params: Sequence[float] | None) -> str | None:
    return json.dumps(list(params)) if params is not None else None


def memory_values(memory: FSRSMemory | None, suffix: str = "") -> dict[str, float | None]:
    """An FSRS memory state as the columns that hold it (on a card, or `_before`/`_after`)."""
    return {
        f"stability{suffix}": memory.stability if memory else None,
        f"difficulty{suffix}": memory.difficulty if memory else None,
    }


def review_values(
    card_id: int,
    at: datetime,
    study_day: date,
    rating: int,
    duration_ms: int,
    kind: str,
    before: SM2State,
    after: SM2State,
    memory_before: FSRSMemory | None = None,
    memory_after: FSRSMemory | None = None,
    imported: bool = False,
) -> dict[str, Any]:
    """A review log row as plain column values (for bulk inserts)."""
    return {
        **memory_values(memory_before, "_before"),
        **memory_values(memory_after, "_after"),
        "imported": imported,
        "card_id": card_id,
        "at": utc_naive(at),
        "study_day": study_day,
        "rating": rating,
        "duration_ms": duration_ms,
        "kind": kind,
        "ease_before": before.ease_cents,
        "interval_before": before.interval,
        "repetitions_before": before.repetitions,
        "lapses_before": before.lapses,
        "due_before": before.due,
        "ease_after": after.ease_cents,
        "interval_after": after.interval,
        "repetitions_after": after.repetitions,
        "lapses_after": after.lapses,
        "due_after": after.due,
    }


def to_review(row: ReviewRow) -> Review:
    return Review(
        id=row.id,
        card_id=row.card_id,
        at=aware(row.at),
        study_day=row.study_day,
        rating=row.rating,
        duration_ms=row.duration_ms,
        kind=row.kind,
        before=_before(row),
        after=_after(row),
        memory_before=memory_from_db(row.stability_before, row.difficulty_before),
        memory_after=memory_from_db(row.stability_after, row.difficulty_after),
        imported=row.imported,
    )


# --- decks and cards ------------------------------------------------------------------------


def to_deck(row: DeckRow) -> Deck:
    return Deck(
        id=row.id,
        name=row.name,
        description=row.description,
        settings=DeckSettings(
            **{s.name: getattr(row, s.name) for s in DECK_SETTINGS},
            fsrs_params=params_from_db(row.fsrs_params),
        ),
    )


def to_card(row: CardRow, deck_name: str) -> Card:
    return Card(
        id=row.id,
        uid=row.uid,
        deck=deck_name,
        front=row.front,
        back=row.back,
        tags=tags_from_db(row.tags),
        source=row.source,
        demo=demo_from_db(row.demo_id, row.demo_params),
        state=state_of(row),
        suspended=row.suspended,
        buried_until=row.buried_until,
        position=row.position,
        memory=memory_from_db(row.stability, row.difficulty),
    )


def decks(session: Session) -> list[DeckRow]:
    return list(session.scalars(select(DeckRow).order_by(DeckRow.name)))


def deck_by_name(session: Session, name: str) -> DeckRow | None:
    """The deck called `name`, or else the one deck whose name differs only in letter case
    ("optimizers" finds "Optimizers"), or None."""
    found = session.scalar(select(DeckRow).where(DeckRow.name == name))
    if found is not None:
        return found
    rows = {row.name: row for row in decks(session)}
    alike = named_alike(rows, name)
    return rows[alike] if alike is not None else None


def ensure_deck(session: Session, name: str, now: datetime) -> DeckRow:
    """The deck called `name` (stripped), made if missing; a name no deck can have is a
    UserError (see `deck_name_problem`)."""
    name = name.strip()
    row = deck_by_name(session, name)
    if row is None:
        problem = deck_name_problem(name)
        if problem is not None:
            raise UserError(problem)
        row = add_deck(session, name, now)
    return row


def add_deck(session: Session, name: str, now: datetime) -> DeckRow:
    """A new deck called `name` (a name `deck_name_problem` accepts), with default settings."""
    row = DeckRow(name=name, description="", created_at=utc_naive(now), **DeckSettings().to_dict())
    session.add(row)
    session.flush()
    return row


def card_by_id(session: Session, card_id: int) -> tuple[CardRow, DeckRow] | None:
    row = session.execute(
        select(CardRow, DeckRow).join(DeckRow).where(CardRow.id == card_id)
    ).first()
    return (row[0], row[1]) if row else None


# A card's columns in the order `card_from_row` reads them.
CARD_COLUMNS = tuple(getattr(CardRow, name) for name in CARD_COLUMN_NAMES)


def deck_cards(session: Session, deck_id: int, deck_name: str) -> list[Card]:
    """Every card of a deck in deck order, as plain values."""
    rows = session.connection().execute(
        select(*CARD_COLUMNS)
        .where(CardRow.deck_id == deck_id)
        .order_by(CardRow.position, CardRow.id)
    )
    return [card_from_row(row, deck_name) for row in rows]


# The study session's statements are built once: building a statement costs more than
# running it, and a rating must be committed and the next card read within milliseconds.
_INSERT_REVIEW = insert(ReviewRow.__table__)
_DELETE_REVIEW = delete(ReviewRow.__table__).where(ReviewRow.id == bindparam("review_id"))


@functools.lru_cache(maxsize=32)
def _update_card_statement(columns: tuple[str, ...]) -> Any:
    return (
        update(CardRow.__table__)
        .where(CardRow.id == bindparam("card_id_"))
        .values({name: bindparam(name) for name in columns})
    )


def state_values(state: SM2State) -> dict[str, Any]:
    """A scheduling state as the card columns that hold it."""
    return {
        "ease_cents": state.ease_cents,
        "interval": state.interval,
        "repetitions": state.repetitions,
        "lapses": state.lapses,
        "due": state.due,
    }


def update_card(session: Session, card_id: int, values: Mapping[str, Any]) -> None:
    statement = _update_card_statement(tuple(sorted(values)))
    session.connection().execute(statement, {**values, "card_id_": card_id})


def insert_review(session: Session, values: Mapping[str, Any]) -> Review:
    """Append one entry to the review log; returns it as stored."""
    result = session.connection().execute(_INSERT_REVIEW, dict(values))
    return _stored_review(result.inserted_primary_key[0], values)


def record_rating(
    session: Session, card_id: int, card_values: Mapping[str, Any], values: Mapping[str, Any]
) -> Review:
    """Store a rating: the card's new `card_values` and its review log entry `values`;
    returns the entry as stored. On a server the two go as one statement (one round trip)."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        update_card(session, card_id, card_values)
        return insert_review(session, values)
    statement = _rating_statement(tuple(sorted(card_values)))
    result = connection.execute(statement, {**card_values, "card_id_": card_id, **values})
    return _stored_review(result.scalar_one(), values)


@functools.lru_cache(maxsize=8)
def _rating_statement(columns: tuple[str, ...]) -> Any:
    """The review log's insert with the card's update as a CTE (PostgreSQL)."""
    reviews = ReviewRow.__table__
    card = _update_card_statement(columns).cte("rated_card")
    return insert(reviews).add_cte(card).returning(reviews.c.id)


def _stored_review(review_id: int, values: Mapping[str, Any]) -> Review:
    return Review(
        id=review_id,
        card_id=values["card_id"],
        at=aware(values["at"]),
        study_day=values["study_day"],
        rating=values["rating"],
        duration_ms=values["duration_ms"],
        kind=values["kind"],
        before=SM2State(
            values["ease_before"] / 100,
            values["repetitions_before"],
            values["interval_before"],
            values["due_before"],
            values["lapses_before"],
        ),
        after=SM2State(
            values["ease_after"] / 100,
            values["repetitions_after"],
            values["interval_after"],
            values["due_after"],
            values["lapses_after"],
        ),
        memory_before=memory_from_db(values["stability_before"], values["difficulty_before"]),
        memory_after=memory_from_db(values["stability_after"], values["difficulty_after"]),
        imported=values["imported"],
    )


def delete_review(session: Session, review_id: int) -> None:
    session.connection().execute(_DELETE_REVIEW, {"review_id": review_id})


def rehearse_rating(session: Session, rows: Rows) -> None:
    """Run the statements of a rating once, on a card of the collection if it has one.

    For a unit of work that the caller rolls back: SQLAlchemy compiles a statement on its
    first use (about 10 ms for a rating's, on the first rating otherwise), and the driver
    prepares each SQL text once per connection. Nothing is left changed.
    """
    found = rows("SELECT id FROM cards ORDER BY id LIMIT 1", {})
    card_id = found[0][0] if found else 0  # no card has id 0: the statements change nothing
    study_card(rows, card_id)
    day = datetime.now(UTC).date()
    state = SM2State.new()
    values = state_values(state) | memory_values(None)  # the columns of SM-2 and FSRS alike
    update_card(session, card_id, values)
    update_card(session, card_id, {**values, "tags": " "})  # a rating that adds the leech tag
    if found:
        now = datetime.now(UTC)
        review = review_values(card_id, now, day, 4, 0, "new", state, state)
        record_rating(session, card_id, values, review)


def next_position(session: Session, deck_id: int) -> int:
    top = session.scalar(select(func.max(CardRow.position)).where(CardRow.deck_id == deck_id))
    return (top or 0) + 1


def count_if(condition: Any) -> Any:
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END), 0 over no rows: a portable conditional count."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def available(today: date) -> Any:
    """Cards that can be studied today: not suspended and not buried past today."""
    return and_(
        CardRow.suspended.is_(False),
        or_(CardRow.buried_until.is_(None), CardRow.buried_until <= today),
    )


def reviews_of(session: Session, card_id: int) -> list[Review]:
    rows = session.scalars(
        select(ReviewRow).where(ReviewRow.card_id == card_id).order_by(ReviewRow.id)
    )
    return [to_review(r) for r in rows]


def stored_review(session: Session, card_id: int, at: datetime, rating: int) -> Review | None:
    """The review of `card_id` logged at `at` with `rating`, if it is in the log."""
    row = session.scalar(
        select(ReviewRow)
        .where(
            ReviewRow.card_id == card_id,
            ReviewRow.at == utc_naive(at),
            ReviewRow.rating == rating,
        )
        .limit(1)
    )
    return to_review(row) if row is not None else None


def driver_values(session: Session, table: Table, names: Sequence[str]) -> list[Any]:
    """Each named column's conversion of a Python value to what the driver stores (None when
    the value goes as it is), as an ORM insert would apply it."""
    dialect = session.connection().dialect
    return [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]


def insert_columns(
    session: Session,
    table: Table,
    names: Sequence[str],
    columns: Sequence[Sequence[Any]],
    shared: Mapping[str, Any] | None = None,
) -> None:
    """Insert rows given as columns of driver values (one per name of `names`, each with a
    value for every row): on SQLite as statements of a thousand rows each (see
    `studyapp.sqlite_rows`), elsewhere as one executemany. An import of 100,000 cards
    spends its time in the database, not in building parameters. `driver_values` gives the
    conversions the values must have had.

    `shared` holds driver values every row has alike (the deck, a new card's state, the
    import time): SQLite binds each once a statement; for a server, plain numbers and
    strings among them are written into the statement once instead of bound per row, which
    takes a third off its insert.
    """
    count = len(columns[0]) if columns else 0
    if not count:
        return
    shared = shared or {}
    connection = session.connection()
    driver = connection.connection.dbapi_connection
    if isinstance(driver, sqlite3.Connection):
        quote = connection.dialect.identifier_preparer.quote
        every = [*names, *shared]
        into = (
            f"INSERT INTO {quote(table.name)} "
            f"({', '.join(quote(table.c[name].name) for name in every)})"
        )
        values = [*columns, *map(Shared, shared.values())]
        insert_many(connection.exec_driver_sql, into, values, bound_limit_of(driver))
        return
    inline = {name: value for name, value in shared.items() if _sql_literal(value)}
    extra = {name: value for name, value in shared.items() if name not in inline}
    bound = [*names, *extra]
    columns = [*columns, *([value] * count for value in extra.values())]
    values_of: dict[str, Any] = {name: bindparam(name) for name in bound}
    values_of.update({name: literal_column(_sql_literal(v)) for name, v in inline.items()})
    compiled = insert(table).values(values_of).compile(dialect=connection.dialect)
    rows = list(zip(*columns, strict=True))
    if not compiled.positional:
        params: list[Any] = [dict(zip(bound, row, strict=True)) for row in rows]
    elif list(compiled.positiontup or bound) != bound:
        order = [bound.index(name) for name in compiled.positiontup or bound]
        params = [tuple(row[i] for i in order) for row in rows]
    else:
        params = rows
    connection.exec_driver_sql(str(compiled), params)


def _sql_literal(value: Any) -> str:
    """`value` as an SQL literal, or "" when it is better bound as a parameter (a string a
    driver might read as a placeholder or an escape, a long one, anything but a number or
    a string)."""
    if value is None:
        return "NULL"
    if type(value) is bool:
        return "TRUE" if value else "FALSE"
    if type(value) is int:
        return str(value)
    if type(value) is str and len(value) <= 200 and not set(value) & _UNSAFE_IN_LITERAL:
        return "'" + value.replace("'", "''") + "'"
    return ""


_UNSAFE_IN_LITERAL = frozenset("\x00%\\")


def bulk_insert(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many rows with the same keys, as `insert_columns` does.

    Values are converted column by column, each distinct value once (the import time, the
    default state), rather than once per row.
    """
    if not rows:
        return
    names = list(rows[0])
    columns: list[list[Any]] = []
    for name, process in zip(names, driver_values(session, table, names), strict=True):
        values = [row[name] for row in rows]
        if process is not None:
            done: dict[Any, Any] = {}
            values = [
                None if v is None else done[v] if v in done else done.setdefault(v, process(v))
                for v in values
            ]
        columns.append(values)
    insert_columns(session, table, names, columns)
