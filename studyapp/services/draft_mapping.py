"""Mapping card drafts onto the collection: the matching rules of an import, in one place.

A draft with a key (native id, JSON id, Anki key) matches the card with that uid anywhere in
the collection, or else a card of its target deck with the same content; a draft without one
matches within its target deck by content, then by an identical front (when exactly one card
has it). Anything unmatched is added at the end of its deck. A match updates the card's
content in place, only the fields the file's format carries, and never its scheduling state
or history; a backup's state, history and deck settings apply to the cards and decks it adds.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from studyapp.db import repository as repo
from studyapp.db.models import CardRow, DeckRow
from studyapp.formats.base import OPTIONAL_FIELDS, CardDraft, DeckDraft, ParseResult, Skipped
from studyapp.model import DeckSettings, normalize_tags
from studyapp.scheduling import SM2State

_UID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


@dataclass
class ImportReport:
    """What an import did (or, on a dry run, would do)."""

    format: str
    deck: str | None
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "deck": self.deck,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": [s.to_dict() for s in self.skipped],
            "warnings": list(self.warnings),
        }


def key_to_uid(key: str) -> str:
    """The card uid for a file's key: the key itself when it is a valid id, else a stable
    readable stand-in (so Anki guids such as `a+B/c` still give deck-file ids)."""
    clean = key.strip()
    if _UID.fullmatch(clean):
        return clean
    digest = hashlib.sha256(clean.encode("utf-8")).hexdigest()[:12]
    readable = re.sub(r"[^A-Za-z0-9._:-]+", "-", clean).strip("-._:")[:100]
    return f"{readable}-{digest}" if readable else f"k-{digest}"


def clean_text(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass
class ParsedFile:
    """A file read by its format, and how the report names it."""

    path: Path
    result: ParseResult
    label: str  # how report entries name the file ("" when there is only one)

    def where(self, where: str) -> str:
        if not self.label:
            return where
        return f"{self.label}, {where}" if where else self.label


class DeckCards:
    """A deck's cards, indexed for matching drafts without keys."""

    def __init__(self, session: Session, deck: DeckRow) -> None:
        self.row = deck
        cards = session.scalars(select(CardRow).where(CardRow.deck_id == deck.id)).all()
        self.by_content: dict[str, list[CardRow]] = {}
        self.by_front: dict[str, list[CardRow]] = {}
        for card in cards:
            self.index(card)
        self.next_position = max((c.position for c in cards), default=0) + 1

    def index(self, card: CardRow) -> None:
        self.by_content.setdefault(card.content_key, []).append(card)
        self.by_front.setdefault(card.front, []).append(card)

    def forget(self, card: CardRow) -> None:
        for table, key in ((self.by_content, card.content_key), (self.by_front, card.front)):
            entries = table.get(key, [])
            if card in entries:
                entries.remove(card)


