"""A study session: today's queue, ratings, the same-day drill, undo, suspend and bury.

The queue is built once when the session starts: due reviews most-overdue first within the
deck's daily review limit, new cards in deck order within the daily new limit (counting those
already introduced today), spread evenly among the reviews. Cards still in the drill from an
earlier session today come first.

Each rating is its own unit of work, committed before the next card is chosen. Only the first
rating of a card on a study day changes its state; a card rated below 4 comes back a few cards
later (SM-2's same-day drill) until it is rated 4 or 5, and those repeats are logged as
"drill" without changing anything.

The session reads in plain SQL (`studyapp.db.reads`), so `studyapp review` shows its first card
before SQLAlchemy has loaded; the writes import the repository when first needed (the app
loads it in the background once that card is on screen).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal, NamedTuple

from studyapp.clock import Clock, system_clock, today
from studyapp.db import Store
from studyapp.db.reads import AVAILABLE, Rows, StudyCard, day_of, study_card
from studyapp.errors import CollectionError, UnconfirmedWrite, UserError
from studyapp.model import LEECH_LAPSES, LEECH_TAG, Card, Review, normalize_tags
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
    """What a rating did: the review logged, the card after it, whether it comes back today.

    `recovered`: this is the rating given before the connection to a database server was lost
    while saving it, found stored once the server answered again (the key pressed now was
    not counted again).
    """

    card: Card
    review: Review
    changed_state: bool
    comes_back: bool
    recovered: bool = False


@dataclass(frozen=True)
class _InFlight:
    """A rating whose commit a database server may or may not have received."""

    found: StudyCard
    at: datetime
    rating: int
    duration_ms: int
    queue: list[QueueItem]


@dataclass(frozen=True)
class SessionSummary:
    cards: int
    ratings: int
    by_rating: dict[int, int]
    seconds: float
    next_due: date | None


@dataclass(frozen=True)
class _Snapshot:
    """A card's columns as they were, so undo can put back everything a study action touches."""

    values: dict[str, Any]

    @classmethod
    def of(cls, found: StudyCard) -> _Snapshot:
        from studyapp.db import repository as repo

        card = found.card
        return cls(
            {
                **repo.state_values(card.state),
                "tags": found.tags_text,
                "suspended": card.suspended,
                "buried_until": card.buried_until,
            }
        )


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


# The queue's reads are plain SQL (`studyapp.db.reads`): `studyapp review` builds the queue and
# paints the first card before SQLAlchemy has loaded. Days are ISO text parameters.
_DRILLING = f"""
SELECT c.deck_id, r.card_id FROM reviews AS r
JOIN (SELECT max(id) AS id FROM reviews WHERE study_day = :day GROUP BY card_id) AS latest
  ON latest.id = r.id
JOIN cards AS c ON c.id = r.card_id
WHERE r.rating < :passing AND {AVAILABLE}
ORDER BY r.id
"""
_DONE_ON_DAY = """
SELECT c.deck_id, r.kind, count(*) FROM reviews AS r JOIN cards AS c ON c.id = r.card_id
WHERE r.study_day = :day AND r.kind IN ('new', 'review')
GROUP BY c.deck_id, r.kind
"""
# Run once per deck: each is one range of the (deck, due, ...) or (deck, position) index.
_DUE_CARDS = f"""
SELECT c.due, c.position, c.id FROM cards AS c
WHERE c.deck_id = :deck_id AND c.due <= :day AND {AVAILABLE}
ORDER BY c.due, c.position, c.id LIMIT :room
"""
_NEW_CARDS = f"""
SELECT c.id FROM cards AS c
WHERE c.deck_id = :deck_id AND c.due IS NULL AND {AVAILABLE}
ORDER BY c.position, c.id LIMIT :room
"""
_NEXT_DUE = """
SELECT min(c.due) FROM cards AS c
WHERE c.deck_id = :deck_id AND c.due > :day AND NOT c.suspended
"""
_DECKS = "SELECT id, name, new_per_day, reviews_per_day, day_start_hour FROM decks"


class DeckScope(NamedTuple):
    """A deck's limits as the queue needs them."""

    id: int
    name: str
    new_per_day: int
    reviews_per_day: int
    day_start_hour: int


def decks_in_scope(rows: Rows, deck: str | None) -> list[DeckScope]:
    """The named deck, or every deck by name; an unknown name is a one-line error."""
    if deck is None:
        return [DeckScope(*row) for row in rows(f"{_DECKS} ORDER BY name", {})]
    found = rows(f"{_DECKS} WHERE name = :name", {"name": deck})
    if not found:
        raise UserError(f"there is no deck named {deck!r}; `studyapp decks` lists them")
    return [DeckScope(*found[0])]


