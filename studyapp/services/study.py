"""A study session: today's queue, ratings, the same-day drill, undo, suspend and bury.

The queue is built once when the session starts: due reviews most-overdue first within the
deck's daily review limit, new cards in deck order within the daily new limit (counting those
already introduced today), spread evenly among the reviews. Cards still in the drill from an
earlier session today come first.

Each rating is its own unit of work, committed before the next card is chosen. Only the first
rating of a card on a study day changes its state; a card rated below 4 comes back a few cards
later (SM-2's same-day drill) until it is rated 4 or 5, and those repeats are logged as
"drill" without changing anything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studyapp.clock import Clock, system_clock, today
from studyapp.db import Store
from studyapp.db import repository as repo
from studyapp.db.models import CardRow, DeckRow, ReviewRow
from studyapp.errors import UserError
from studyapp.model import LEECH_LAPSES, LEECH_TAG, Card, Review
from studyapp.scheduling import check_rating, sm2_review

DRILL_GAP = 3  # a drilled card comes back after this many other cards
DRILL_PASS = 4  # ratings below this bring a card back the same day
MAX_COUNTED_MS = 60_000  # time on one card counts at most a minute, as Anki does

ItemKind = Literal["new", "review", "drill"]


@dataclass(frozen=True)
class QueueItem:
    card_id: int
    kind: ItemKind


@dataclass(frozen=True)
class Remaining:
    new: int
    review: int
    drill: int

    @property
    def total(self) -> int:
        return self.new + self.review + self.drill


@dataclass(frozen=True)
class Answered:
    """What a rating did: the review logged, the card after it, whether it comes back today."""

    card: Card
    review: Review
    changed_state: bool
    comes_back: bool


@dataclass(frozen=True)
class SessionSummary:
    cards: int
    ratings: int
    by_rating: dict[int, int]
    seconds: float
    next_due: date | None


@dataclass(frozen=True)
class _Snapshot:
    """A card's row as it was, so undo can put back every column a study action touches."""

    ease_cents: int
    interval: int
    repetitions: int
    lapses: int
    due: date | None
    tags: str
    suspended: bool
    buried_until: date | None


@dataclass
class _Undo:
    card_id: int
    snapshot: _Snapshot
    queue: list[QueueItem]
    review_id: int | None = None
    rating: int | None = None
    duration_ms: int = 0


@dataclass
class _Tally:
    ratings: list[tuple[int, int, int]] = field(default_factory=list)  # card, rating, ms


def _snapshot(row: CardRow) -> _Snapshot:
    return _Snapshot(
        row.ease_cents,
        row.interval,
        row.repetitions,
        row.lapses,
        row.due,
        row.tags,
        row.suspended,
        row.buried_until,
    )


def _restore(row: CardRow, snap: _Snapshot) -> None:
    row.ease_cents = snap.ease_cents
    row.interval = snap.interval
    row.repetitions = snap.repetitions
    row.lapses = snap.lapses
    row.due = snap.due
    row.tags = snap.tags
    row.suspended = snap.suspended
    row.buried_until = snap.buried_until


def interleave(reviews: list[QueueItem], news: list[QueueItem]) -> list[QueueItem]:
    """Reviews in order with new cards spread evenly among them (never first or bunched)."""
    out: list[QueueItem] = []
    i = j = 0
    while i < len(reviews) or j < len(news):
        take_new = j < len(news) and (
            i >= len(reviews) or (j + 1) * len(reviews) <= i * (len(news) + 1)
        )
        if take_new:
            out.append(news[j])
            j += 1
        else:
            out.append(reviews[i])
            i += 1
    return out


def drilling_today(session: Session, deck_ids: Sequence[int], day: date) -> list[tuple[int, int]]:
    """(deck id, card id) of cards whose latest rating today was below 4: still in the drill."""
    latest = (
        select(func.max(ReviewRow.id).label("id"))
        .where(ReviewRow.study_day == day)
        .group_by(ReviewRow.card_id)
        .subquery()
    )
    rows = session.execute(
        select(CardRow.deck_id, ReviewRow.card_id)
        .join(latest, latest.c.id == ReviewRow.id)
        .join(CardRow, CardRow.id == ReviewRow.card_id)
        .where(
            CardRow.deck_id.in_(list(deck_ids)),
            ReviewRow.rating < DRILL_PASS,
            repo.available(day),
        )
        .order_by(ReviewRow.id)
    )
    return [(deck_id, card_id) for deck_id, card_id in rows]


