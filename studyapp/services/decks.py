"""Decks: the counts the home screen and `studyapp decks` show, per-deck settings, and making,
renaming and deleting decks."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from studyapp.clock import Clock, system_clock
from studyapp.db import Store
from studyapp.db import repository as repo
from studyapp.db.models import CardRow, DeckRow, ReviewRow
from studyapp.errors import NoSuchDeckError, UserError
from studyapp.model import (
    DECK_SETTINGS,
    SCHEDULER_SETTINGS,
    Deck,
    DeckCounts,
    DeckSettings,
    deck_name_problem,
)
from studyapp.services.bundled_files import BUNDLED_DIR
from studyapp.services.overview import deck_counts
from studyapp.services.scheduler import SwitchReport, switch


@dataclass(frozen=True)
class DeckDetail:
    """A deck with its settings and today's counts: what `studyapp deck NAME` shows."""

    deck: Deck
    counts: DeckCounts

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.counts.to_dict(),
            "suspended": self.counts.suspended,
            "description": self.deck.description,
            "settings": self.deck.settings.to_dict(),
            "fsrs_parameters": "fitted"
            if self.deck.settings.fsrs_params is not None
            else "default",
        }


@dataclass(frozen=True)
class SettingsSaved:
    """A deck with its new settings, and what switching its scheduler did (None when neither
    the scheduler nor the desired retention was given)."""

    deck: Deck
    switch: SwitchReport | None = None


@dataclass(frozen=True)
class DeckDeleted:
    """A deleted deck: how many cards and reviews went with it, and where the backup is."""

    name: str
    cards: int
    reviews: int
    backup: Path | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "deleted": self.name,
            "cards": self.cards,
            "reviews": self.reviews,
            "backup": str(self.backup) if self.backup else None,
        }


def no_deck(name: str) -> UserError:
    return NoSuchDeckError(name)


def clean_name(name: str) -> str:
    """A deck name as it is kept (stripped); UserError if no deck can have it."""
    clean = name.strip()
    problem = deck_name_problem(clean)
    if problem is not None:
        raise UserError(problem)
    return clean


