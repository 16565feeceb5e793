"""Decks: the counts the home screen and `studyapp decks` show, and per-deck settings."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import case, func, select

from studyapp.clock import Clock, system_clock, today
from studyapp.db import Store
from studyapp.db import repository as repo
from studyapp.db.models import CardRow, DeckRow
from studyapp.errors import UserError
from studyapp.model import Deck, DeckCounts
from studyapp.services.study import drilling_today


class DeckService:
    def __init__(self, store: Store, clock: Clock = system_clock) -> None:
        self.store = store
        self.clock = clock

    def list(self) -> list[Deck]:
        with self.store.read() as session:
            return [repo.to_deck(row) for row in repo.decks(session)]

    def get(self, name: str) -> Deck:
        with self.store.read() as session:
            row = repo.deck_by_name(session, name)
            if row is None:
                raise UserError(f"there is no deck named {name!r}; `studyapp decks` lists them")
            return repo.to_deck(row)

    def create(self, name: str) -> Deck:
        clean = name.strip()
        if not clean:
            raise UserError("a deck needs a name")
        with self.store.write() as session:
            return repo.to_deck(repo.ensure_deck(session, clean, self.clock()))

    def counts(self) -> list[DeckCounts]:
        """Total, new, due today and learning (in today's drill) for every deck, by name."""
        with self.store.read() as session:
            return [self._counts(session, row) for row in repo.decks(session)]

    def _counts(self, session, deck: DeckRow) -> DeckCounts:  # type: ignore[no-untyped-def]
        day = today(self.clock, deck.day_start_hour)
        avail = repo.available(day)
        total, new, due, suspended = session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((CardRow.due.is_(None) & avail, 1), else_=0)), 0),
                func.coalesce(func.sum(case(((CardRow.due <= day) & avail, 1), else_=0)), 0),
                func.coalesce(func.sum(case((CardRow.suspended.is_(True), 1), else_=0)), 0),
            ).where(CardRow.deck_id == deck.id)
        ).one()
        learning = len(drilling_today(session, deck.id, day))
        return DeckCounts(deck.name, total, new, due, learning, suspended)

    def update_settings(self, name: str, **changes: int) -> Deck:
        """Change a deck's daily limits or day-start hour; unknown or bad values are refused."""
        settings = replace(self.get(name).settings, **changes)
        if not 0 <= settings.day_start_hour <= 23:
            raise UserError(
                f"the day starts at an hour from 0 to 23, not {settings.day_start_hour}"
            )
        if settings.new_per_day < 0 or settings.reviews_per_day < 0:
            raise UserError("daily limits cannot be negative")
        with self.store.write() as session:
            row = repo.deck_by_name(session, name)
            assert row is not None
            row.new_per_day = settings.new_per_day
            row.reviews_per_day = settings.reviews_per_day
            row.day_start_hour = settings.day_start_hour
            return repo.to_deck(row)
