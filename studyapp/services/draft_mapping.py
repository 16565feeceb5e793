"""Mapping card drafts onto the collection: the matching rules of an import, in one place.

A draft with a key (native id, JSON id, Anki key) matches the card with that uid anywhere in
the collection, or else a card of its target deck with the same content; a draft without one
matches within its target deck by content, then by an identical front (when exactly one card
has it). Anything unmatched is added at the end of its deck. A match updates the card's
content in place, only the fields the file's format carries; its scheduling state and history
change only when the file logs reviews of it newer than the collection's last (see
`DraftMapper.bring_history`). A backup's state, history and deck settings apply to the cards
and decks it adds.
A backup's predictions go with the cards they were made on, wherever those were matched or
added, except those the collection already holds (the same card, demo, question and time).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain, islice, repeat
from operator import attrgetter
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from studyapp.db import predictions as prediction_log
from studyapp.db import repository as repo
from studyapp.db.models import CardRow, DeckRow, ReviewRow
from studyapp.db.store import rows_in
from studyapp.formats.base import (
    OPTIONAL_FIELDS,
    CardDraft,
    DeckDraft,
    FormatError,
    ParseResult,
    PredictionDraft,
    ReviewDraft,
    Skipped,
)
from studyapp.model import (
    CARD_UID,
    DeckSettings,
    DemoLink,
    deck_name_problem,
    demo_link_problem,
    text_problem,
)
from studyapp.scheduling import SM2State
from studyapp.services.later_keys import LaterKeys


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
    # Reviews from the file's log of cards the collection held, newer than its own (the
    # cards they brought up to date count as updated); told to a person, not in the JSON,
    # whose keys are fixed.
    reviews_added: int = 0

    def history_note(self, dry_run: bool) -> str:
        """What the newer reviews of the file's log did (on a dry run, would do)."""
        did = "would bring" if dry_run else "brought"
        plural = "s" if self.reviews_added != 1 else ""
        return (
            f"{self.reviews_added} newer review{plural} from the file's log {did} cards you "
            "had up to date, with the schedule they led to."
        )

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


def _review_rows(card_id: int, reviews: Iterable[ReviewDraft]) -> list[dict[str, Any]]:
    """A file's review log entries as rows of the card's log."""
    return [
        repo.review_values(
            card_id,
            review.at,
            review.study_day,
            review.rating,
            review.duration_ms,
            review.kind,
            review.before,
            review.after,
            review.memory_before,
            review.memory_after,
            review.imported,
        )
        for review in reviews
    ]


def _same_tags_sorted(held: str, incoming: str) -> bool:
    """Whether `incoming` (stored form, " a b ") is the card's tags put in order: Anki sorts
    every note's tags, so a card back from Anki has not changed its tags."""
    tags = incoming.split()
    return tags == sorted(tags) and tags == sorted(held.split())


def key_to_uid(key: str) -> str:
    """The card uid for a file's key: the key itself when it is a valid id, else a stable
    readable stand-in (so Anki guids such as `a+B/c` still give deck-file ids)."""
    clean = key.strip()
    if CARD_UID.fullmatch(clean):
        return clean
    digest = hashlib.sha256(clean.encode("utf-8")).hexdigest()[:12]
    readable = re.sub(r"[^A-Za-z0-9._:-]+", "-", clean).strip("-._:")[:100]
    return f"{readable}-{digest}" if readable else f"k-{digest}"