class DraftMapper:
    def __init__(
        self, session: Session, now: datetime, add_only: bool, report: ImportReport
    ) -> None:
        self.session = session
        self.now = now
        self.add_only = add_only
        self.report = report
        self.decks: dict[str, DeckCards] = {}
        self.created: set[str] = set()
        self.decks_used: set[str] = set()
        self.touched: dict[CardRow, str] = {}  # cards this import took, and from where
        self.by_uid: dict[str, CardRow | None] = {}
        self.keys_seen: dict[str, str] = {}

    def deck(self, name: str) -> DeckCards:
        if name not in self.decks:
            row = repo.deck_by_name(self.session, name)
            if row is None:
                row = repo.ensure_deck(self.session, name, self.now)
                self.created.add(name)
            self.decks[name] = DeckCards(self.session, row)
        self.decks_used.add(name)
        return self.decks[name]

    def preload(self, drafts: Iterable[CardDraft]) -> None:
        """Fetch the cards that keyed drafts may match, a few hundred per query."""
        uids = sorted({key_to_uid(d.key) for d in drafts if d.key and d.key.strip()})
        for start in range(0, len(uids), 500):
            chunk = uids[start : start + 500]
            self.by_uid.update(dict.fromkeys(chunk))
            rows = self.session.scalars(select(CardRow).where(CardRow.uid.in_(chunk)))
            self.by_uid.update({row.uid: row for row in rows})

    def _by_uid(self, uid: str) -> CardRow | None:
        if uid not in self.by_uid:
            self.by_uid[uid] = self.session.scalar(select(CardRow).where(CardRow.uid == uid))
        return self.by_uid[uid]

    def apply(self, item: ParsedFile, deck: str | None) -> None:
        result = item.result
        file_deck = deck or (result.deck_name or "").strip() or item.path.stem
        if deck is None:
            for draft in result.decks:
                self._deck_draft(draft)
        if result.description is not None:
            self._describe(self.deck(file_deck), result.description)
        carries = OPTIONAL_FIELDS if result.carries is None else result.carries
        for draft in result.cards:
            target = deck or (draft.deck or "").strip() or file_deck
            self._draft(item, draft, target, carries)
        if not result.cards and not result.decks and result.deck_name:
            self.deck(file_deck)  # a file that names its deck but holds no cards yet

    def _deck_draft(self, draft: DeckDraft) -> None:
        cards = self.deck(draft.name)
        if draft.description is not None:
            self._describe(cards, draft.description)
        if draft.settings and draft.name in self.created:
            settings = DeckSettings(**draft.settings)
            cards.row.new_per_day = settings.new_per_day
            cards.row.reviews_per_day = settings.reviews_per_day
            cards.row.day_start_hour = settings.day_start_hour

    def _describe(self, cards: DeckCards, description: str) -> None:
        if not self.add_only or not cards.row.description:
            cards.row.description = description

    def _draft(
        self, item: ParsedFile, draft: CardDraft, target: str, carries: frozenset[str]
    ) -> None:
        where = item.where(draft.where)
        front, back = clean_text(draft.front), clean_text(draft.back)
        if not front.strip():
            self.report.skipped.append(Skipped(where, "card has no front"))
            return
        draft = CardDraft(
            front=front,
            back=back,
            tags=normalize_tags(draft.tags),
            source=" ".join(draft.source.split()),
            key=draft.key,
            demo=draft.demo,
            where=where,
            state=draft.state,
            reviews=draft.reviews,
            suspended=draft.suspended,
        )
        if draft.key is not None and draft.key.strip():
            self._keyed(draft, target, carries)
        else:
            self._keyless(draft, target, carries)

    def _keyed(self, draft: CardDraft, target: str, carries: frozenset[str]) -> None:
        assert draft.key is not None
        uid = key_to_uid(draft.key)
        if uid in self.keys_seen:
            self.report.skipped.append(
                Skipped(
                    draft.where, f"id {draft.key!r} is used again (first at {self.keys_seen[uid]})"
                )
            )
            return
        self.keys_seen[uid] = draft.where
        row = self._by_uid(uid)
        if row is None:
            # An unknown key on a card the deck already holds word for word (our own .apkg
            # coming back, say) is the same card, not a new one.
            cards = self.deck(target)
            if not self._same_content(draft, cards):
                self._add(draft, cards, uid)
            return
        self.touched[row] = draft.where
        if self.add_only:
            self.decks_used.add(row.deck.name)
            self.report.unchanged += 1
            return
        cards = self.deck(target)
        if self._update(row, draft, carries, cards):
            self.report.updated += 1
        else:
            self.report.unchanged += 1

    def _keyless(self, draft: CardDraft, target: str, carries: frozenset[str]) -> None:
        cards = self.deck(target)
        if self._same_content(draft, cards):
            return
        fronts = [c for c in cards.by_front.get(draft.front, []) if c not in self.touched]
        if len(fronts) == 1:
            row = fronts[0]
            self.touched[row] = draft.where
            self._update(row, draft, carries, cards)
            self.report.updated += 1
            return
        self._add(draft, cards, repo.new_uid())

    def _same_content(self, draft: CardDraft, cards: DeckCards) -> bool:
        """Whether the deck holds this card word for word; counted (or reported) if so."""
        same = cards.by_content.get(repo.content_key(draft.front, draft.back), [])
        if not same:
            return False
        first = same[0]
        if first in self.touched:
            self.report.skipped.append(Skipped(draft.where, f"same card as {self.touched[first]}"))
        else:
            self.touched[first] = draft.where
            self.report.unchanged += 1
        return True

    def _add(self, draft: CardDraft, cards: DeckCards, uid: str) -> None:
        state = draft.state or SM2State.new()
        demo_id, demo_params = repo.demo_to_db(draft.demo)
        row = CardRow(
            uid=uid,
            deck_id=cards.row.id,
            position=cards.next_position,
            front=draft.front,
            back=draft.back,
            tags=repo.tags_to_db(draft.tags),
            source=draft.source,
            content_key=repo.content_key(draft.front, draft.back),
            demo_id=demo_id,
            demo_params=demo_params,
            suspended=draft.suspended,
            buried_until=None,
            created_at=self.now,
            modified_at=self.now,
        )
        repo.set_state(row, state)
        cards.next_position += 1
        self.session.add(row)
        if draft.reviews:
            self.session.flush()  # the reviews need the card's id
        for review in draft.reviews:
            self.session.add(
                repo.review_row(
                    row.id,
                    review.at,
                    review.study_day,
                    review.rating,
                    review.duration_ms,
                    review.kind,
                    review.before,
                    review.after,
                )
            )
        cards.index(row)
        self.touched[row] = draft.where
        self.by_uid[uid] = row
        self.report.added += 1

    def _update(
        self, row: CardRow, draft: CardDraft, carries: frozenset[str], cards: DeckCards
    ) -> bool:
        """Bring a card's content in line with the draft; False if nothing differed."""
        wanted: dict[str, Any] = {"front": draft.front, "back": draft.back}
        if "tags" in carries:
            wanted["tags"] = repo.tags_to_db(draft.tags)
        if "source" in carries:
            wanted["source"] = draft.source
        if "demo" in carries:
            wanted["demo_id"], wanted["demo_params"] = repo.demo_to_db(draft.demo)
        changed = {k: v for k, v in wanted.items() if getattr(row, k) != v}
        if row.deck_id != cards.row.id:
            changed["deck_id"] = cards.row.id
        if not changed:
            return False
        old_deck = next((d for d in self.decks.values() if d.row.id == row.deck_id), None)
        if old_deck is not None:
            old_deck.forget(row)
        for key, value in changed.items():
            setattr(row, key, value)
        if "deck_id" in changed:
            row.position = cards.next_position
            cards.next_position += 1
        row.content_key = repo.content_key(row.front, row.back)
        row.modified_at = self.now
        cards.index(row)
        return True