def introduced_and_reviewed(session: Session, deck_id: int, day: date) -> tuple[int, int]:
    """How many new cards were introduced and how many reviews done in the deck on `day`."""
    rows = session.execute(
        select(ReviewRow.kind, func.count())
        .join(CardRow, CardRow.id == ReviewRow.card_id)
        .where(CardRow.deck_id == deck_id, ReviewRow.study_day == day)
        .where(ReviewRow.kind.in_(("new", "review")))
        .group_by(ReviewRow.kind)
    )
    counts = {kind: n for kind, n in rows}
    return counts.get("new", 0), counts.get("review", 0)


def build_queue(session: Session, deck_rows: list[DeckRow], clock: Clock) -> list[QueueItem]:
    """Today's queue over the given decks, within each deck's daily limits."""
    drill: list[QueueItem] = []
    reviews: list[tuple[date, int, int, int]] = []  # due, deck order, position, id
    news: list[QueueItem] = []
    for order, deck in enumerate(deck_rows):
        day = today(clock, deck.day_start_hour)
        drill += [QueueItem(cid, "drill") for _, cid in drilling_today(session, [deck.id], day)]
        new_done, reviews_done = introduced_and_reviewed(session, deck.id, day)
        review_room = max(0, deck.reviews_per_day - reviews_done)
        new_room = max(0, deck.new_per_day - new_done)
        due_rows = session.execute(
            select(CardRow.due, CardRow.position, CardRow.id)
            .where(CardRow.deck_id == deck.id, CardRow.due <= day, repo.available(day))
            .order_by(CardRow.due, CardRow.position, CardRow.id)
            .limit(review_room)
        )
        reviews += [(due, order, pos, cid) for due, pos, cid in due_rows]
        new_ids = session.scalars(
            select(CardRow.id)
            .where(CardRow.deck_id == deck.id, CardRow.due.is_(None), repo.available(day))
            .order_by(CardRow.position, CardRow.id)
            .limit(new_room)
        )
        news += [QueueItem(cid, "new") for cid in new_ids]
    reviews.sort()
    review_items = [QueueItem(cid, "review") for *_, cid in reviews]
    return drill + interleave(review_items, news)


