"""Deleting or renaming a bundled card or deck, so that updates of the bundled deck respect it.

`studyapp init` and the app's first start after an upgrade bring in every bundled card the
collection lacks (`LibraryService.load_bundled`). A card the learner deleted is lacking too,
so each deletion of a bundled card or deck, and each rename of a bundled deck, is recorded
(`studyapp.db.bundled_changes`) in the same unit of work; the update then leaves deleted
cards and decks out and puts a renamed deck's new cards under its new name.

Which cards and decks are bundled is what the bundled files hold now and what any release
shipped (`cards/history.json`): a deck of the learner's own is never recorded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from studyapp.db import bundled_changes as recorded
from studyapp.formats import get_format
from studyapp.formats.base import FormatError
from studyapp.model import BundledChanges
from studyapp.services.bundled import BundledHistory
from studyapp.services.bundled_files import BUNDLED_DIR, deck_files
from studyapp.services.draft_mapping import ParsedFile, key_to_uid


@dataclass(frozen=True)
class Shipped:
    """The ids of every bundled card and the names of every bundled deck."""

    cards: frozenset[str]
    decks: frozenset[str]


def shipped(folder: Path = BUNDLED_DIR) -> Shipped:
    """What the bundled deck in `folder` holds now, and what its releases shipped."""
    history = BundledHistory.read(folder)
    cards = set(history.cards) | set(history.merged) | set(history.merged.values())
    decks = set(history.decks)
    native = get_format("md")
    assert native.parse is not None
    for path in deck_files(folder):
        try:
            result = native.parse(path)
        except FormatError:
            continue  # a broken bundled file holds nothing to record; the update says so
        if result.deck_name:
            decks.add(result.deck_name)
        cards.update(key_to_uid(draft.key) for draft in result.cards if draft.key)
    return Shipped(frozenset(cards), frozenset(decks))


def bundled_name(changes: BundledChanges, shipped: Shipped, deck: str) -> str | None:
    """The bundled name of the deck called `deck` now, or None if it is not a bundled deck."""
    for bundled, now in changes.renamed_decks.items():
        if now == deck:
            return bundled
    taken = deck in changes.renamed_decks or deck in changes.deleted_decks
    return deck if deck in shipped.decks and not taken else None


def note_cards_deleted(session: Session, uids: Iterable[str], shipped: Shipped) -> None:
    recorded.record_deleted_cards(session, (uid for uid in uids if uid in shipped.cards))


def note_deck_renamed(session: Session, old: str, new: str, shipped: Shipped) -> None:
    bundled = bundled_name(recorded.read(session), shipped, old)
    if bundled is not None:
        recorded.set_renamed(session, bundled, new)


def note_deck_deleted(
    session: Session, name: str, card_uids: Iterable[str], shipped: Shipped
) -> None:
    bundled = bundled_name(recorded.read(session), shipped, name)
    if bundled is not None:
        recorded.record_deleted_deck(session, bundled)
    note_cards_deleted(session, card_uids, shipped)


def respected(files: Sequence[ParsedFile], changes: BundledChanges) -> tuple[list[ParsedFile], int]:
    """The bundled deck files as the collection takes them: without the decks and cards the
    learner deleted, each deck under the name the learner gave it; and how many cards were
    left out."""
    out = []
    left_out = 0
    for item in files:
        result = item.result
        name = result.deck_name
        if name is not None and name in changes.deleted_decks:
            left_out += len(result.cards)
            continue
        cards = [
            draft
            for draft in result.cards
            if not (draft.key and key_to_uid(draft.key) in changes.deleted_cards)
        ]
        left_out += len(result.cards) - len(cards)
        now = changes.deck_now(name) if name is not None else None
        kept = dataclasses.replace(result, cards=cards, deck_name=now)
        out.append(ParsedFile(item.path, kept, item.label))
    return out, left_out
