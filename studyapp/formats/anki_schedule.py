"""An Anki card's schedule and review log, as studyapp keeps them.

Anki counts a review card's due day as days since its collection was created, so which
day is "today" in the package decides every due date. It is worked out as Anki works it out
(its v1 count of whole days since creation, or its v2 count of local days that roll over at
the collection's hour), and each card is due as many days from today here as it is there.

- A new card stays new. A card in learning or relearning is due on the day Anki has it due.
  A review card keeps its interval, ease and lapses; its repetitions (passes in a row, which
  SM-2 needs) come from its log, and are at least 2, so SM-2 goes on from its interval
  instead of starting again at 1 and 6 days. An FSRS memory state Anki gave it comes along.
- Each log entry with a button becomes a review marked as imported: buttons 1-4 are ratings
  1, 3, 4 and 5. The first of a study day is the state-changing one (new, review or
  relearn); later ones that day are drill. Entries without a button (a card rescheduled or
  reset by hand) are not ratings and are left out.
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
    MAX_EASE_CENTS,
    MAX_INTERVAL,
    MIN_EASE_CENTS,
    SM2State,
    study_day,
)
from studyapp.scheduling.days import add_days
from studyapp.scheduling.fsrs import FROM_FOUR_BUTTONS, FSRSMemory
from studyapp.scheduling.sm2 import PASSING_RATING, sm2_review

DAY_SECONDS = 86_400
REVIEW_TYPE, LEARNING_TYPE, RELEARNING_TYPE = 2, 1, 3
SUSPENDED_QUEUE = -1
LEARNING_QUEUE = 1  # due is a time in seconds; the day-learning queue (3) has a day number
MIN_REVIEW_REPETITIONS = 2


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
    """The studyapp schedule of an Anki card, `today` being Anki's day `anki_today`."""
    drafts, streak = review_drafts(reviews, day_start_hour)
    left_out = len(reviews) - len(drafts)
    suspended = card.queue == SUSPENDED_QUEUE
    ease = min(MAX_EASE_CENTS, max(MIN_EASE_CENTS, card.factor // 10 or 250)) / 100
    lapses = max(0, card.lapses)
    if card.type == REVIEW_TYPE:
        interval = min(MAX_INTERVAL, max(1, card.interval))
        due = _in_days(today, card.due - anki_today)
        repetitions = max(MIN_REVIEW_REPETITIONS, streak)
    elif card.type in (LEARNING_TYPE, RELEARNING_TYPE):
        moment = _moment(card.due * 1000) if card.queue == LEARNING_QUEUE else None
        if moment is not None:
            due = study_day(moment.astimezone().replace(tzinfo=None), day_start_hour)
        else:
            due = _in_days(today, card.due - anki_today if card.queue != LEARNING_QUEUE else 0)
        interval = 0 if card.type == LEARNING_TYPE else min(MAX_INTERVAL, max(1, card.interval))
        repetitions = 0
    else:
        return Schedule(None, suspended, None, drafts, left_out)
    state = SM2State(ease, repetitions, interval, due, lapses)
    return Schedule(state, suspended, _memory(card.data), drafts, left_out)


def review_drafts(
    reviews: Sequence[AnkiReview], day_start_hour: int
) -> tuple[tuple[ReviewDraft, ...], int]:
    """A card's log entries with a button, as imported reviews; and how many of its
    state-changing ratings at the end passed in a row."""
    out: list[ReviewDraft] = []
    state = SM2State.new()
    last_day: date | None = None
    for entry in sorted(reviews, key=lambda r: r.id):
        if entry.ease not in FROM_FOUR_BUTTONS:
            continue
        rating = FROM_FOUR_BUTTONS[entry.ease]
        at = _moment(entry.id)
        if at is None:
            continue
        day = study_day(at.astimezone().replace(tzinfo=None), day_start_hour)
        duration = min(max(0, entry.time_ms), MAX_REVIEW_MS)
        if last_day is not None and day <= last_day:
            out.append(ReviewDraft(at, day, rating, duration, "drill", state, state, imported=True))
            continue
        kind = "new" if last_day is None else "relearn" if entry.type == 2 else "review"
        shadow = sm2_review(state, rating, day)
        interval = min(MAX_INTERVAL, max(0, entry.interval))
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


def _in_days(today: date, days: int) -> date:
    """`days` from `today`, no further than the longest interval either way."""
    return add_days(today, min(MAX_INTERVAL, max(-MAX_INTERVAL, days)))


def _moment(milliseconds: int) -> datetime | None:
    """An Anki timestamp in milliseconds, if it is a time this side of the year 10,000."""
    try:
        moment = datetime.fromtimestamp(milliseconds / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment if 1970 < moment.year < 9999 else None


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