class DeckService:
    def __init__(
        self, store: Store, clock: Clock = system_clock, bundled_dir: Path | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        self.bundled_dir = bundled_dir or BUNDLED_DIR

    def list(self) -> list[Deck]:
        with self.store.read() as session:
            return [repo.to_deck(row) for row in repo.decks(session)]

    def get(self, name: str) -> Deck:
        with self.store.read() as session:
            row = repo.deck_by_name(session, name)
            if row is None:
                raise no_deck(name)
            return repo.to_deck(row)

    def detail(self, name: str) -> DeckDetail:
        deck = self.get(name)
        counts = next(c for c in self.counts() if c.name == deck.name)
        return DeckDetail(deck, counts)

    def create(self, name: str, settings: DeckSettings | None = None) -> Deck:
        """A new, empty deck; a name a deck already has is refused."""
        clean = clean_name(name)
        problem = settings.problem() if settings is not None else None
        if problem is not None:
            raise UserError(problem)
        with self.store.write() as session:
            existing = repo.deck_by_name(session, clean)
            if existing is not None:
                raise UserError(f"there is already a deck named {existing.name!r}")
            row = repo.ensure_deck(session, clean, self.clock())
            if settings is not None:
                _set_settings(row, settings)
            return repo.to_deck(row)

    def counts(self) -> list[DeckCounts]:
        """Every deck's counts, by name (see `DeckCounts`)."""
        with self.store.reading() as rows:
            return deck_counts(rows, self.clock)

    def has_cards(self) -> bool:
        """Whether the collection holds any card at all (one indexed lookup)."""
        with self.store.read() as session:
            return session.scalar(select(CardRow.id).limit(1)) is not None

    def update_settings(
        self, name: str, shown: DeckSettings | None = None, **changes: int | float | str
    ) -> SettingsSaved:
        """Change a deck's settings (`DECK_SETTINGS` names them) in one unit of work; bad
        values are refused with nothing changed, and the settings not named are left as they
        are. A deck switched to FSRS gives its cards their memory state
        (`services.scheduler.switch`).

        `shown` are the settings as a form showed them: a change is refused (nothing saved)
        when the setting it changes was changed since by someone else, whose change it
        would undo.
        """
        with self.store.write() as session:
            row = repo.deck_by_name(session, name)
            if row is None:
                raise no_deck(name)
            current = repo.to_deck(row).settings
            if shown is not None:
                changed = [
                    setting.label.lower()
                    for setting in DECK_SETTINGS
                    if setting.name in changes
                    and getattr(current, setting.name) != getattr(shown, setting.name)
                ]
                if changed:
                    raise UserError(
                        f"{' and '.join(changed)} changed since the options were opened (in "
                        "another window or on the command line); nothing was saved: open "
                        "them again to see the change"
                    )
            settings = replace(current, **changes)
            problem = settings.problem()
            if problem is not None:
                raise UserError(problem)
            for setting in DECK_SETTINGS:
                if setting.name in changes and setting.name not in SCHEDULER_SETTINGS:
                    setattr(row, setting.name, getattr(settings, setting.name))
            report = None
            if any(key in changes for key in SCHEDULER_SETTINGS):
                scheduler = changes.get("scheduler")
                retention = changes.get("desired_retention")
                report = switch(
                    session,
                    row,
                    str(scheduler) if scheduler is not None else None,
                    float(retention) if retention is not None else None,
                )
            return SettingsSaved(repo.to_deck(row), report)

    def rename(self, name: str, new_name: str) -> Deck:
        """Give a deck another name; its cards, history and settings stay. A bundled deck keeps
        the name given here when the bundled deck is brought up to date."""
        clean = clean_name(new_name)
        from studyapp.services.bundled_changes import note_deck_renamed, shipped

        bundled = shipped(self.bundled_dir)
        with self.store.write() as session:
            row = repo.deck_by_name(session, name)
            if row is None:
                raise no_deck(name)
            if clean == row.name:
                return repo.to_deck(row)
            existing = repo.deck_by_name(session, clean)
            if existing is not None and existing.id != row.id:  # a change of case is a rename
                raise UserError(f"there is already a deck named {existing.name!r}")
            old = row.name
            row.name = clean
            session.flush()
            note_deck_renamed(session, old, clean, bundled)
            return repo.to_deck(row)

    def delete(self, name: str) -> DeckDeleted:
        """Delete a deck with its cards and their review history, after a backup. A bundled
        deck deleted here stays deleted when the bundled deck is brought up to date."""
        from studyapp.services.bundled_changes import note_deck_deleted, shipped

        bundled = shipped(self.bundled_dir)
        with self.store.write() as session:
            row = repo.deck_by_name(session, name)
            if row is None:
                raise no_deck(name)
            in_deck = select(CardRow.id).where(CardRow.deck_id == row.id)
            uids = list(session.scalars(select(CardRow.uid).where(CardRow.deck_id == row.id)))
            reviews = session.scalar(
                select(func.count()).select_from(ReviewRow).where(ReviewRow.card_id.in_(in_deck))
            )
            from studyapp.services.server_backups import backup_before

            backup = backup_before(self.store, "delete")
            session.execute(delete(ReviewRow).where(ReviewRow.card_id.in_(in_deck)))
            session.execute(delete(CardRow).where(CardRow.deck_id == row.id))
            session.execute(delete(DeckRow).where(DeckRow.id == row.id))
            session.expunge(row)
            note_deck_deleted(session, name, uids, bundled)
        return DeckDeleted(name, len(uids), reviews or 0, backup)


def _set_settings(row: DeckRow, settings: DeckSettings) -> None:
    for setting in DECK_SETTINGS:
        setattr(row, setting.name, getattr(settings, setting.name))
