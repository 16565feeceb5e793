"""The `bundled_changes` table: bundled cards and decks the learner deleted or renamed.

Services read and write it inside their unit of work (a deletion and its record land
together); what leaves here is a `BundledChanges` value.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from studyapp.db.models import BundledChangeRow, CardRow, DeckRow
from studyapp.model import BundledChanges

DELETED_CARD = "deleted_card"
DELETED_DECK = "deleted_deck"
RENAMED_DECK = "renamed_deck"


def read(session: Session) -> BundledChanges:
    cards: set[str] = set()
    decks: set[str] = set()
    renamed: dict[str, str] = {}
    for row in session.scalars(select(BundledChangeRow)):
        if row.kind == DELETED_CARD:
            cards.add(row.bundled)
        elif row.kind == DELETED_DECK:
            decks.add(row.bundled)
        elif row.kind == RENAMED_DECK and row.current:
            renamed[row.bundled] = row.current
    return BundledChanges(frozenset(cards), frozenset(decks), renamed)


def in_force(session: Session) -> BundledChanges:
    """The changes recorded, less the deletions the learner has undone since by importing the
    card or deck again (a card with the id, a deck with the name)."""
    changes = read(session)
    back = present_uids(session, changes.deleted_cards)
    decks = set(session.scalars(select(DeckRow.name)))
    return BundledChanges(
        changes.deleted_cards - back, changes.deleted_decks - decks, changes.renamed_decks
    )


def record_deleted_cards(session: Session, uids: Iterable[str]) -> None:
    wanted = set(uids)
    if not wanted:
        return
    known = set(
        session.scalars(
            select(BundledChangeRow.bundled).where(BundledChangeRow.kind == DELETED_CARD)
        )
    )
    session.add_all(BundledChangeRow(kind=DELETED_CARD, bundled=uid) for uid in wanted - known)
    session.flush()


def record_deleted_deck(session: Session, bundled: str) -> None:
    """The bundled deck `bundled` was deleted: it no longer has a name of its own."""
    set_renamed(session, bundled, None)
    if session.get(BundledChangeRow, (DELETED_DECK, bundled)) is None:
        session.add(BundledChangeRow(kind=DELETED_DECK, bundled=bundled))
    session.flush()


def set_renamed(session: Session, bundled: str, current: str | None) -> None:
    """The bundled deck `bundled` is now called `current` (None: by its bundled name)."""
    row = session.get(BundledChangeRow, (RENAMED_DECK, bundled))
    if current is None or current == bundled:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(BundledChangeRow(kind=RENAMED_DECK, bundled=bundled, current=current))
    else:
        row.current = current
    session.flush()


def merge(session: Session, changes: BundledChanges) -> None:
    """Take in the changes a backup carries, as far as they hold in this collection: a card
    or deck it holds is not deleted, and a deck is renamed only to a name it has."""
    present = set(present_uids(session, changes.deleted_cards))
    record_deleted_cards(session, changes.deleted_cards - present)
    decks = set(session.scalars(select(DeckRow.name)))
    for name in sorted(changes.deleted_decks - decks):
        record_deleted_deck(session, name)
    for bundled, current in sorted(changes.renamed_decks.items()):
        if bundled not in changes.deleted_decks and current in decks:
            set_renamed(session, bundled, current)


def present_uids(session: Session, uids: Iterable[str]) -> set[str]:
    """Those of `uids` that are ids of cards in the collection."""
    wanted = sorted(uids)
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(session.scalars(select(CardRow.uid).where(CardRow.uid.in_(chunk))))
    return found
