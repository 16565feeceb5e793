"""A study session: today's queue, ratings, the same-day drill, undo, suspend and bury.

The queue is built once when the session starts: due reviews most-overdue first within the
deck's daily review limit, new cards in deck order within the daily new limit (counting those
already introduced today), spread evenly among the reviews. Over several decks, each deck's
cards are spread over the session (reviews within each due date, new cards over all), so
"review all decks" mixes them instead of going one deck at a time. Cards still in the drill
from an earlier session today come first.

When nothing is left, the learner can study more: extra new cards beyond today's limit
(`add_new`), or review ahead, cards due within the next few days (`review_ahead`). A card
reviewed ahead is logged as "early" and scheduled by `sm2_answer`, which never makes it due
sooner than it was.

`preview` says what each rating would do to the card on screen (its next interval, whether it
comes back today), computed by the same code that applies the rating.

Each rating is its own unit of work, committed before the next card is chosen. Only the first
rating of a card on a study day changes its state; a card rated below 4 comes back a few cards
later (SM-2's same-day drill) until it is rated 4 or 5, and those repeats are logged as
"drill" without changing anything.

Undo takes back only what the action changed, and only while nothing else has changed it
since: a rating's log entry and schedule (and the leech tag it added), a suspend's or a
bury's flag. Another window or an import may have written to the collection meanwhile, so
undo first checks, in its own transaction, that the rating is still the card's latest and
that its schedule and flags are as the action left them; if not, it refuses and says why.
An edit of the card's text or tags since (an import, the editor) is not the rating's to take
back, and survives the undo. So the card's state always agrees with its review log.

The session reads in plain SQL (`studyapp.db.reads`), so `studyapp review` shows its first card
before SQLAlchemy has loaded; the writes import the repository when first needed (the app
loads it in the background once that card is on screen).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal, NamedTuple, TypeVar

from studyapp.clock import Clock, system_clock, today
from studyapp.db import Store
from studyapp.db.reads import (
    AVAILABLE,
    Rows,
    StudyCard,
    change_known_on,
    day_of,
    study_card,
    study_cards,
    study_cards_from,
    study_cards_query,
)
from studyapp.errors import CollectionError, NoSuchDeckError, UnconfirmedWrite, UserError
from studyapp.model import (
    LEECH_LAPSES,
    LEECH_TAG,
    Card,
    DeckSettings,
    Review,
    named_alike,
    normalize_tags,
)
from studyapp.scheduling import RATING_LABELS, SM2State, check_rating
from studyapp.scheduling.fsrs import FSRSMemory
from studyapp.services import outcomes

DRILL_GAP = 3  # a drilled card comes back after this many other cards
DRILL_PASS = 4  # ratings below this bring a card back the same day
MAX_COUNTED_MS = 60_000  # time on one card counts at most a minute, as Anki does

ItemKind = Literal["new", "review", "drill", "early"]
T = TypeVar("T")


@dataclass(frozen=True)
class QueueItem:
    card_id: int
    kind: ItemKind


@dataclass(frozen=True)
class Remaining:
    """Cards left in the session: new, reviews (reviews ahead included) and learning (the
    cards in today's drill, shown again until rated 4 or 5)."""

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
class Outcome:
    """What one rating would do to the card on screen (see `StudySession.preview`).

    `days` counts from today's study day to the day the card is next due once today's
    study of it is over; `again_today` says it comes back later in this session first (the
    same-day drill). Any scheduler can answer in these terms.
    """

    rating: int
    due: date | None
    days: int
    again_today: bool
    changes_state: bool


@dataclass(frozen=True)
class MoreToStudy:
    """What the learner could study beyond today's queue."""

    new: int  # new cards not in the queue, beyond today's limit
    ahead: int  # cards due within `days` days, not yet due
    days: int


@dataclass(frozen=True)
class SessionSummary:
    cards: int
    ratings: int
    by_rating: dict[int, int]
    seconds: float
    next_due: date | None


@dataclass
class _Undo:
    """What one study action changed, so undo can take back that and nothing else.

    A rating: its review (the state before and after) and whether it added the leech tag,
    with the card's flags at the time. A suspend or a bury: the flag's value before and
    after. The session's queue as it was, for the session itself.
    """

    card_id: int
    uid: str  # which card: a row id is given again to a card added after one deleted
    queue: list[QueueItem]
    flags: tuple[bool, date | None]  # suspended, buried_until: as the action left them
    review: Review | None = None
    leech_added: bool = False
    flag_before: tuple[str, Any] | None = None  # a suspend's or bury's column and old value


# The card's latest review, and whether the review `review_id` is still in the log. Of any
# kind: a same-day repeat made in another window after the rating refers to the state the
# rating left, so it too stops the rating being taken back.
_LATEST_REVIEW = (
    "SELECT max(id), count(CASE WHEN id = :review_id THEN 1 END) FROM reviews"
    " WHERE card_id = :card_id"
)


@dataclass
class _Tally:
    ratings: list[tuple[int, int, int]] = field(default_factory=list)  # card, rating, ms


def spread(groups: Sequence[Sequence[T]]) -> list[T]:
    """The items of every group, each group spread evenly over the result in its own order.

    Item i of a group of n sits at (i + 1/2) / n of the way through; ties go to the earlier
    group. Two decks of 20 alternate; a deck of 40 and one of 10 give one card of the small
    deck every five.
    """
    keyed = [
        ((2 * i + 1) / (2 * len(group)), order, i)
        for order, group in enumerate(groups)
        for i in range(len(group))
    ]
    keyed.sort()
    return [groups[order][i] for _, order, i in keyed]


def soonest_first(per_deck: Sequence[Sequence[tuple[date, int]]]) -> list[int]:
    """Card ids by due date, earliest first; within one due date, each deck's cards (in the
    deck's own order) spread over it."""
    by_day: dict[date, list[list[int]]] = {}
    for order, cards in enumerate(per_deck):
        for due, card_id in cards:
            by_day.setdefault(due, [[] for _ in per_deck])[order].append(card_id)
    return [cid for due in sorted(by_day) for cid in spread(by_day[due])]


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
_CHANGED_ON = (
    "SELECT 1 FROM reviews WHERE card_id = :card_id AND study_day = :day AND kind != 'drill'"
    " LIMIT 1"
)
# Cards of a deck that are not yet due but will be within `:until`, soonest first; not those
# whose schedule was already changed today (only one rating a day changes a card).
_AHEAD_CARDS = f"""
SELECT c.due, c.position, c.id FROM cards AS c
WHERE c.deck_id = :deck_id AND c.due > :day AND c.due <= :until AND {AVAILABLE}
  AND NOT EXISTS (
    SELECT 1 FROM reviews AS r
    WHERE r.card_id = c.id AND r.study_day = :day AND r.kind != 'drill'
  )
ORDER BY c.due, c.position, c.id
"""
_COUNT_NEW = f"""
SELECT count(*) FROM cards AS c WHERE c.deck_id = :deck_id AND c.due IS NULL AND {AVAILABLE}
"""


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
    if not found:  # the one deck named so but for letter case, if there is one
        every = {row[1]: row for row in rows(_DECKS, {})}
        alike = named_alike(every, deck)
        found = [every[alike]] if alike is not None else []
    if not found:
        raise NoSuchDeckError(deck)
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
    dues: list[list[tuple[date, int]]] = []
    news: list[list[QueueItem]] = []
    for deck in decks:
        day = days[deck.day_start_hour].isoformat()
        new_done, reviews_done = done.get(deck.id, (0, 0))
        review_room = max(0, deck.reviews_per_day - reviews_done)
        new_room = max(0, deck.new_per_day - new_done)
        due_rows = []
        if review_room:
            due_rows = rows(_DUE_CARDS, {"deck_id": deck.id, "day": day, "room": review_room})
        dues.append([(_day(due), cid) for due, _, cid in due_rows])
        if new_room:
            new_rows = rows(_NEW_CARDS, {"deck_id": deck.id, "day": day, "room": new_room})
            news.append([QueueItem(cid, "new") for (cid,) in new_rows])
    reviews = [QueueItem(cid, "review") for cid in soonest_first(dues)]
    return drill + interleave(reviews, spread(news))


def _day(value: Any) -> date:
    found = day_of(value)
    assert found is not None, "a due card has a due date"
    return found


def changed_on(rows: Rows, card_id: int, day: date) -> bool:
    """Whether the card's schedule was already changed on `day` (by a rating that was not a
    drill repeat): only the first rating of a study day changes a card."""
    return bool(rows(_CHANGED_ON, {"card_id": card_id, "day": day.isoformat()}))


def next_state(
    card: Card, rating: int, day: date, changes: bool, settings: DeckSettings
) -> tuple[SM2State, FSRSMemory | None, str]:
    """The card's schedule and FSRS memory after `rating` on `day`, and the kind of review.

    The one place a rating becomes a schedule, for `answer` and `preview` alike; the deck's
    scheduler (SM-2 or FSRS) does the arithmetic (`services.outcomes`).
    """
    before = card.state
    if not changes:
        return before, card.memory, "drill"
    after, memory = outcomes.next_state(card, rating, day, settings)
    if before.is_new:
        return after, memory, "new"
    if before.due is not None and day < before.due:
        return after, memory, "early"
    return after, memory, "review"


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
        self._current_settings = DeckSettings()  # the settings of the current card's deck
        self._current_changed: date | None = None  # its latest schedule-changing day
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

    def _head(self, rows: Rows, known: Mapping[int, StudyCard] | None = None) -> Card | None:
        """The first card of the queue that still exists and is not suspended (`known`: cards
        already read in this unit of work, and not changed since)."""
        while self._queue:
            card_id = self._queue[0].card_id
            found = known[card_id] if known and card_id in known else study_card(rows, card_id)
            known = None  # only the first card of the queue was read ahead
            if found is not None and not found.card.suspended:
                self._current_settings = found.settings
                self._current_changed = found.changed_day
                return found.card
            self._queue.pop(0)  # deleted or suspended elsewhere since the queue was built
        return None

    @property
    def current_kind(self) -> ItemKind | None:
        return self._queue[0].kind if self.current is not None else None

    @property
    def remaining(self) -> Remaining:
        kinds = Counter(item.kind for item in self._queue)
        return Remaining(kinds["new"], kinds["review"] + kinds["early"], kinds["drill"])

    def preview(self) -> dict[int, Outcome]:
        """What each rating 1-5 would do to the card on screen; empty when there is none.

        Whether the card was already rated today comes with the card's read (a query only
        when the clock was set back since). The outcomes come from `next_state`, the code
        `answer` applies.
        """
        card = self.current
        if card is None:
            return {}
        settings = self._current_settings
        day = today(self.clock, settings.day_start_hour)
        changed = change_known_on(self._current_changed, day)
        if changed is None:
            with self.store.reading() as rows:
                changed = changed_on(rows, card.id, day)
        changes = not changed
        out = {}
        for rating in RATING_LABELS:
            after, _, _ = next_state(card, rating, day, changes, settings)
            days = (after.due - day).days if after.due is not None else 0
            out[rating] = Outcome(rating, after.due, days, rating < DRILL_PASS, changes)
        return out

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
        from studyapp.db.store import read_along_rows, rows_in

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
            # The card rated and the one to show next, read at once (on a server, in the round
            # trip that takes the write lock).
            upcoming = self._queue[0].card_id if self._queue else card.id
            with self.store.write(study_cards_query(card.id, upcoming)) as session:
                rows = rows_in(session)
                ahead = read_along_rows(session)
                if ahead is None:
                    cards = study_cards(rows, card.id, upcoming)
                else:
                    cards = study_cards_from(ahead)
                found = cards.get(card.id)
                if found is None or found.card.uid != card.uid:
                    raise UserError("this card was deleted while it was on screen")
                day = today(lambda: now, found.day_start_hour)
                before, memory_before = found.card.state, found.card.memory
                changed = change_known_on(found.changed_day, day)
                changes = not (changed_on(rows, card.id, day) if changed is None else changed)
                after, memory_after, kind = next_state(
                    found.card, quality, day, changes, found.settings
                )
                values = repo.state_values(after) | repo.memory_values(memory_after)
                tags = found.card.tags
                if after.lapses > before.lapses and after.lapses >= LEECH_LAPSES:
                    tags = normalize_tags([*tags, LEECH_TAG])
                    values["tags"] = repo.tags_to_db(tags)
                review = repo.record_rating(
                    session,
                    card.id,
                    values,
                    repo.review_values(
                        card.id,
                        now,
                        day,
                        quality,
                        duration_ms,
                        kind,
                        before,
                        after,
                        memory_before,
                        memory_after,
                    ),
                )
                # The next card, unless it is the card just rated, was read above.
                cards.pop(card.id)
                following = self._head(rows, cards)  # in the same unit of work
        except UnconfirmedWrite:
            self._queue = queue_before
            self._in_flight = _InFlight(found, now, quality, duration_ms, queue_before)
            return self._settle_now()
        except BaseException:
            self._queue = queue_before
            raise
        flags = (found.card.suspended, found.card.buried_until)
        leech_added = "tags" in values and LEECH_TAG not in found.card.tags
        self._undo.append(_Undo(card.id, card.uid, queue_before, flags, review, leech_added))
        self._tally.ratings.append((card.id, quality, duration_ms))
        self._current = following
        self._shown_at = now if following is not None else None
        updated = replace(found.card, state=after, memory=memory_after, tags=tags)
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
        # Under the write lock: the lost connection's transaction may still hold it, its
        # commit on its way; a plain read then would not see the rating, and call it lost.
        with self.store.write() as session:
            review = repo.stored_review(session, card_id, flight.at, flight.rating)
        self._in_flight = None
        if review is None:
            return None
        comes_back = flight.rating < DRILL_PASS
        self._queue = list(flight.queue)
        self._queue.pop(0)
        if comes_back:
            self._queue.insert(min(self.drill_gap, len(self._queue)), QueueItem(card_id, "drill"))
        found = flight.found.card
        flags = (found.suspended, found.buried_until)
        leech_added = (
            review.after.lapses > review.before.lapses
            and review.after.lapses >= LEECH_LAPSES
            and LEECH_TAG not in found.tags
        )
        undo = _Undo(card_id, found.uid, list(flight.queue), flags, review, leech_added)
        self._undo.append(undo)
        self._tally.ratings.append((card_id, flight.rating, flight.duration_ms))
        self._current = None
        card = replace(flight.found.card, state=review.after, memory=review.memory_after)
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

        recovered = self._settle()
        if recovered is not None:  # the card on screen was rated after all; the next shows
            raise UserError(
                f"your rating {recovered.review.rating} of this card reached the server before "
                "the connection was lost: it stands, and nothing else was done"
            )
        card = self.current
        if card is None:
            raise UserError("there is no card on screen")
        queue_before = list(self._queue)
        with self.store.write() as session:
            found = study_card(rows_in(session), card.id)
            if found is None or found.card.uid != card.uid:
                raise UserError("this card was deleted while it was on screen")
            now = found.card
            if suspend:
                change: dict[str, Any] = {"suspended": True}
                before: tuple[str, Any] = ("suspended", now.suspended)
                flags = (True, now.buried_until)
            else:
                day = today(self.clock, found.day_start_hour)
                change = {"buried_until": day + timedelta(days=1)}
                before = ("buried_until", now.buried_until)
                flags = (now.suspended, change["buried_until"])
            repo.update_card(session, card.id, change)
        self._undo.append(_Undo(card.id, card.uid, queue_before, flags, flag_before=before))
        self._queue = [item for item in self._queue if item.card_id != card.id]
        self._current = None
        return replace(found.card, **change)

    def undo(self) -> Card | None:
        """Take back the last rating, suspend or bury: the card returns with its old state.

        Raises UserError, saying why, when the card changed since in a way the action did not
        make (rated again, a same-day repeat in another window included, suspended,
        rescheduled, deleted); that action can then no longer be undone, and the one before
        it is next. Undoing a same-day repeat only removes it from the log.
        """
        from studyapp.db import repository as repo
        from studyapp.db.store import rows_in

        self._settle()
        if not self._undo:
            return None
        entry = self._undo[-1]
        with self.store.write() as session:
            rows = rows_in(session)
            found = study_card(rows, entry.card_id)
            problem = self._undo_problem(rows, entry, found)
            if problem is not None:
                self._undo.pop()
                raise UserError(f"cannot undo: {problem}")
            assert found is not None
            if entry.review is not None and entry.review.kind == "drill":
                values = {}  # a same-day repeat changed nothing but the log
                repo.delete_review(session, entry.review.id)
            elif entry.review is not None:
                values = repo.state_values(entry.review.before) | repo.memory_values(
                    entry.review.memory_before
                )
                if entry.leech_added and LEECH_TAG in found.card.tags:
                    kept = [tag for tag in found.card.tags if tag != LEECH_TAG]
                    values["tags"] = repo.tags_to_db(kept)
                repo.delete_review(session, entry.review.id)
            else:
                assert entry.flag_before is not None
                column, old = entry.flag_before
                values = {column: old}
            if values:
                repo.update_card(session, entry.card_id, values)
        self._undo.pop()
        if entry.review is not None and self._tally.ratings:
            self._tally.ratings.pop()
        self._queue = entry.queue
        self._current = None
        return self.current

    @staticmethod
    def _undo_problem(rows: Rows, entry: _Undo, found: StudyCard | None) -> str | None:
        """Why `entry` cannot be taken back now, or None: the card must be as it left it."""
        if found is None or found.card.uid != entry.uid:
            return "the card was deleted since"
        card = found.card
        suspended, buried_until = entry.flags
        if entry.review is not None:
            latest, still_there = rows(
                _LATEST_REVIEW, {"card_id": entry.card_id, "review_id": entry.review.id}
            )[0]
            if not still_there:
                return "that rating was already taken back, in another window"
            if entry.review.kind == "drill":
                return None  # taking back a repeat only removes it from the log
            if latest != entry.review.id:
                return (
                    "the card was rated again since, in another window; that rating stands, "
                    "and undo goes on to the action before this one"
                )
            if card.state != entry.review.after or card.memory != entry.review.memory_after:
                return "the card's schedule was changed since (by an import or a restore)"
        if card.suspended != suspended:
            return "the card was suspended since" if card.suspended else "it was unsuspended since"
        if card.buried_until != buried_until:
            return "the card was buried or unburied since"
        return None

    # --- studying more -----------------------------------------------------------------------

    def more(self, days: int) -> MoreToStudy:
        """How many new cards are left beyond today's queue, and how many cards fall due
        within the next `days` days (not yet due, not already rated today)."""
        queued = {item.card_id for item in self._queue}
        with self.store.reading() as rows:
            new = sum(
                rows(_COUNT_NEW, {"deck_id": d.id, "day": self._day_of(d).isoformat()})[0][0]
                for d in self._decks
            )
            new -= sum(1 for item in self._queue if item.kind == "new")
            ahead = sum(
                1 for group in self._ahead(rows, days) for _, cid in group if cid not in queued
            )
        return MoreToStudy(max(0, new), ahead, days)

    def add_new(self, count: int) -> int:
        """Add up to `count` new cards to the session beyond today's new-card limit, spread
        over the decks; returns how many were added. They are logged as new cards, so they
        count against the limit of the rest of the day."""
        if count < 1:
            return 0
        queued = {item.card_id for item in self._queue}
        groups = []
        with self.store.reading() as rows:
            for deck in self._decks:
                params = {
                    "deck_id": deck.id,
                    "day": self._day_of(deck).isoformat(),
                    "room": count + len(queued),
                }
                found = [cid for (cid,) in rows(_NEW_CARDS, params) if cid not in queued]
                groups.append([QueueItem(cid, "new") for cid in found[:count]])
        added = spread(groups)[:count]
        self._extend(added)
        return len(added)

    def review_ahead(self, days: int) -> int:
        """Add the cards due within the next `days` days to the session, soonest first with
        the decks mixed; returns how many. Each is logged as an early review and scheduled
        so that it is never due sooner than it was (`sm2_answer`)."""
        if days < 1:
            return 0
        queued = {item.card_id for item in self._queue}
        with self.store.reading() as rows:
            ahead = soonest_first(self._ahead(rows, days))
        added = [QueueItem(cid, "early") for cid in ahead if cid not in queued]
        self._extend(added)
        return len(added)

    def _ahead(self, rows: Rows, days: int) -> list[list[tuple[date, int]]]:
        """Each deck's cards due within `days` days after its study day: (due, id)."""
        groups = []
        for deck in self._decks:
            day = self._day_of(deck)
            params = {
                "deck_id": deck.id,
                "day": day.isoformat(),
                "until": (day + timedelta(days=days)).isoformat(),
            }
            groups.append([(_day(due), cid) for due, _, cid in rows(_AHEAD_CARDS, params)])
        return groups

    def _extend(self, items: list[QueueItem]) -> None:
        if items:
            self._queue += items
            self._current = None

    def _day_of(self, deck: DeckScope) -> date:
        return today(self.clock, deck.day_start_hour)

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
