"""An Anki card's schedule and review log, as studyapp keeps them.

Anki counts a review card's due day as days since its collection was created, so which
day is "today" in the package decides every due date. It is worked out as Anki works it out
(its v1 count of whole days since creation, or its v2 count of local days that roll over at
the collection's hour), and each card is due as many days from today here as it is there.

- A new card stays new. A card in learning or relearning is due on the day Anki has it due.
  A review card keeps its interval, ease and lapses; its repetitions (passes in a row, which
  SM-2 needs) are those studyapp's own export kept in its custom data, else they come from
  its log, and are at least 2, so SM-2 goes on from its interval instead of starting again
  at 1 and 6 days. An FSRS memory state Anki gave it comes along.
- Each log entry with a button becomes a review marked as imported: buttons 1-4 are ratings
  1, 3, 4 and 5. The first of a study day is the state-changing one (new, review or
  relearn); later ones that day are drill. Entries without a button (a card rescheduled or
  reset by hand) are not ratings and are left out.

Numbers Anki itself cannot write are refused (OutOfRange names the field and its bounds):
the collection's creation time, offset and rollover hour; a card's interval, ease factor
(in thousandths), lapse count and due day or time; a log entry's time (its id, which must
fall on a day the collection keeps), answer time and
interval. Within them, real Anki data reads as Anki has it: an ease below 1.3 is 1.3 and a
negative log interval (seconds, while learning) is 0 days.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from studyapp.formats.anki_collection import AnkiCard, AnkiReview, Timing
from studyapp.formats.base import ReviewDraft
from studyapp.model import MAX_REVIEW_MS
from studyapp.scheduling import (
    MAX_COUNT,
    MAX_EASE_CENTS,
    MAX_INTERVAL,
    MIN_EASE_CENTS,
    SM2State,
    study_day,
)
from studyapp.scheduling.days import (
    DAY_BOUNDS,
    LAST_DAY,
    add_days,
    in_bounds,
    within_bounds,
)
from studyapp.scheduling.fsrs import FROM_FOUR_BUTTONS, FSRSMemory
from studyapp.scheduling.sm2 import PASSING_RATING, sm2_review

DAY_SECONDS = 86_400
REVIEW_TYPE, LEARNING_TYPE, RELEARNING_TYPE = 2, 1, 3
SUSPENDED_QUEUE = -1
LEARNING_QUEUE = 1  # due is a time in seconds; the day-learning queue (3) has a day number
DAY_LEARNING_QUEUE = 3
# The keys in a card's custom data (`cd` in its data) under which studyapp's export keeps the
# card's SM-2 repetitions (passes in a row), which Anki does not keep, and the card's answer
# count (`reps`) at the time: Anki keeps custom data as a card is studied there, so the
# repetitions hold only while the count is what it was.
REPETITIONS_KEY = "sm2reps"
ANSWERS_KEY = "sm2seen"
_A_TIME = 1_000_000_000  # a learning card's due above this is a time in seconds, not a day
MIN_REVIEW_REPETITIONS = 2
MAX_FACTOR = MAX_EASE_CENTS * 10  # Anki's ease factor is in thousandths
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The collection's creation time: from 1970 to the last day the collection keeps.
MAX_CREATED = int((datetime.combine(LAST_DAY, datetime.min.time(), UTC) - EPOCH).total_seconds())
MAX_OFFSET_MINUTES = 24 * 60 - 1  # a time zone is less than a day from UTC


class OutOfRange(ValueError):
    """A number in the package that Anki cannot have written; the message names its bounds."""


def timing_problem(timing: Timing) -> str | None:
    """What is wrong with a collection's timing values, or None."""
    if not 0 <= timing.created <= MAX_CREATED:
        return (
            f"its creation time (col.crt) {timing.created} is outside 0..{MAX_CREATED}"
            f" (seconds since 1970, up to {LAST_DAY.isoformat()})"
        )
    offset = timing.creation_offset
    if offset is not None and not -MAX_OFFSET_MINUTES <= offset <= MAX_OFFSET_MINUTES:
        return (
            f"its creationOffset {offset} is outside -{MAX_OFFSET_MINUTES}..{MAX_OFFSET_MINUTES}"
            " (minutes west of UTC)"
        )
    hour = timing.rollover_hour
    if hour is not None and not 0 <= hour <= 23:
        return f"its rollover hour {hour} is outside 0..23"
    return None


