"""FSRS-6 on the 1-5 scale: one rating moves a card, through the maintained `fsrs` package.

The formulas are the package's (`fsrs.Scheduler`); this module only says how a studyapp card
meets them:

- Ratings: 1 Not at all and 2 Barely are Again, 3 Somewhat is Hard, 4 Mostly is Good,
  5 Perfectly is Easy. Pass and fail agree with SM-2 (3 and up passes), so the SM-2 fields a
  card keeps beside its FSRS memory (ease, repetitions, lapses) move exactly as SM-2 moves
  them, and a deck switched back to SM-2 continues from the card's current interval.
- Days, not minutes: only the first rating of a study day changes a card (the same-day drill
  is the study session's), so the package runs without learning steps, every review happens
  at the start of its study day, and an interval is a whole number of days.
- No fuzz: the interval a rating gives is the one the rating bar previews.

The package's optimizer needs torch and is never imported here (see
`studyapp.services.fsrs_worker`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from studyapp.numbers import is_finite
from studyapp.scheduling.days import add_days
from studyapp.scheduling.sm2 import (
    MAX_INTERVAL,
    PASSING_RATING,
    SM2State,
    check_rating,
    sm2_review,
)

if TYPE_CHECKING:
    import fsrs

SCHEDULERS = ("sm2", "fsrs")
DEFAULT_SCHEDULER = "sm2"
DEFAULT_DESIRED_RETENTION = 0.9
MIN_DESIRED_RETENTION = 0.70
MAX_DESIRED_RETENTION = 0.97
PARAMETER_COUNT = 21
# Our 1-5 scale onto FSRS's four buttons (fsrs.Rating: 1 Again, 2 Hard, 3 Good, 4 Easy).
FSRS_RATING = {1: 1, 2: 1, 3: 2, 4: 3, 5: 4}
# Anki's four buttons (and the `fsrs` package's ratings) onto our 1-5 scale.
FROM_FOUR_BUTTONS = {1: 1, 2: 3, 3: 4, 4: 5}
MIN_STABILITY = 0.001  # the package's floor
MAX_STABILITY = 1_000_000.0
MIN_DIFFICULTY = 1.0
MAX_DIFFICULTY = 10.0


def load_fsrs() -> None:
    """Import the `fsrs` package's scheduler now (about 0.1 s) rather than at first use."""
    import fsrs  # noqa: F401


def default_parameters() -> tuple[float, ...]:
    """The package's FSRS-6 default parameters, used until a deck's own are fitted."""
    from fsrs.scheduler import DEFAULT_PARAMETERS

    return tuple(DEFAULT_PARAMETERS)