def drilling_today(rows: Rows, day: date) -> list[tuple[int, int]]:
    """(deck id, card id) of cards whose latest rating on `day` was below 4: still in the
    drill, in the order they were rated."""
    found = rows(_DRILLING, {"day": day.isoformat(), "passing": DRILL_PASS})
    return [(deck_id, card_id) for deck_id, card_id in found]


def introduced_and_reviewed(rows: Rows, day: date) -> dict[int, tuple[int, int]]:
    """Per deck: how many new cards were introduced and how many reviews done on `day`."""
    done: dict[int, tuple[int, int]] = {}
    for deck_id, kind, n in rows(_DONE_ON_DAY, {"day": day.isoformat()}):
        new, reviewed = done.get(deck_id, (0, 0))
        done[deck_id] = (new + n, reviewed) if kind == "new" else (new, reviewed + n)
    return done


def build_queue(rows: Rows, decks: list[DeckScope], clock: Clock) -> list[QueueItem]:
    """Today's queue over the given decks, within each deck's daily limits."""
    days = {hour: today(clock, hour) for hour in {d.day_start_hour for d in decks}}
    drill: list[QueueItem] = []
    done: dict[int, tuple[int, int]] = {}
    for hour, day in days.items():
        ids = {d.id for d in decks if d.day_start_hour == hour}
        drill += [QueueItem(cid, "drill") for did, cid in drilling_today(rows, day) if did in ids]
        done |= {did: n for did, n in introduced_and_reviewed(rows, day).items() if did in ids}
    reviews: list[tuple[Any, int, int, int]] = []  # due, deck order, position, id
    news: list[QueueItem] = []
    for order, deck in enumerate(decks):
        day = days[deck.day_start_hour].isoformat()
        new_done, reviews_done = done.get(deck.id, (0, 0))
        review_room = max(0, deck.reviews_per_day - reviews_done)
        new_room = max(0, deck.new_per_day - new_done)
        if review_room:
            due_rows = rows(_DUE_CARDS, {"deck_id": deck.id, "day": day, "room": review_room})
            reviews += [(due, order, pos, cid) for due, pos, cid in due_rows]
        if new_room:
            new_rows = rows(_NEW_CARDS, {"deck_id": deck.id, "day": day, "room": new_room})
            news += [QueueItem(cid, "new") for (cid,) in new_rows]
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
        self._in_flight: _InFlight | None = None
        self._tally = _Tally()
        self._current: Card | None = None
        self._shown_at: datetime | None = None
        self._started = clock()
        with store.reading() as rows:
            self._decks = decks_in_scope(rows, deck)
            self._queue = build_queue(rows, self._decks, clock)
            self._planned = len(self._queue)

    # --- what is on screen -------------------------------------------------------------------

    @property
    def current(self) -> Card | None:
        """The card to show now, or None when the session is done."""
        if self._current is not None and self._queue and self._current.id == self._queue[0].card_id:
            return self._current
        with self.store.reading() as rows:
            self._current = self._head(rows)
        self._shown_at = self.clock() if self._current is not None else None
        return self._current

    def _head(self, rows: Rows) -> Card | None:
        """The first card of the queue that still exists and is not suspended."""
        while self._queue:
            found = study_card(rows, self._queue[0].card_id)
            if found is not None and not found.card.suspended:
                return found.card
            self._queue.pop(0)  # deleted or suspended elsewhere since the queue was built
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
        from studyapp.db import repository as repo
        from studyapp.db.store import rows_in

        quality = check_rating(rating)
        recovered = self._settle()
        if recovered is not None:
            return recovered
        card = self.current
        if card is None:
            raise UserError("there is no card to rate: the session is finished")
        now = self.clock()
        if duration_ms is None:
            shown = self._shown_at or now
            duration_ms = int((now - shown).total_seconds() * 1000)
        duration_ms = max(0, min(duration_ms, MAX_COUNTED_MS))
        queue_before = list(self._queue)
        comes_back = quality < DRILL_PASS
        self._queue.pop(0)
        if comes_back:
            self._queue.insert(min(self.drill_gap, len(self._queue)), QueueItem(card.id, "drill"))
        try:
            with self.store.write() as session:
                rows = rows_in(session)
                found = study_card(rows, card.id)
                if found is None:
                    raise UserError("this card was deleted while it was on screen")
                day = today(lambda: now, found.day_start_hour)
                before = found.card.state
                changes = not repo.has_state_change_on(session, card.id, day)
                if changes:
                    after = sm2_review(before, quality, day)
                    kind = "new" if before.is_new else "review"
                else:
                    after, kind = before, "drill"
                values = repo.state_values(after)
                tags = found.card.tags
                if after.lapses > before.lapses and after.lapses >= LEECH_LAPSES:
                    tags = normalize_tags([*tags, LEECH_TAG])
                    values["tags"] = repo.tags_to_db(tags)
                repo.update_card(session, card.id, values)
                review = repo.insert_review(
                    session,
                    repo.review_values(
                        card.id, now, day, quality, duration_ms, kind, before, after
                    ),
                )
                following = self._head(rows)  # read in the same unit of work
        except UnconfirmedWrite:
            self._queue = queue_before
            self._in_flight = _InFlight(found, now, quality, duration_ms, queue_before)
            return self._settle_now()
        except BaseException:
            self._queue = queue_before
            raise
        self._undo.append(
            _Undo(card.id, _Snapshot.of(found), queue_before, review.id, quality, duration_ms)
        )
        self._tally.ratings.append((card.id, quality, duration_ms))
        self._current = following
        self._shown_at = now if following is not None else None
        updated = replace(found.card, state=after, tags=tags)
        return Answered(updated, review, changes, comes_back)

    def _settle_now(self) -> Answered:
        """Find out at once whether the rating in flight was stored, or say it is unknown."""
        where = self.store.where
        try:
            recovered = self._settle()
        except CollectionError:
            raise CollectionError(
                f"{where}: the server went away while this rating was being saved; whether it "
                "was stored is checked when the server is back (rate the card again then)"
            ) from None
        if recovered is None:
            raise CollectionError(
                f"{where}: the connection to the server was lost while saving: the rating was "
                "not stored; rate the card again"
            )
        return recovered

    def _settle(self) -> Answered | None:
        """A rating in flight when the connection to a server was lost: its outcome if it
        was stored (the session then goes on as if it had been confirmed), else None.
        Raises CollectionError while the server cannot tell."""
        from studyapp.db import repository as repo

        flight = self._in_flight
        if flight is None:
            return None
        card_id = flight.found.card.id
        with self.store.read() as session:
            review = repo.stored_review(session, card_id, flight.at, flight.rating)
        self._in_flight = None
        if review is None:
            return None
        comes_back = flight.rating < DRILL_PASS
        self._queue = list(flight.queue)
        self._queue.pop(0)
        if comes_back:
            self._queue.insert(min(self.drill_gap, len(self._queue)), QueueItem(card_id, "drill"))
        self._undo.append(
            _Undo(
                card_id,
                _Snapshot.of(flight.found),
                flight.queue,
                review.id,
                flight.rating,
                flight.duration_ms,
            )
        )
        self._tally.ratings.append((card_id, flight.rating, flight.duration_ms))
        self._current = None
        card = replace(flight.found.card, state=review.after)
        return Answered(card, review, review.kind != "drill", comes_back, recovered=True)

    def suspend(self) -> Card:
        """Take the current card out of study until it is unsuspended."""
        return self._set_aside(suspend=True)

    def bury(self) -> Card:
        """Hide the current card until tomorrow's study day."""
        return self._set_aside(suspend=False)

    def _set_aside(self, suspend: bool) -> Card:
        from studyapp.db import repository as repo
        from studyapp.db.store import rows_in

        self._settle()
        card = self.current
        if card is None:
            raise UserError("there is no card on screen")
        queue_before = list(self._queue)
        with self.store.write() as session:
            found = study_card(rows_in(session), card.id)
            if found is None:
                raise UserError("this card was deleted while it was on screen")
            if suspend:
                change: dict[str, Any] = {"suspended": True}
            else:
                day = today(self.clock, found.day_start_hour)
                change = {"buried_until": day + timedelta(days=1)}
            repo.update_card(session, card.id, change)
        self._undo.append(_Undo(card.id, _Snapshot.of(found), queue_before))
        self._queue = [item for item in self._queue if item.card_id != card.id]
        self._current = None
        return replace(found.card, **change)

    def undo(self) -> Card | None:
        """Take back the last rating, suspend or bury: the card returns with its old state."""
        from studyapp.db import repository as repo

        self._settle()
        if not self._undo:
            return None
        entry = self._undo[-1]
        with self.store.write() as session:
            if entry.review_id is not None:
                repo.delete_review(session, entry.review_id)
            repo.update_card(session, entry.card_id, entry.snapshot.values)
        self._undo.pop()
        if entry.review_id is not None and self._tally.ratings:
            self._tally.ratings.pop()
        self._queue = entry.queue
        self._current = None
        return self.current

    # --- the end -----------------------------------------------------------------------------

    def summary(self) -> SessionSummary:
        ratings = self._tally.ratings
        with self.store.reading() as rows:
            next_due = self._next_due(rows)
        return SessionSummary(
            cards=len({card for card, _, _ in ratings}),
            ratings=len(ratings),
            by_rating=dict(sorted(Counter(r for _, r, _ in ratings).items())),
            seconds=sum(ms for *_, ms in ratings) / 1000,
            next_due=next_due,
        )

    def _next_due(self, rows: Rows) -> date | None:
        dues = []
        for deck in self._decks:
            day = today(self.clock, deck.day_start_hour).isoformat()
            due = rows(_NEXT_DUE, {"deck_id": deck.id, "day": day})[0][0]
            if due is not None:
                dues.append(day_of(due))
        return min(dues, default=None)
