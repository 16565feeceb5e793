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

from studyapp.model import Card, DeckSettings, DemoLink
from studyapp.scheduling import SM2State
from studyapp.scheduling.fsrs import FSRSMemory

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
    "stability",
    "difficulty",
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


def memory_from_db(stability: float | None, difficulty: float | None) -> FSRSMemory | None:
    if stability is None or difficulty is None:
        return None
    return FSRSMemory(float(stability), float(difficulty))


def params_from_db(text: str | None) -> tuple[float, ...] | None:
    """A deck's fitted FSRS parameters, stored as a JSON list (None: the defaults)."""
    if not text:
        return None
    return tuple(float(value) for value in json.loads(text))


def card_from_row(row: Sequence[Any], deck: str) -> Card:
    """A card from a row of the card columns (read without ORM objects)."""
    (cid, uid, front, back, tags, source, demo_id, demo_params) = row[:8]
    (ease, reps, interval, due, lapses, suspended, buried, position) = row[8:16]
    stability, difficulty = row[16:18]
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
        memory=memory_from_db(stability, difficulty),
    )


@dataclass(frozen=True)
class StudyCard:
    """A card read for study: the card, its tags as stored, and its deck's settings (the
    day-start hour and the scheduler among them)."""

    card: Card
    tags_text: str
    settings: DeckSettings
    # The latest study day with a rating that changed the card's schedule (not a same-day
    # repeat), None before its first.
    changed_day: date | None = None

    @property
    def day_start_hour(self) -> int:
        return self.settings.day_start_hour


_STUDY_CARDS = (
    "SELECT "
    + ", ".join(f'c."{name}"' for name in CARD_COLUMN_NAMES)
    + ", d.name, d.new_per_day, d.reviews_per_day, d.day_start_hour, d.scheduler,"
    " d.desired_retention, d.fsrs_params,"
    " (SELECT MAX(r.study_day) FROM reviews AS r"
    "  WHERE r.card_id = c.id AND r.kind <> 'drill') AS changed_day"
    " FROM cards AS c JOIN decks AS d ON d.id = c.deck_id WHERE c.id IN (:card_id, :other_id)"
)


def study_card(rows: Rows, card_id: int) -> StudyCard | None:
    """One card for the study session, in one indexed query."""
    return study_cards(rows, card_id).get(card_id)


def study_cards(rows: Rows, card_id: int, other_id: int | None = None) -> dict[int, StudyCard]:
    """One card, or two, for the study session in one indexed query (a rating reads the card
    it rates and the card that comes next at once: on a server, each query is a round trip),
    by id; a card that no longer exists is left out."""
    other = card_id if other_id is None else other_id
    return study_cards_from(rows(_STUDY_CARDS, {"card_id": card_id, "other_id": other}))


def study_cards_query(card_id: int, other_id: int) -> str:
    """The query of `study_cards` as SQL text with its two ids in it (for a query sent in
    one round trip with others, where parameters cannot go)."""
    ids = {"card_id": str(int(card_id)), "other_id": str(int(other_id))}
    return _STUDY_CARDS.replace(":card_id", ids["card_id"]).replace(":other_id", ids["other_id"])


def study_cards_from(found: Sequence[Sequence[Any]]) -> dict[int, StudyCard]:
    """The cards in rows of the `study_cards` query, by id."""
    out = {}
    for row in found:
        extra = row[len(CARD_COLUMN_NAMES) :]
        deck, new, reviews, hour, scheduler, retention, params, changed = extra
        settings = DeckSettings(
            new_per_day=new,
            reviews_per_day=reviews,
            day_start_hour=hour,
            scheduler=scheduler,
            desired_retention=float(retention),
            fsrs_params=params_from_db(params),
        )
        out[row[0]] = StudyCard(card_from_row(row, deck), row[4], settings, day_of(changed))
    return out


def change_known_on(changed_day: date | None, day: date) -> bool | None:
    """Whether a card whose latest schedule-changing rating was on `changed_day` had it on
    study day `day` (None: a later day holds one, as after the clock was set back, so only a
    query for `day` itself can tell)."""
    if changed_day is None or changed_day < day:
        return False
    return True if changed_day == day else None


def has_cards(rows: Rows) -> bool:
    return bool(rows("SELECT 1 FROM cards LIMIT 1", {}))