def review_moment(milliseconds: int) -> datetime:
    """A review log id (milliseconds since 1970) as an aware time in UTC; OutOfRange unless
    it falls on a day the collection keeps."""
    try:
        moment = EPOCH + timedelta(milliseconds=milliseconds)
    except OverflowError:
        moment = None
    if moment is None or not in_bounds(moment.date()):
        raise OutOfRange(
            f"its time {milliseconds} (milliseconds since 1970) is outside {DAY_BOUNDS}"
        )
    return moment


def days_elapsed(timing: Timing, now: datetime) -> int:
    """Anki's day number for `now` (an aware time) in a collection with this timing."""
    created, stamp = timing.created, int(now.timestamp())
    local_west = -int((now.utcoffset() or timedelta()).total_seconds() // 60)
    if timing.scheduler_version < 2:
        return max(0, (stamp - created) // DAY_SECONDS)
    rollover = timing.rollover_hour if timing.rollover_hour is not None else 4
    if timing.creation_offset is None:
        zone = timezone(timedelta(minutes=-local_west))
        start = datetime.fromtimestamp(created, zone)
        at_rollover = start.replace(hour=rollover, minute=0, second=0, microsecond=0)
        return max(0, (stamp - int(at_rollover.timestamp())) // DAY_SECONDS)
    created_at = datetime.fromtimestamp(
        created, timezone(timedelta(minutes=-timing.creation_offset))
    )
    now_at = now.astimezone(timezone(timedelta(minutes=-local_west)))
    days = (now_at.date() - created_at.date()).days
    if now_at < now_at.replace(hour=rollover, minute=0, second=0, microsecond=0):
        days -= 1
    return max(0, days)


@dataclass(frozen=True)
class Schedule:
    state: SM2State | None
    suspended: bool
    memory: FSRSMemory | None
    reviews: tuple[ReviewDraft, ...]
    left_out: int  # log entries that were not ratings


def card_schedule(
    card: AnkiCard,
    reviews: Sequence[AnkiReview],
    anki_today: int,
    today: date,
    day_start_hour: int,
) -> Schedule:
    """The studyapp schedule of an Anki card, `today` being Anki's day `anki_today`;
    OutOfRange for a number Anki cannot have written."""
    drafts, streak = review_drafts(reviews, day_start_hour)
    left_out = len(reviews) - len(drafts)
    suspended = card.queue == SUSPENDED_QUEUE
    _check_card(card)
    ease = min(MAX_EASE_CENTS, max(MIN_EASE_CENTS, card.factor // 10 or 250)) / 100
    lapses = card.lapses
    if card.type == REVIEW_TYPE:
        interval = max(1, card.interval)
        due = _due_day(today, card.due - anki_today)
        repetitions = _kept_repetitions(card) or max(MIN_REVIEW_REPETITIONS, streak)
    elif card.type in (LEARNING_TYPE, RELEARNING_TYPE):
        # A learning card suspended or buried keeps its due as a time when it was in the
        # learning queue: Anki tells the two apart by the size of the number, as here.
        if card.queue == LEARNING_QUEUE or (card.queue < 0 and card.due > _A_TIME):
            moment = _due_moment(card.due)
            due = within_bounds(study_day(moment.astimezone().replace(tzinfo=None), day_start_hour))
        else:
            due = _in_days(today, card.due - anki_today)
        interval = 0 if card.type == LEARNING_TYPE else max(1, card.interval)
        repetitions = 0
    else:
        return Schedule(None, suspended, None, drafts, left_out)
    state = SM2State(ease, repetitions, interval, due, lapses)
    return Schedule(state, suspended, _memory(card.data), drafts, left_out)


def _check_card(card: AnkiCard) -> None:
    if card.unreadable:
        raise OutOfRange(card.unreadable)
    if not 0 <= card.factor <= MAX_FACTOR:
        raise OutOfRange(f"its ease factor {card.factor} is outside 0..{MAX_FACTOR} (thousandths)")
    if not 0 <= card.lapses <= MAX_COUNT:
        raise OutOfRange(f"its lapses {card.lapses} is outside 0..{MAX_COUNT:,}")
    if card.type in (REVIEW_TYPE, RELEARNING_TYPE) and card.interval > MAX_INTERVAL:
        raise OutOfRange(f"its interval (ivl) {card.interval} is outside 0..{MAX_INTERVAL} days")


def _due_day(today: date, days: int) -> date:
    """The day a review card is due, `days` from `today`: one the collection keeps."""
    try:
        due = today + timedelta(days=days)
    except OverflowError:
        due = None
    if due is None or not in_bounds(due):
        raise OutOfRange(f"its due day is {days:+} days from today, outside {DAY_BOUNDS}")
    return due


def _due_moment(seconds: int) -> datetime:
    """The time a card in learning is due (seconds since 1970)."""
    try:
        return review_moment(seconds * 1000)
    except OutOfRange:
        raise OutOfRange(
            f"its due time {seconds} (seconds since 1970) is outside {DAY_BOUNDS}"
        ) from None


def review_drafts(
    reviews: Sequence[AnkiReview], day_start_hour: int
) -> tuple[tuple[ReviewDraft, ...], int]:
    """A card's log entries with a button, as imported reviews; and how many of its
    state-changing ratings at the end passed in a row. OutOfRange names the first entry
    that holds a number Anki cannot have written."""
    for entry in reviews:
        if entry.unreadable:
            raise OutOfRange(f"review log entry {entry.id}: {entry.unreadable}")
        if entry.ease not in FROM_FOUR_BUTTONS:
            continue  # not a rating: left out
        try:
            _check_entry(entry)
        except OutOfRange as error:
            raise OutOfRange(f"review log entry {entry.id}: {error}") from None
    out: list[ReviewDraft] = []
    state = SM2State.new()
    last_day: date | None = None
    for entry in sorted(reviews, key=lambda r: r.id):
        if entry.ease not in FROM_FOUR_BUTTONS:
            continue
        rating = FROM_FOUR_BUTTONS[entry.ease]
        at = review_moment(entry.id)
        day = within_bounds(study_day(at.astimezone().replace(tzinfo=None), day_start_hour))
        duration = entry.time_ms
        if last_day is not None and day <= last_day:
            out.append(ReviewDraft(at, day, rating, duration, "drill", state, state, imported=True))
            continue
        kind = "new" if last_day is None else "relearn" if entry.type == 2 else "review"
        shadow = sm2_review(state, rating, day)
        interval = max(0, entry.interval)  # negative: seconds, while learning
        ease_cents = entry.factor // 10
        after = SM2State(
            ease=ease_cents / 100 if MIN_EASE_CENTS <= ease_cents <= MAX_EASE_CENTS else state.ease,
            repetitions=shadow.repetitions,
            interval=interval,
            due=add_days(day, interval),
            lapses=shadow.lapses,
        )
        out.append(ReviewDraft(at, day, rating, duration, kind, state, after, imported=True))
        state, last_day = after, day
    streak = 0
    for draft in reversed(out):
        if draft.kind == "drill":
            continue
        if draft.rating < PASSING_RATING:
            break
        streak += 1
    return tuple(out), streak


def _check_entry(entry: AnkiReview) -> None:
    review_moment(entry.id)  # OutOfRange outside the days the collection keeps
    if not 0 <= entry.time_ms <= MAX_REVIEW_MS:
        raise OutOfRange(
            f"its answer time {entry.time_ms} is outside 0..{MAX_REVIEW_MS:,} milliseconds"
        )
    if entry.interval > MAX_INTERVAL:
        raise OutOfRange(f"its interval (ivl) {entry.interval} is outside ..{MAX_INTERVAL} days")


def _in_days(today: date, days: int) -> date:
    """`days` from `today`, no further than the longest interval either way."""
    return add_days(today, min(MAX_INTERVAL, max(-MAX_INTERVAL, days)))


def _kept_repetitions(card: AnkiCard) -> int | None:
    """The SM-2 repetitions studyapp's export kept in a review card's custom data, when it
    holds a sound count (1 or more: a review card has passed at least once) and the card
    has not been answered since (in Anki, whose log then tells its passes in a row)."""
    try:
        custom = json.loads(json.loads(card.data)["cd"]) if card.data else None
        if not isinstance(custom, dict):
            return None
        kept, seen = custom.get(REPETITIONS_KEY), custom.get(ANSWERS_KEY)
    except (ValueError, TypeError, KeyError, RecursionError):
        return None
    if seen != card.reps or isinstance(seen, bool):
        return None
    if isinstance(kept, int) and not isinstance(kept, bool) and 1 <= kept <= MAX_COUNT:
        return kept
    return None


def _memory(data: str) -> FSRSMemory | None:
    """FSRS's memory state from an Anki card's data, when it holds a sound one."""
    if not data:
        return None
    try:
        parsed = json.loads(data)
        memory = FSRSMemory(float(parsed["s"]), float(parsed["d"]))
        memory.check()
    except (ValueError, TypeError, KeyError, RecursionError):
        return None
    return memory
