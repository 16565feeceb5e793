"""Reads in plain SQL for the study session: a card as study shows it, and plain row helpers.

They run on anything that answers SQL text with rows (`Rows`): the sqlite3 driver before
SQLAlchemy is loaded, so `studyapp review` paints its first card without waiting for the ORM,
or a SQLAlchemy unit of work, so the next card is read in the same transaction as a rating.
The SQL is portable (named parameters, quoted keywords, dates as ISO text parameters).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from studyapp.model import Card, DemoLink
from studyapp.scheduling import SM2State

Rows = Callable[[str, Mapping[str, Any]], Sequence[Sequence[Any]]]
"""Runs one SQL statement with named parameters and returns its rows."""

# A card's columns in the order `card_from_row` reads them.
CARD_COLUMN_NAMES = (
    "id",
    "uid",
    "front",
    "back",
    "tags",
    "source",
    "demo_id",
    "demo_params",
    "ease_cents",
    "repetitions",
    "interval",
    "due",
    "lapses",
    "suspended",
    "buried_until",
    "position",
)


# Cards that can be studied on the day given as `:day` (for queries on `cards AS c`).
AVAILABLE = "NOT c.suspended AND (c.buried_until IS NULL OR c.buried_until <= :day)"


def day_of(value: date | str | None) -> date | None:
    """A stored day: ISO text from the sqlite3 driver, a date from a typed query."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def tags_from_db(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def demo_from_db(demo_id: str | None, params: str | None) -> DemoLink | None:
    if not demo_id:
        return None
    return DemoLink(demo_id, json.loads(params) if params else {})


def card_from_row(row: Sequence[Any], deck: str) -> Card:
    """A card from a row of the card columns (read without ORM objects)."""
    (cid, uid, front, back, tags, source, demo_id, demo_params) = row[:8]
    (ease, reps, interval, due, lapses, suspended, buried, position) = row[8:16]
    return Card(
        id=cid,
        uid=uid,
        deck=deck,
        front=front,
        back=back,
        tags=tags_from_db(tags),
        source=source,
        demo=demo_from_db(demo_id, demo_params),
        state=SM2State(ease / 100, reps, interval, day_of(due), lapses),
        suspended=bool(suspended),
        buried_until=day_of(buried),
        position=position,
    )


@dataclass(frozen=True)
class StudyCard:
    """A card read for study: the card, its tags as stored, and its deck's day-start hour."""

    card: Card
    tags_text: str
    day_start_hour: int


_STUDY_CARD = (
    "SELECT "
    + ", ".join(f'c."{name}"' for name in CARD_COLUMN_NAMES)
    + ", d.name, d.day_start_hour FROM cards AS c JOIN decks AS d ON d.id = c.deck_id"
    " WHERE c.id = :card_id"
)


def study_card(rows: Rows, card_id: int) -> StudyCard | None:
    """One card for the study session, in one indexed query."""
    found = rows(_STUDY_CARD, {"card_id": card_id})
    if not found:
        return None
    row = found[0]
    deck, hour = row[len(CARD_COLUMN_NAMES) :]
    return StudyCard(card_from_row(row, deck), row[4], hour)


def has_cards(rows: Rows) -> bool:
    return bool(rows("SELECT 1 FROM cards LIMIT 1", {}))
