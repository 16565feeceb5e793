"""A collection with a controllable clock, and helpers to fill it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from studyapp.db import Store, open_store
from studyapp.db.models import CardRow
from studyapp.services.cards import CardService

# A fixed zone east of UTC, so a test would notice the study day taken in the wrong zone.
ZONE = timezone(timedelta(hours=2))


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def set_day(self, day: date, hour: int = 10) -> None:
        self.now = datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 10, 0, tzinfo=ZONE))


@pytest.fixture
def store(db: str) -> Iterator[Store]:
    """A fresh collection on each store (SQLite, PostgreSQL)."""
    opened = open_store(db)
    yield opened
    opened.dispose()


def add_cards(store: Store, deck: str, n: int, prefix: str = "q", clock=None) -> list[int]:  # type: ignore[no-untyped-def]
    cards = CardService(store, clock) if clock else CardService(store)
    return [cards.add(deck, f"{prefix}{i}", f"answer {i}").id for i in range(n)]


def make_due(store: Store, card_ids: Iterable[int], due: date, interval: int = 3) -> None:
    """Give cards a review state that falls due on `due` (as if studied before)."""
    with store.write() as session:
        session.execute(
            update(CardRow)
            .where(CardRow.id.in_(list(card_ids)))
            .values(due=due, interval=interval, repetitions=2, ease_cents=250)
        )