class StudySession:
    """One sitting of study over a deck (or all decks)."""

    def __init__(
        self,
        store: Store,
        deck: str | None = None,
        clock: Clock = system_clock,
        drill_gap: int = DRILL_GAP,
    ) -> None:
        self.store = store
        self.deck = deck
        self.clock = clock
        self.drill_gap = drill_gap
        self._undo: list[_Undo] = []
        self._tally = _Tally()
        self._current: Card | None = None
        self._shown_at: datetime | None = None
        self._started = clock()
        with store.read() as session:
            self._deck_rows = self._scope(session)
            self._queue = build_queue(session, self._deck_rows, clock)
            self._planned = len(self._queue)

    def _scope(self, session: Session) -> list[DeckRow]:
        if self.deck is None:
            return repo.decks(session)
        row = repo.deck_by_name(session, self.deck)
        if row is None:
            raise UserError(f"there is no deck named {self.deck!r}; `studyapp decks` lists them")
        return [row]

    # --- what is on screen -------------------------------------------------------------------

    @property
    def current(self) -> Card | None:
        """The card to show now, or None when the session is done."""
        while self._queue:
            if self._current is not None and self._current.id == self._queue[0].card_id:
                return self._current
            with self.store.read() as session:
                found = repo.card_by_id(session, self._queue[0].card_id)
            if found is None or found[0].suspended:
                self._queue.pop(0)  # deleted or suspended elsewhere since the queue was built
                continue
            self._current = repo.to_card(found[0], found[1].name)
            self._shown_at = self.clock()
            return self._current
        self._current = None
        return None

    @property
    def current_kind(self) -> ItemKind | None:
        return self._queue[0].kind if self.current is not None else None

    @property
    def remaining(self) -> Remaining:
        kinds = Counter(item.kind for item in self._queue)
        return Remaining(kinds["new"], kinds["review"], kinds["drill"])

    @property
    def done(self) -> int:
        return len(self._tally.ratings)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    def refresh(self) -> Card | None:
        """Reload the current card (after an edit)."""
        self._current = None
        shown = self._shown_at
        card = self.current
        self._shown_at = shown or self._shown_at
        return card

    # --- actions -----------------------------------------------------------------------------

    def answer(self, rating: int, duration_ms: int | None = None) -> Answered:
        """Rate the current card; the rating is committed before this returns."""
        quality = check_rating(rating)
        card = self.current
        if card is None:
            raise UserError("there is no card to rate: the session is finished")
        now = self.clock()
        if duration_ms is None:
            shown = self._shown_at or now
            duration_ms = int((now - shown).total_seconds() * 1000)
        duration_ms = max(0, min(duration_ms, MAX_COUNTED_MS))
        queue_before = list(self._queue)
        with self.store.write() as session:
            found = repo.card_by_id(session, card.id)
            if found is None:
                raise UserError("this card was deleted while it was on screen")
            row, deck = found
            day = today(lambda: now, deck.day_start_hour)
            snapshot = _snapshot(row)
            before = repo.state_of(row)
            changes = not repo.has_state_change_on(session, row.id, day)
            if changes:
                after = sm2_review(before, quality, day)
                kind = "new" if before.is_new else "review"
            else:
                after, kind = before, "drill"
            repo.set_state(row, after)
            if after.lapses > before.lapses and after.lapses >= LEECH_LAPSES:
                row.tags = repo.tags_to_db([*repo.tags_from_db(row.tags), LEECH_TAG])
            log = repo.review_row(row.id, now, day, quality, duration_ms, kind, before, after)
            session.add(log)
            session.flush()
            review = repo.to_review(log)
            updated = repo.to_card(row, deck.name)
        self._undo.append(_Undo(card.id, snapshot, queue_before, log.id, quality, duration_ms))
        self._tally.ratings.append((card.id, quality, duration_ms))
        self._queue.pop(0)
        self._current = None
        comes_back = quality < DRILL_PASS
        if comes_back:
            self._queue.insert(min(self.drill_gap, len(self._queue)), QueueItem(card.id, "drill"))
        return Answered(updated, review, changes, comes_back)

    def suspend(self) -> Card:
        """Take the current card out of study until it is unsuspended."""
        return self._set_aside(suspend=True)

    def bury(self) -> Card:
        """Hide the current card until tomorrow's study day."""
        return self._set_aside(suspend=False)

    def _set_aside(self, suspend: bool) -> Card:
        card = self.current
        if card is None:
            raise UserError("there is no card on screen")
        queue_before = list(self._queue)
        with self.store.write() as session:
            found = repo.card_by_id(session, card.id)
            if found is None:
                raise UserError("this card was deleted while it was on screen")
            row, deck = found
            snapshot = _snapshot(row)
            if suspend:
                row.suspended = True
            else:
                row.buried_until = today(self.clock, deck.day_start_hour) + timedelta(days=1)
            updated = repo.to_card(row, deck.name)
        self._undo.append(_Undo(card.id, snapshot, queue_before))
        self._queue = [item for item in self._queue if item.card_id != card.id]
        self._current = None
        return updated

    def undo(self) -> Card | None:
        """Take back the last rating, suspend or bury: the card returns with its old state."""
        if not self._undo:
            return None
        entry = self._undo[-1]
        with self.store.write() as session:
            row = session.get(CardRow, entry.card_id)
            if entry.review_id is not None:
                log = session.get(ReviewRow, entry.review_id)
                if log is not None:
                    session.delete(log)
            if row is not None:
                _restore(row, entry.snapshot)
        self._undo.pop()
        if entry.review_id is not None and self._tally.ratings:
            self._tally.ratings.pop()
        self._queue = entry.queue
        self._current = None
        return self.current

    # --- the end -----------------------------------------------------------------------------

    def summary(self) -> SessionSummary:
        ratings = self._tally.ratings
        with self.store.read() as session:
            next_due = self._next_due(session)
        return SessionSummary(
            cards=len({card for card, _, _ in ratings}),
            ratings=len(ratings),
            by_rating=dict(sorted(Counter(r for _, r, _ in ratings).items())),
            seconds=sum(ms for *_, ms in ratings) / 1000,
            next_due=next_due,
        )

    def _next_due(self, session: Session) -> date | None:
        dues = []
        for deck in self._deck_rows:
            day = today(self.clock, deck.day_start_hour)
            due = session.scalar(
                select(func.min(CardRow.due)).where(
                    CardRow.deck_id == deck.id, CardRow.due > day, CardRow.suspended.is_(False)
                )
            )
            if due is not None:
                dues.append(due)
        return min(dues, default=None)