def clean_text(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def content_problem(
    front: str, back: str, tags: Sequence[str], source: str, demo: DemoLink | None
) -> str | None:
    """Why a card from a file cannot be kept (it is skipped with this reason), or None."""
    for name, text in (("front", front), ("back", back), ("source", source)):
        problem = text_problem(text)
        if problem is not None:
            return f"its {name} {problem}"
    problem = text_problem("".join(tags))
    if problem is not None:
        return f"a tag {problem}"
    return demo_link_problem(demo) if demo is not None else None


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


@dataclass(eq=False, slots=True)
class _Card:
    """A card as matching sees it: one already in the collection, or one this import adds.

    Plain values, not ORM rows, so an import of 100,000 cards builds no ORM objects; what
    changes is written at the end in a few bulk statements.
    """

    id: int | None  # None until an added card is written
    uid: str
    deck_id: int
    position: int
    front: str
    back: str
    tags: str
    source: str
    demo_id: str | None
    demo_params: str | None
    content_key: str


@dataclass(slots=True)
class _Incoming:
    """A draft cleaned for matching, with the values it would be stored with."""

    draft: CardDraft
    front: str
    back: str
    tags: str  # as stored: " a b "
    source: str
    where: str
    content_key: str

    @property
    def key(self) -> str | None:
        return self.draft.key


@dataclass(slots=True)
class _Batch:
    """A file's drafts that all become new cards of one deck, kept column by column.

    The common import (see `DraftMapper._add_all`) is written from these columns as they
    are; cards for matching are made from them only if another file follows.
    """

    cards: DeckCards
    drafts: Sequence[CardDraft]
    wheres: Sequence[str]
    uids: list[str]
    start: int  # the position of the first card; the others follow in order
    fronts: Sequence[str]
    backs: Sequence[str]
    tags: list[str]  # as stored
    sources: Sequence[str]
    content_keys: Sequence[str]  # a list, or LaterKeys


_CARD_COLUMNS = (
    CardRow.id,
    CardRow.uid,
    CardRow.deck_id,
    CardRow.position,
    CardRow.front,
    CardRow.back,
    CardRow.tags,
    CardRow.source,
    CardRow.demo_id,
    CardRow.demo_params,
    CardRow.content_key,
)
_CHUNK = 500
# A log entry within this of a card's last review is that review come back (a package
# stores times to the millisecond, and moves one that two cards share by a millisecond).
SAME_REVIEW = timedelta(seconds=1)
# The columns of an added card: those that differ from card to card, those that mostly do
# not (each written once into the statement when all cards share it), the scheduling state.
_VARYING_COLUMNS = ("uid", "position", "front", "back", "tags", "content_key")
_CARD_COLUMNS_MOSTLY_SHARED = ("deck_id", "source", "demo_id", "demo_params")
_STATE_COLUMNS = (
    "suspended",
    "buried_until",
    "ease_cents",
    "interval",
    "repetitions",
    "lapses",
    "due",
    "created_at",
    "modified_at",
    "stability",
    "difficulty",
)
# What an added card's state comes from.
_SCHEDULE = attrgetter("state", "suspended", "memory", "buried_until")
_REVIEWS = attrgetter("reviews")
_INSERT_COLUMNS = (*_VARYING_COLUMNS, *_CARD_COLUMNS_MOSTLY_SHARED, *_STATE_COLUMNS)


class DeckCards:
    """A deck's cards, indexed for matching drafts without keys."""

    def __init__(self, session: Session, deck: DeckRow) -> None:
        self.row = deck
        self.id = deck.id
        cards = [
            _Card(*row)
            for row in session.execute(select(*_CARD_COLUMNS).where(CardRow.deck_id == deck.id))
        ]
        self.by_content: dict[str, list[_Card]] = {}
        self.by_front: dict[str, list[_Card]] = {}
        for card in cards:
            self.index(card)
        self.next_position = max((c.position for c in cards), default=0) + 1

    def index(self, card: _Card) -> None:
        self.by_content.setdefault(card.content_key, []).append(card)
        self.by_front.setdefault(card.front, []).append(card)

    def forget(self, card: _Card) -> None:
        for table, key in ((self.by_content, card.content_key), (self.by_front, card.front)):
            entries = table.get(key, [])
            if card in entries:
                entries.remove(card)


def _new_card(
    cards: DeckCards,
    uid: str,
    front: str,
    back: str,
    tags: str,
    source: str,
    demo: DemoLink | None,
    content_key: str,
) -> _Card:
    """A card this import adds at the end of `cards`' deck (not yet indexed for matching)."""
    demo_id, demo_params = repo.demo_to_db(demo) if demo is not None else (None, None)
    card = _Card(
        None,
        uid,
        cards.id,
        cards.next_position,
        front,
        back,
        tags,
        source,
        demo_id,
        demo_params,
        content_key,
    )
    cards.next_position += 1
    return card


def _keys_apart(fronts: Sequence[str], backs: Sequence[str]) -> tuple[list[str], bool]:
    """The cards' content keys, and whether no two of them share one."""
    keys = list(map(repo.content_key, fronts, backs))
    return keys, len(set(keys)) == len(keys)


class DraftMapper:
    def __init__(
        self,
        session: Session,
        now: datetime,
        add_only: bool,
        report: ImportReport,
        keys_later: bool = False,
    ) -> None:
        self.session = session
        self.now = now
        self.add_only = add_only
        self.report = report
        # Whether a file taken as all new cards may have its content keys worked out while
        # its cards are written (see `later_keys`): the caller starts over on KeysCollide.
        self.keys_later = keys_later
        self.decks: dict[str, DeckCards] = {}
        self.created: set[str] = set()
        self.decks_used: set[str] = set()
        self.touched: dict[_Card, str] = {}  # cards this import took, and from where
        self.by_uid: dict[str, _Card | None] = {}
        self.keys_seen: dict[str, str] = {}
        self.added: list[tuple[_Card, CardDraft]] = []  # with the drafts they came from
        self.batches: list[_Batch] = []  # added after `added`, not yet made into cards
        self.changed: dict[_Card, dict[str, Any]] = {}
        self.new_uid = repo.UidSequence()
        self.tags_stored: dict[tuple[str, ...], str] = {}  # a file's tags, as stored
        self.file = ""  # the file being applied, as errors name it
        self.file_named: str | None = None  # the deck named after that file, if one is
        self.placed: dict[str, _Card] = {}  # the card each of a file's card ids ended up as
        self.predictions: list[tuple[_Card | None, PredictionDraft]] = []
        # Cards the collection held, matched by a draft with a review log: the draft, and
        # whether the card was counted unchanged (see `bring_history`).
        self.history: dict[_Card, tuple[CardDraft, bool]] = {}
        self.history_rows: list[dict[str, Any]] = []

    def deck(self, name: str, where: str | None = None, listed: bool = False) -> DeckCards:
        """The deck called `name`, made if missing; a deck whose name differs only in letter
        case is that deck ("optimizers" goes into "Optimizers"), whether the collection held
        it or this import made it.

        The one exception is a deck a backup lists (`listed`) beside one this import made: a
        backup of a collection from before names were told apart by letters only may list
        "Optimizers" and "optimizers", and what the app exports it imports again (the
        collection held neither, or both), whatever other files come in with it. A bad name
        is reported at `where`, the place in the file that gave it.
        """
        name = name.strip()
        cards = self.decks.get(name)
        if cards is None:
            if text_problem(name) is not None:
                # Not text the collection can hold (lone surrogates): said before a query.
                raise FormatError.at(self.file, where, self._name_problem(name) or "")
            row = repo.deck_by_name(self.session, name)
            if row is not None and row.name != name and listed and row.name in self.created:
                row = None  # a deck a backup lists is told apart from this import's own
            if row is None:
                problem = self._name_problem(name)
                if problem is not None:
                    raise FormatError.at(self.file, where, problem)
                row = repo.add_deck(self.session, name, self.now)
                self.created.add(name)
            # One DeckCards a deck, whichever way a file writes its name.
            same = (known for known in self.decks.values() if known.row.id == row.id)
            cards = self.decks[name] = next(same, None) or DeckCards(self.session, row)
        self.decks_used.add(cards.row.name)
        return cards

    def _name_problem(self, name: str) -> str | None:
        problem = deck_name_problem(name)
        if problem is None or name != self.file_named:
            return problem
        return (
            f"the file's name is the deck's name when none is given, and {problem}: name the "
            "deck to import into"
        )

    def _deck_name(self, deck_id: int) -> str:
        for cards in self.decks.values():
            if cards.row.id == deck_id:
                return cards.row.name
        row = self.session.get(DeckRow, deck_id)
        assert row is not None
        return row.name

    def preload(self, drafts: Iterable[CardDraft]) -> None:
        """Fetch the cards that keyed drafts may match, a few hundred per query."""
        self._make_batch_cards()
        uids = sorted({key_to_uid(d.key) for d in drafts if d.key and d.key.strip()})
        for start in range(0, len(uids), _CHUNK):
            chunk = uids[start : start + _CHUNK]
            self.by_uid.update(dict.fromkeys(chunk))
            rows = self.session.execute(select(*_CARD_COLUMNS).where(CardRow.uid.in_(chunk)))
            self.by_uid.update({row.uid: _Card(*row) for row in rows})

    def _by_uid(self, uid: str) -> _Card | None:
        if uid not in self.by_uid:
            row = self.session.execute(select(*_CARD_COLUMNS).where(CardRow.uid == uid)).first()
            self.by_uid[uid] = _Card(*row) if row else None
        return self.by_uid[uid]

    def apply(self, item: ParsedFile, deck: str | None) -> None:
        self._make_batch_cards()  # the cards of earlier files, for this one to match
        self.file = str(item.path)
        result = item.result
        file_deck = deck or (result.deck_name or "").strip() or item.path.stem
        # Named after the file: said so if the name cannot be a deck's, once it is used.
        self.file_named = item.path.stem.strip() if file_deck == item.path.stem else None
        if deck is None:
            for draft in result.decks:
                self._deck_draft(draft)
        if result.description is not None:
            self._describe(self.deck(file_deck), result.description)
        carries = OPTIONAL_FIELDS if result.carries is None else result.carries
        one_deck = deck or (None if any(d.deck for d in result.cards) else file_deck)
        done, content_keys = self._add_all(item, result.cards, one_deck)
        if not done:
            self._drafts(item, result.cards, deck, file_deck, carries, content_keys)
        if not result.cards and not result.decks and result.deck_name:
            self.deck(file_deck)  # a file that names its deck but holds no cards yet
        self._place_predictions(item)

    def _place_predictions(self, item: ParsedFile) -> None:
        """Find the card of each of the file's predictions; one whose card was not taken is
        reported and left out."""
        for number, prediction in enumerate(item.result.predictions, start=1):
            if prediction.card is None:
                self.predictions.append((None, prediction))
                continue
            card = self.placed.get(key_to_uid(prediction.card))
            if card is None:
                self.report.skipped.append(
                    Skipped(
                        item.where(f"prediction {number}"),
                        f"its card {prediction.card!r} was not imported",
                    )
                )
            else:
                self.predictions.append((card, prediction))

    def _deck_draft(self, draft: DeckDraft) -> None:
        cards = self.deck(draft.name, listed=True)
        if draft.description is not None:
            self._describe(cards, draft.description)
        if draft.settings and draft.name in self.created:
            settings = DeckSettings(**draft.settings)
            cards.row.new_per_day = settings.new_per_day
            cards.row.reviews_per_day = settings.reviews_per_day
            cards.row.day_start_hour = settings.day_start_hour
            cards.row.scheduler = settings.scheduler
            cards.row.desired_retention = settings.desired_retention
            cards.row.fsrs_params = repo.params_to_db(settings.fsrs_params)

    def _describe(self, cards: DeckCards, description: str) -> None:
        description = clean_text(description)  # line breaks as every format reads them
        problem = text_problem(description)
        if problem is not None:
            raise FormatError.at(self.file, None, f"the deck's description {problem}")
        if not self.add_only or not cards.row.description:
            cards.row.description = description

    def _drafts(
        self,
        item: ParsedFile,
        drafts: Iterable[CardDraft],
        deck: str | None,
        file_deck: str,
        carries: frozenset[str],
        content_keys: Sequence[str] | None = None,
    ) -> None:
        """Map each draft onto the collection (`content_keys`: theirs, if already known).

        This loop runs once per card of files that hold hundreds of thousands, so the common
        case (a card without a key that its deck does not hold yet) is added right here;
        everything else goes through the matching rules below.
        """
        label = item.label
        skipped = self.report.skipped
        tags_stored = self.tags_stored
        content_key = repo.content_key
        added, touched, by_uid = self.added, self.touched, self.by_uid
        new_uids = iter(self.new_uid)
        cards: DeckCards | None = None
        cards_name: str | None = None
        count = 0
        for draft, known_key in zip(drafts, content_keys or repeat(None), strict=False):
            front, back, tags, source, key, draft_deck, demo, where, *_ = draft
            target = deck or (draft_deck.strip() if draft_deck else "") or file_deck
            if label:
                where = item.where(where)
            if "\r" in front or "\r" in back:
                front, back = clean_text(front), clean_text(back)
            if not front.strip():
                skipped.append(Skipped(where, "card has no front"))
                continue
            problem = content_problem(front, back, tags, source, demo)
            if problem is not None:
                skipped.append(Skipped(where, problem))
                continue
            stored_tags = tags_stored.get(tags)
            if stored_tags is None:
                stored_tags = tags_stored[tags] = repo.tags_to_db(tags)
            if source:
                source = " ".join(source.split())
            key_of_content = known_key or content_key(front, back)
            if key is not None and key.strip():
                incoming = _Incoming(draft, front, back, stored_tags, source, where, key_of_content)
                self._keyed(incoming, target, carries)
                continue
            if target != cards_name or cards is None:
                cards, cards_name = self.deck(target, draft.where), target
            if cards.by_content.get(key_of_content) or front in cards.by_front:
                incoming = _Incoming(draft, front, back, stored_tags, source, where, key_of_content)
                self._keyless(incoming, target, carries)
                continue
            uid = next(new_uids)
            card = _new_card(cards, uid, front, back, stored_tags, source, demo, key_of_content)
            cards.by_content[key_of_content] = [card]
            added.append((card, draft))
            touched[card] = where
            by_uid[uid] = card
            count += 1
        self.report.added += count

    def _add_all(
        self, item: ParsedFile, drafts: Sequence[CardDraft], target: str | None
    ) -> tuple[bool, Sequence[str] | None]:
        """Add every draft as a new card of `target` in one go, if they all are new cards.

        That is the common import (a file of new cards, without ids or demo links, none of
        them twice and none already in the deck), and the one that reaches 100,000 cards: it
        is done here column by column, with no Python step per card but the content key, and
        kept as columns (a `_Batch`) that `flush` writes as they are. Any other file (or no
        single target deck) is left to the matching rules card by card: (False, the drafts'
        content keys if they were worked out).
        """
        if not drafts or target is None:
            return False, None
        fronts, backs, tags, sources, keys, _, demos, wheres, *_ = zip(*drafts, strict=True)
        text = "".join(fronts) + "".join(backs)
        if (
            any(keys)
            or any(demos)
            or not all(map(str.strip, fronts))
            or "\r" in text
            or text_problem(text + "".join(sources) + "".join(chain.from_iterable(set(tags))))
        ):
            return False, None
        # Keys worked out now, or alongside the insert (LaterKeys) when the fronts alone
        # tell the cards apart; cards that share a key go card by card.
        later = self.keys_later and len(set(fronts)) == len(fronts)
        content_keys: Sequence[str] | None = None
        if not later:
            content_keys, apart = _keys_apart(fronts, backs)
            if not apart:
                return False, content_keys
        try:
            cards = self.deck(target)
        except FormatError:
            # Reported at the first card's line, by the card-by-card route, if the cards
            # share keys: as when keys came first.
            if content_keys is None:
                content_keys, apart = _keys_apart(fronts, backs)
                if not apart:
                    return False, content_keys
            raise
        if not cards.by_front.keys().isdisjoint(fronts):
            return False, content_keys
        if content_keys is None:
            content_keys = LaterKeys(fronts, backs, held=set(cards.by_content))
        elif not cards.by_content.keys().isdisjoint(content_keys):
            return False, content_keys
        stored = self.tags_stored
        for distinct in set(tags) - stored.keys():
            stored[distinct] = repo.tags_to_db(distinct)
        if any(sources):
            sources = tuple(" ".join(source.split()) if source else "" for source in sources)
        if item.label:
            wheres = tuple(map(item.where, wheres))
        count = len(drafts)
        start = cards.next_position
        cards.next_position = start + count
        uids = list(islice(iter(self.new_uid), count))
        self.batches.append(
            _Batch(
                cards=cards,
                drafts=drafts,
                wheres=wheres,
                uids=uids,
                start=start,
                fronts=fronts,
                backs=backs,
                tags=list(map(stored.__getitem__, tags)),
                sources=sources,
                content_keys=content_keys,
            )
        )
        self.report.added += count
        return True, content_keys

    def _make_batch_cards(self) -> None:
        """Make the cards of `batches` and index them for matching, as `_drafts` would have."""
        for batch in self.batches:
            cards = batch.cards
            keys = list(batch.content_keys)  # worked out by now (or KeysCollide)
            added = list(
                map(
                    _Card,
                    repeat(None),
                    batch.uids,
                    repeat(cards.id),
                    range(batch.start, batch.start + len(batch.uids)),
                    batch.fronts,
                    batch.backs,
                    batch.tags,
                    batch.sources,
                    repeat(None),
                    repeat(None),
                    keys,
                )
            )
            cards.by_content.update(zip(keys, ([card] for card in added), strict=True))
            self.added += zip(added, batch.drafts, strict=True)
            self.touched.update(zip(added, batch.wheres, strict=True))
            self.by_uid.update(zip(batch.uids, added, strict=True))
        self.batches.clear()

    def _keyed(self, draft: _Incoming, target: str, carries: frozenset[str]) -> None:
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
        card = self._by_uid(uid)
        if card is None:
            # An unknown key on a card the deck already held word for word (our own .apkg
            # coming back, say) is the same card, not a new one. A card this import added
            # under another key is another card, though its words are the same: a file
            # with ids keeps each of its cards.
            cards = self.deck(target, draft.draft.where)
            same = self._same_content(draft, cards, held_before=True)
            self.placed[uid] = same or self._add(draft, cards, uid)
            return
        self.placed[uid] = card
        self.touched[card] = draft.where
        if self.add_only:
            self.decks_used.add(self._deck_name(card.deck_id))
            self.report.unchanged += 1
            return
        cards = self.deck(target, draft.draft.where)
        if self._update(card, draft, carries, cards):
            self.report.updated += 1
            self._held_history(card, draft, unchanged=False)
        else:
            self.report.unchanged += 1
            self._held_history(card, draft, unchanged=True)

    def _keyless(self, draft: _Incoming, target: str, carries: frozenset[str]) -> None:
        cards = self.deck(target, draft.draft.where)
        if self._same_content(draft, cards):
            return
        same_front = cards.by_front.get(draft.front)
        fronts = [c for c in same_front if c not in self.touched] if same_front else []
        if len(fronts) == 1:
            card = fronts[0]
            self.touched[card] = draft.where
            self._update(card, draft, carries, cards)
            self.report.updated += 1
            self._held_history(card, draft, unchanged=False)
            return
        self._add(draft, cards, self.new_uid())

    def _same_content(
        self, draft: _Incoming, cards: DeckCards, held_before: bool = False
    ) -> _Card | None:
        """The card of the deck that holds this one word for word (`held_before`: among the
        cards it held before this import), counted (or reported) if there is one."""
        same = cards.by_content.get(draft.content_key, [])
        if held_before:
            same = [card for card in same if card.id is not None]
        if not same:
            return None
        first = same[0]
        if first in self.touched:
            self.report.skipped.append(Skipped(draft.where, f"same card as {self.touched[first]}"))
        else:
            self.touched[first] = draft.where
            self.report.unchanged += 1
            if not self.add_only:
                self._held_history(first, draft, unchanged=True)
        return first

    def _held_history(self, card: _Card, draft: _Incoming, unchanged: bool) -> None:
        """Note a card the collection held that a draft with a review log matched."""
        if card.id is not None and draft.draft.reviews:
            self.history[card] = (draft.draft, unchanged)

    def _later_keys(self) -> list[LaterKeys]:
        keys = [batch.content_keys for batch in self.batches]
        return [k for k in keys if isinstance(k, LaterKeys)]

    def stop_keys(self) -> None:
        """Stop working out the keys still to come (the import is failing)."""
        for keys in self._later_keys():
            keys.stop()

    def settle_keys(self) -> None:
        """Wait for the content keys still being worked out (KeysCollide if two are alike):
        a dry run reports what the import would do without writing the cards."""
        for keys in self._later_keys():
            keys.all()

    def bring_history(self) -> None:
        """Bring the cards the collection held up to date with their drafts' review logs.

        A log entry later than the last review the collection holds of its card is added
        (a card exported to Anki and studied there comes back with those reviews), and the
        card takes the schedule the file gives it, which those reviews led to. Entries up to
        the card's last review are the collection's own, or older than it: nothing changes,
        so importing a file again changes nothing. Reported before anything is written (a
        dry run says it too); written by `flush`.
        """
        if not self.history:
            return
        cards = list(self.history)
        last: dict[int, datetime] = {}
        for start in range(0, len(cards), _CHUNK):
            chunk = [card.id for card in cards[start : start + _CHUNK]]
            query = (
                select(ReviewRow.card_id, func.max(ReviewRow.at))
                .where(ReviewRow.card_id.in_(chunk))
                .group_by(ReviewRow.card_id)
            )
            last.update((card_id, at) for card_id, at in self.session.execute(query))
        for card in cards:
            draft, unchanged = self.history[card]
            assert card.id is not None
            held = last.get(card.id)
            newer = [
                review
                for review in draft.reviews
                if held is None or repo.utc_naive(review.at) > held + SAME_REVIEW
            ]
            if not newer:
                continue
            self.history_rows += _review_rows(card.id, newer)
            if draft.state is not None:
                schedule = repo.state_values(draft.state) | repo.memory_values(draft.memory)
                self.changed.setdefault(card, {}).update(schedule)
            self.decks_used.add(self._deck_name(card.deck_id))
            self.report.reviews_added += len(newer)
            if unchanged:
                self.report.unchanged -= 1
                self.report.updated += 1
        self.history.clear()

    def _add(self, draft: _Incoming, cards: DeckCards, uid: str) -> _Card:
        card = _new_card(
            cards,
            uid,
            draft.front,
            draft.back,
            draft.tags,
            draft.source,
            draft.draft.demo,
            draft.content_key,
        )
        # Indexed by content only: a card this import adds is taken, and matching by front
        # passes over taken cards.
        same = cards.by_content.get(card.content_key)
        if same is None:
            cards.by_content[card.content_key] = [card]
        else:
            same.append(card)
        self.added.append((card, draft.draft))
        self.touched[card] = draft.where
        self.by_uid[uid] = card
        self.report.added += 1
        return card

    def _update(
        self, card: _Card, draft: _Incoming, carries: frozenset[str], cards: DeckCards
    ) -> bool:
        """Bring a card's content in line with the draft; False if nothing differed."""
        wanted: dict[str, Any] = {"front": draft.front, "back": draft.back}
        if "tags" in carries and not _same_tags_sorted(card.tags, draft.tags):
            wanted["tags"] = draft.tags
        if "source" in carries:
            wanted["source"] = draft.source
        if "demo" in carries:
            wanted["demo_id"], wanted["demo_params"] = repo.demo_to_db(draft.draft.demo)
        changed = {k: v for k, v in wanted.items() if getattr(card, k) != v}
        if card.deck_id != cards.row.id:
            changed["deck_id"] = cards.row.id
        if not changed:
            return False
        old_deck = next((d for d in self.decks.values() if d.row.id == card.deck_id), None)
        if old_deck is not None:
            old_deck.forget(card)
        for key, value in changed.items():
            setattr(card, key, value)
        if "deck_id" in changed:
            card.position = cards.next_position
            changed["position"] = card.position
            cards.next_position += 1
        if "front" in changed or "back" in changed:
            card.content_key = draft.content_key
            changed["content_key"] = card.content_key
        cards.index(card)
        if card.id is None:
            return True  # added by this import: written whole by `flush`
        self.changed.setdefault(card, {}).update(changed)
        return True

    # --- writing -----------------------------------------------------------------------------

    def flush(self) -> None:
        """Write what the import added and changed, in bulk statements."""
        self._insert_added()
        self._write_reviews()
        if self.history_rows:
            repo.bulk_insert(self.session, ReviewRow.__table__, self.history_rows)
            self.history_rows = []
        self._write_predictions()
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for card, changes in self.changed.items():
            values = {**changes, "modified_at": self.now}
            groups.setdefault(tuple(sorted(values)), []).append({"card_id": card.id, **values})
        for keys, params in groups.items():
            statement = (
                update(CardRow)
                .where(CardRow.id == bindparam("card_id"))
                .values({key: bindparam(key) for key in keys})
            )
            self.session.connection().execute(statement, params)
        self.added.clear()
        self.batches.clear()
        self.changed.clear()

    def _insert_added(self) -> None:
        """The added cards, in the order they were added: those made one by one, then the
        batches (which come after them, see `apply`)."""
        if self.added:
            cards = [card for card, _ in self.added]
            names = (*_VARYING_COLUMNS, *_CARD_COLUMNS_MOSTLY_SHARED)
            columns = {name: list(map(attrgetter(name), cards)) for name in names}
            self._insert_columns(columns, {}, [draft for _, draft in self.added])
        for batch in self.batches:
            count = len(batch.uids)
            columns = {
                "uid": batch.uids,
                "position": range(batch.start, batch.start + count),
                "front": batch.fronts,
                "back": batch.backs,
                "tags": batch.tags,
                "content_key": batch.content_keys,
                "source": batch.sources,
            }
            shared = {"deck_id": batch.cards.id, "demo_id": None, "demo_params": None}
            self._insert_columns(columns, shared, batch.drafts)

    def _insert_columns(
        self,
        columns: dict[str, Sequence[Any]],
        shared: dict[str, Any],
        drafts: Sequence[CardDraft],
    ) -> None:
        """Added cards, inserted from their columns of driver values (each in card order)
        and the values they all share (`repo.insert_columns`); their state comes from
        `drafts`.

        The values every new card shares (its deck, the import time, a new card's state) are
        converted once and given once; only what differs is given per card.
        """
        table = CardRow.__table__
        processes = repo.driver_values(self.session, table, _INSERT_COLUMNS)
        convert = dict(zip(_INSERT_COLUMNS, processes, strict=True))

        def stored(name: str, value: Any) -> Any:
            process = convert[name]
            return value if value is None or process is None else process(value)

        now = stored("created_at", self.now)
        schedules = list(map(_SCHEDULE, drafts))
        states: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for schedule in set(schedules):
            state, suspended, memory, buried_until = schedule
            new = state or SM2State.new()
            states[schedule] = (
                stored("suspended", suspended),
                stored("buried_until", buried_until),
                new.ease_cents,
                new.interval,
                new.repetitions,
                new.lapses,
                stored("due", new.due),
                now,
                now,
                memory.stability if memory else None,
                memory.difficulty if memory else None,
            )
        shared = dict(shared)
        for name in _CARD_COLUMNS_MOSTLY_SHARED:
            if name in columns:
                values = set(columns[name])
                if len(values) == 1:
                    shared[name] = values.pop()
                    del columns[name]
        names = list(columns)
        values = list(columns.values())  # LaterKeys are read as the insert goes
        if len(states) == 1:
            shared.update(zip(_STATE_COLUMNS, next(iter(states.values())), strict=True))
        else:
            names += _STATE_COLUMNS
            values += zip(*map(states.__getitem__, schedules), strict=True)
        repo.insert_columns(self.session, table, names, values, shared)

    def _write_reviews(self) -> None:
        """The review logs of added cards (a backup's), once the cards have their ids."""
        with_reviews = [(card.uid, draft) for card, draft in self.added if draft.reviews]
        for batch in self.batches:
            if any(map(_REVIEWS, batch.drafts)):  # a backup's; never a CSV file's
                pairs = zip(batch.uids, batch.drafts, strict=True)
                with_reviews += [(uid, draft) for uid, draft in pairs if draft.reviews]
        if not with_reviews:
            return
        ids: dict[str, int] = {}
        uids = [uid for uid, _ in with_reviews]
        for start in range(0, len(uids), _CHUNK):
            chunk = uids[start : start + _CHUNK]
            rows_found = self.session.execute(
                select(CardRow.uid, CardRow.id).where(CardRow.uid.in_(chunk))
            )
            ids.update((uid, card_id) for uid, card_id in rows_found)
        rows = []
        for uid, draft in with_reviews:
            rows += _review_rows(ids[uid], draft.reviews)
        repo.bulk_insert(self.session, ReviewRow.__table__, rows)

    def _write_predictions(self) -> None:
        """A backup's predictions, on the cards they were placed on, once those have ids;
        one the collection already holds is not written again."""
        if not self.predictions:
            return
        self._find_ids([card for card, _ in self.predictions if card is not None])
        held = prediction_log.keys(rows_in(self.session))
        values = []
        for card, draft in self.predictions:
            card_id = card.id if card is not None else None
            key = (card_id, draft.demo, draft.question_id, draft.at)
            if key in held:
                continue
            held.add(key)
            values.append(
                prediction_log.prediction_values(
                    card_id,
                    draft.demo,
                    draft.params,
                    draft.seed,
                    draft.question_id,
                    draft.question,
                    draft.predicted,
                    draft.at,
                    draft.answer,
                    draft.why,
                    draft.correct,
                )
            )
        prediction_log.insert_predictions(self.session, values)
        self.predictions.clear()

    def _find_ids(self, cards: Sequence[_Card]) -> None:
        """Give the cards this import added their ids, as written."""
        uids = sorted({card.uid for card in cards if card.id is None})
        ids: dict[str, int] = {}
        for start in range(0, len(uids), _CHUNK):
            chunk = uids[start : start + _CHUNK]
            found = self.session.execute(
                select(CardRow.uid, CardRow.id).where(CardRow.uid.in_(chunk))
            )
            ids.update((uid, card_id) for uid, card_id in found)
        for card in cards:
            if card.id is None:
                card.id = ids[card.uid]
