"""Decks: the counts the home screen and `studyapp decks` show, and per-deck settings."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace

from sqlalchemy import func, select

from studyapp.clock import Clock, system_clock, today
from studyapp.db import Store
from studyapp.db import repository as repo
from studyapp.db.models import CardRow, DeckRow
from studyapp.db.store import rows_in
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
        """Total, new, due today and learning (in today's drill) for every deck, by name.

        One grouped query per distinct day-start hour (usually one), whatever the number of
        decks.
        """
        with self.store.read() as session:
            decks = repo.decks(session)
            by_hour: dict[int, list[DeckRow]] = defaultdict(list)
            for deck in decks:
                by_hour[deck.day_start_hour].append(deck)
            found: dict[int, tuple[int, int, int, int]] = {}
            learning: Counter[int] = Counter()
            for hour, group in by_hour.items():
                day = today(self.clock, hour)
                ids = {d.id for d in group}
                avail = repo.available(day)
                rows = session.execute(
                    select(
                        CardRow.deck_id,
                        func.count(),
                        repo.count_if(CardRow.due.is_(None) & avail),
                        repo.count_if((CardRow.due <= day) & avail),
                        repo.count_if(CardRow.suspended.is_(True)),
                    )
                    .where(CardRow.deck_id.in_(ids))
                    .group_by(CardRow.deck_id)
                )
                for deck_id, *numbers in rows:
                    found[deck_id] = tuple(int(n) for n in numbers)  # type: ignore[assignment]
                drilling = drilling_today(rows_in(session), day)
                learning.update(deck_id for deck_id, _ in drilling if deck_id in ids)
            out = []
            for deck in decks:
                total, new, due, suspended = found.get(deck.id, (0, 0, 0, 0))
                out.append(DeckCounts(deck.name, total, new, due, learning[deck.id], suspended))
            return out

    def has_cards(self) -> bool:
        """Whether the collection holds any card at all (one indexed lookup)."""
        with self.store.read() as session:
            return session.scalar(select(CardRow.id).limit(1)) is not None

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
