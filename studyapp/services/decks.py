"""Decks: the counts the home screen and `studyapp decks` show, and per-deck settings."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from studyapp.clock import Clock, system_clock
from studyapp.db import Store
from studyapp.db import repository as repo
from studyapp.db.models import CardRow
from studyapp.errors import UserError
from studyapp.model import Deck, DeckCounts
from studyapp.services.overview import deck_counts


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
        """Every deck's counts, by name (see `DeckCounts`)."""
        with self.store.reading() as rows:
            return deck_counts(rows, self.clock)

    def has_cards(self) -> bool:
        """Whether the collection holds any card at all (one indexed lookup)."""
        with self.store.read() as session:
            return session.scalar(select(CardRow.id).limit(1)) is not None

    def update_settings(self, name: str, **changes: int) -> Deck:
        """Change a deck's daily limits or day-start hour; unknown or bad values are refused."""
        settings = replace(self.get(name).settings, **changes)
        problem = settings.problem()
        if problem is not None:
            raise UserError(problem)
        with self.store.write() as session:
            row = repo.deck_by_name(session, name)
            assert row is not None
            row.new_per_day = settings.new_per_day
            row.reviews_per_day = settings.reviews_per_day
            row.day_start_hour = settings.day_start_hour
            return repo.to_deck(row)
