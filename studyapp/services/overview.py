"""What the home screen and `studyapp decks` show: each deck's counts and today's progress,
with the review-log reads the statistics share (reviews per day, the streak).

Plain SQL (`studyapp.db.reads`), so the app opens on its home screen without waiting for
SQLAlchemy to load: one grouped pass over the cards per day-start hour, and indexed lookups
in the review log for today's reviews and the streak.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from studyapp.clock import Clock, today
from studyapp.db.reads import AVAILABLE, Rows, day_of
from studyapp.model import DeckCounts
from studyapp.scheduling import DEFAULT_DAY_START_HOUR
from studyapp.services.study import decks_in_scope, drilling_today, introduced_and_reviewed

HISTORY_DAYS = 365

_COUNTS = f"""
SELECT c.deck_id, count(*),
  coalesce(sum(CASE WHEN c.due IS NULL AND {AVAILABLE} THEN 1 ELSE 0 END), 0),
  coalesce(sum(CASE WHEN c.due <= :day AND {AVAILABLE} THEN 1 ELSE 0 END), 0),
  coalesce(sum(CASE WHEN c.suspended THEN 1 ELSE 0 END), 0)
FROM cards AS c GROUP BY c.deck_id
"""
# The review log of all decks, or of the deck `:deck_id` (formatted in by `_of_deck`).
_REVIEWS_PER_DAY = """
SELECT r.study_day, count(*) FROM reviews AS r {deck} WHERE r.study_day > :since
GROUP BY r.study_day
"""
_REVIEWED_ON = "SELECT 1 FROM reviews AS r {deck} WHERE r.study_day = :day LIMIT 1"
_REVIEWS_ON = "SELECT count(*) FROM reviews AS r WHERE r.study_day = :day"
_OF_DECK = "JOIN cards AS c ON c.id = r.card_id AND c.deck_id = :deck_id"


@dataclass(frozen=True)
class Today:
    """What the home screen shows: reviews done today and the streak."""

    day: date
    reviewed: int
    streak: int


def deck_counts(rows: Rows, clock: Clock) -> list[DeckCounts]:
    """Every deck's counts, by name: new and due as a review started now would show them
    (within what is left of each daily limit), learning (in today's drill), unseen, total."""
    decks = decks_in_scope(rows, None)
    found: dict[int, tuple[int, int, int, int]] = {}
    done: dict[int, tuple[int, int]] = {}
    learning: Counter[int] = Counter()
    for hour in {d.day_start_hour for d in decks}:
        day = today(clock, hour)
        ids = {d.id for d in decks if d.day_start_hour == hour}
        for deck_id, *numbers in rows(_COUNTS, {"day": day.isoformat()}):
            if deck_id in ids:
                total, unseen, due, suspended = (int(n) for n in numbers)
                found[deck_id] = (total, unseen, due, suspended)
        done |= {i: n for i, n in introduced_and_reviewed(rows, day).items() if i in ids}
        learning.update(deck_id for deck_id, _ in drilling_today(rows, day) if deck_id in ids)
    out = []
    for deck in decks:
        total, unseen, due, suspended = found.get(deck.id, (0, 0, 0, 0))
        new_done, reviews_done = done.get(deck.id, (0, 0))
        new = min(unseen, max(0, deck.new_per_day - new_done))
        due = min(due, max(0, deck.reviews_per_day - reviews_done))
        out.append(DeckCounts(deck.name, total, new, due, learning[deck.id], suspended, unseen))
    return out


def today_progress(rows: Rows, clock: Clock) -> Today:
    """Reviews today and the streak over all decks."""
    day = today(clock, day_start(d.day_start_hour for d in decks_in_scope(rows, None)))
    reviewed = rows(_REVIEWS_ON, {"day": day.isoformat()})[0][0]
    return Today(day, reviewed, streak_of(rows, day))


def reviews_per_day(rows: Rows, day: date, deck_id: int | None = None) -> dict[date, int]:
    """Reviews per study day over the last HISTORY_DAYS days, of one deck or all (an index
    range on the log)."""
    params = {"since": (day - timedelta(days=HISTORY_DAYS)).isoformat(), "deck_id": deck_id}
    found = rows(_REVIEWS_PER_DAY.format(deck=_OF_DECK if deck_id else ""), params)
    return {d: n for value, n in found if (d := day_of(value)) is not None}


def streak_of(rows: Rows, day: date, deck_id: int | None = None) -> int:
    """Consecutive study days with a review, ending on `day` (or the day before, if none yet
    on `day`), of one deck or all: one indexed lookup per day of the streak."""
    statement = _REVIEWED_ON.format(deck=_OF_DECK if deck_id else "")

    def reviewed(on: date) -> bool:
        return bool(rows(statement, {"day": on.isoformat(), "deck_id": deck_id}))

    on = day if reviewed(day) else day - timedelta(days=1)
    streak = 0
    while reviewed(on):
        streak += 1
        on -= timedelta(days=1)
    return streak


def day_start(hours: Iterable[int]) -> int:
    """The day-start hour of some decks: theirs if they agree, else the default."""
    distinct = set(hours)
    return distinct.pop() if len(distinct) == 1 else DEFAULT_DAY_START_HOUR