@dataclass(frozen=True, slots=True)
class FSRSMemory:
    """A card's FSRS memory state: stability (days until recall falls to 90%) and
    difficulty (1 easiest to 10 hardest)."""

    stability: float
    difficulty: float

    def check(self) -> None:
        """Raise ValueError when the values cannot describe a real card."""
        if not (math.isfinite(self.stability) and math.isfinite(self.difficulty)):
            raise ValueError("FSRS stability and difficulty must be finite numbers")
        if not MIN_STABILITY <= self.stability <= MAX_STABILITY:
            raise ValueError(
                f"FSRS stability {self.stability:g} is outside {MIN_STABILITY:g}..{MAX_STABILITY:g}"
            )
        if not MIN_DIFFICULTY <= self.difficulty <= MAX_DIFFICULTY:
            raise ValueError(
                f"FSRS difficulty {self.difficulty:g} is outside "
                f"{MIN_DIFFICULTY:g}..{MAX_DIFFICULTY:g}"
            )

    def to_dict(self) -> dict[str, float]:
        return {"stability": self.stability, "difficulty": self.difficulty}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FSRSMemory:
        try:
            memory = cls(float(data["stability"]), float(data["difficulty"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"FSRS memory is missing or has a bad field: {exc}") from None
        memory.check()
        return memory


@dataclass(frozen=True)
class FSRSSettings:
    """A deck's FSRS settings: its 21 parameters (None: the package's defaults) and the
    recall probability its intervals aim at."""

    parameters: tuple[float, ...] | None = None
    desired_retention: float = DEFAULT_DESIRED_RETENTION

    @property
    def weights(self) -> tuple[float, ...]:
        return self.parameters if self.parameters is not None else default_parameters()

    def problem(self) -> str | None:
        """Why these cannot be a deck's FSRS settings (one sentence), or None."""
        return retention_problem(self.desired_retention) or (
            parameters_problem(self.parameters) if self.parameters is not None else None
        )


def retention_problem(value: float) -> str | None:
    if not (
        isinstance(value, int | float)
        and is_finite(value)
        and MIN_DESIRED_RETENTION <= value <= MAX_DESIRED_RETENTION
    ):
        return (
            f"desired retention is a probability from {MIN_DESIRED_RETENTION:.2f} to "
            f"{MAX_DESIRED_RETENTION:.2f}, not {value}"
        )
    return None


def parameters_problem(parameters: Sequence[Any]) -> str | None:
    """Why these are not 21 FSRS-6 parameters within the package's bounds, or None."""
    from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

    if len(parameters) != PARAMETER_COUNT:
        return f"FSRS-6 has {PARAMETER_COUNT} parameters, not {len(parameters)}"
    for index, (value, low, high) in enumerate(
        zip(parameters, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS, strict=True)
    ):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"FSRS parameter {index} is not a number: {value!r}"
        if not (is_finite(value) and low <= value <= high):
            return f"FSRS parameter {index} is {value}, outside {low:g}..{high:g}"
    return None


@lru_cache(maxsize=64)
def _scheduler(parameters: tuple[float, ...], desired_retention: float) -> fsrs.Scheduler:
    from fsrs import Scheduler

    return Scheduler(
        parameters=parameters,
        desired_retention=desired_retention,
        learning_steps=(),
        relearning_steps=(),
        maximum_interval=MAX_INTERVAL,
        enable_fuzzing=False,
    )


def scheduler_for(settings: FSRSSettings) -> fsrs.Scheduler:
    """The package's scheduler as studyapp runs it: days only, no learning steps, no fuzz."""
    return _scheduler(settings.weights, settings.desired_retention)


def moment(day: date) -> datetime:
    """The time a rating on study day `day` is given to the package: the day's start, in UTC,
    so that elapsed time is always a whole number of days."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def last_review_day(state: SM2State) -> date | None:
    """The study day a reviewed card was last scheduled from: its due day less its interval."""
    if state.due is None:
        return None
    return add_days(state.due, -state.interval)


# The package sets a card's due time to the review's time plus the interval, which for a
# review in the calendar's last century would overflow: later reviews are given to it moved
# back, which changes nothing it works out (only the time since the last review counts).
_LATEST_SAFE = datetime.max.replace(tzinfo=UTC) - timedelta(days=MAX_INTERVAL + 2)


def review_package_card(
    scheduler: fsrs.Scheduler, card: fsrs.Card, rating: fsrs.Rating, at: datetime
) -> fsrs.Card:
    """The package's `review_card` at `at` (UTC), safe for every day of the calendar: a
    due time beyond its end is its last moment."""
    if at <= _LATEST_SAFE:
        reviewed, _ = scheduler.review_card(card, rating, review_datetime=at)
        return reviewed
    shift = at - _LATEST_SAFE
    moved = copy(card)
    moved.due = _LATEST_SAFE  # only written by the package, never read
    if moved.last_review is not None:
        try:
            moved.last_review = moved.last_review - shift
        except OverflowError:  # reviewed last in the calendar's first century
            moved.last_review = datetime.min.replace(tzinfo=UTC)
    reviewed, _ = scheduler.review_card(moved, rating, review_datetime=_LATEST_SAFE)
    try:
        reviewed.due = reviewed.due + shift
    except OverflowError:
        reviewed.due = datetime.max.replace(tzinfo=UTC)
    reviewed.last_review = at
    return reviewed


def package_card(
    state: SM2State, memory: FSRSMemory | None, settings: FSRSSettings, today: date
) -> fsrs.Card:
    """The card as the package sees it on `today`: new, or in review with its memory."""
    from fsrs import Card, State

    last = last_review_day(state)
    if last is None:
        return Card(card_id=0, state=State.Learning, step=0, due=moment(today))
    if memory is None:
        memory = memory_from_schedule(state, settings)
    last = min(last, today)
    return Card(
        card_id=0,
        state=State.Review,
        stability=memory.stability,
        difficulty=memory.difficulty,
        due=moment(state.due or today),
        last_review=moment(last),
    )


def fsrs_review(
    state: SM2State,
    memory: FSRSMemory | None,
    rating: int,
    today: date,
    settings: FSRSSettings,
) -> tuple[SM2State, FSRSMemory]:
    """The card's state and memory after rating it on study day `today` under FSRS.

    Interval and due day are FSRS's; ease, repetitions and lapses move as SM-2 moves them.
    A card reviewed ahead of its due day and passed is never due sooner than it was. A
    reviewed card without a memory state gets one from its schedule first
    (`memory_from_schedule`). Nothing passed in is changed.
    """
    quality = check_rating(rating)
    card = package_card(state, memory, settings, today)
    reviewed = review_package_card(
        scheduler_for(settings), card, _fsrs_rating(quality), moment(today)
    )
    interval = min(MAX_INTERVAL, max(1, (reviewed.due - moment(today)).days))
    if state.due is not None and today < state.due and quality >= PASSING_RATING:
        # Reviewed ahead and passed: never due sooner than it already was.
        interval = max(interval, (state.due - today).days)
    shadow = sm2_review(state, quality, today)
    after = replace(shadow, interval=interval, due=add_days(today, interval))
    return after, _memory_of(reviewed)


def memory_from_reviews(
    reviews: Iterable[tuple[date, int]], settings: FSRSSettings
) -> FSRSMemory | None:
    """A card's memory state after the state-changing ratings (study day, rating 1-5) of its
    review log, oldest first; None for a card never rated."""
    from fsrs import Card, State

    scheduler = scheduler_for(settings)
    card: fsrs.Card | None = None
    for day, rating in reviews:
        if card is None:
            card = Card(card_id=0, state=State.Learning, step=0, due=moment(day))
        elif card.last_review is not None and moment(day) < card.last_review:
            raise ValueError("reviews must come oldest first")
        card = review_package_card(scheduler, card, _fsrs_rating(rating), moment(day))
    return _memory_of(card) if card is not None else None


def memory_from_schedule(state: SM2State, settings: FSRSSettings) -> FSRSMemory:
    """A memory state for a card that has a schedule but no review log to replay.

    Stability is by definition the number of days after which recall falls to 90%: SM-2 aims
    at about that at the end of each interval, so the card's interval is its stability.
    Difficulty is the package's starting difficulty for a card first rated Good.
    """
    from fsrs import Card, Rating, State

    first, _ = scheduler_for(settings).review_card(
        Card(card_id=0, state=State.Learning, step=0, due=moment(date(2000, 1, 1))),
        Rating.Good,
        review_datetime=moment(date(2000, 1, 1)),
    )
    assert first.difficulty is not None
    return FSRSMemory(max(float(state.interval), 1.0), float(first.difficulty))


def retrievability(memory: FSRSMemory, elapsed_days: int, settings: FSRSSettings) -> float:
    """The package's recall probability for a card `elapsed_days` after its last review."""
    from fsrs import Card, State

    card = Card(
        card_id=0,
        state=State.Review,
        stability=memory.stability,
        difficulty=memory.difficulty,
        due=moment(date(2000, 1, 1)),
        last_review=moment(date(2000, 1, 1)),
    )
    at = moment(date(2000, 1, 1) + timedelta(days=max(0, elapsed_days)))
    return float(scheduler_for(settings).get_card_retrievability(card, at))


def _fsrs_rating(rating: int) -> fsrs.Rating:
    from fsrs import Rating

    return Rating(FSRS_RATING[check_rating(rating)])


def _memory_of(card: fsrs.Card) -> FSRSMemory:
    assert card.stability is not None and card.difficulty is not None
    stability = min(MAX_STABILITY, max(MIN_STABILITY, float(card.stability)))
    difficulty = min(MAX_DIFFICULTY, max(MIN_DIFFICULTY, float(card.difficulty)))
    return FSRSMemory(stability, difficulty)
