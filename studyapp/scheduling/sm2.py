"""SM-2 on Brainscape's 1-5 confidence scale.

One rating moves a card from one state to the next. The rules are SuperMemo's SM-2 with the
quality q equal to the rating: q >= 3 is a pass, q < 3 a lapse. Ease is kept as an integer
number of hundredths so that a ceiling is never pushed a day too far by float error
(15 x 2.6 is 39, not 40).

Which ratings are allowed to change a card (only the first of a study day) is the study
session's business; this module is the per-rating transition and nothing else.

SM-2 assumes a card is rated on its due date (or later). `sm2_answer` is what the study
session applies: `sm2_review` for a new or due card, and for a card reviewed ahead of its due
date the rule below, which never makes a card due sooner than it was, nor gives it a longer
interval than reviewing it on time would have.

Every field has a bound, so a state read from a file can be checked and a state this module
makes always passes that check (whatever the app exports, it imports again): the interval is
capped at 36,500 days as SM-2 caps it; ease and the counts stop at bounds no learner meets
(ease 1,000 is 9,975 perfect ratings in a row, one a day for 27 years).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, replace
from datetime import date
from enum import IntEnum
from typing import Any

from studyapp.scheduling.days import add_days

INITIAL_EASE_CENTS = 250
MIN_EASE_CENTS = 130
MAX_EASE_CENTS = 100_000
MAX_COUNT = 1_000_000  # repetitions and lapses
FIRST_INTERVAL = 1
SECOND_INTERVAL = 6
MAX_INTERVAL = 36_500
LAPSE_INTERVAL = 1
PASSING_RATING = 3


class Rating(IntEnum):
    """The 1-5 scale: how well did you know this?"""

    NOT_AT_ALL = 1
    BARELY = 2
    SOMEWHAT = 3
    MOSTLY = 4
    PERFECTLY = 5

    @property
    def label(self) -> str:
        return RATING_LABELS[self]


RATING_LABELS: dict[int, str] = {
    1: "Not at all",
    2: "Barely",
    3: "Somewhat",
    4: "Mostly",
    5: "Perfectly",
}


def _ease_to_cents(ease: float) -> int:
    return round(ease * 100)


@dataclass(frozen=True, slots=True)
class SM2State:
    """Where a card stands: ease factor, successful repetitions in a row, interval, due date."""

    ease: float = INITIAL_EASE_CENTS / 100
    repetitions: int = 0
    interval: int = 0
    due: date | None = None
    lapses: int = 0

    @classmethod
    def new(cls) -> SM2State:
        """A card that has never been rated."""
        return cls()

    @property
    def ease_cents(self) -> int:
        """Ease in hundredths, the exact value the arithmetic uses."""
        return _ease_to_cents(self.ease)

    @property
    def is_new(self) -> bool:
        return self.due is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ease": self.ease,
            "interval": self.interval,
            "repetitions": self.repetitions,
            "lapses": self.lapses,
            "due": self.due.isoformat() if self.due else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SM2State:
        """Build a state from `to_dict` output; raises ValueError on missing or bad fields."""
        try:
            ease = float(data["ease"])
            interval = int(data["interval"])
            repetitions = int(data["repetitions"])
            lapses = int(data["lapses"])
            due_text = data["due"]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"scheduling state is missing or has a bad field: {exc}") from exc
        due = date.fromisoformat(due_text) if due_text else None
        state = cls(
            ease=_ease_to_cents(ease) / 100,
            repetitions=repetitions,
            interval=interval,
            due=due,
            lapses=lapses,
        )
        state.check()
        return state

    def check(self) -> None:
        """Raise ValueError when the fields cannot describe a real card."""
        if not MIN_EASE_CENTS <= self.ease_cents <= MAX_EASE_CENTS:
            raise ValueError(
                f"ease {self.ease:g} is outside {MIN_EASE_CENTS / 100:g}..{MAX_EASE_CENTS / 100:g}"
            )
        if not 0 <= self.interval <= MAX_INTERVAL:
            raise ValueError(f"interval {self.interval} is outside 0..{MAX_INTERVAL} days")
        for name, count in (("repetitions", self.repetitions), ("lapses", self.lapses)):
            if not 0 <= count <= MAX_COUNT:
                raise ValueError(f"{name} {count} is outside 0..{MAX_COUNT:,}")


def check_rating(rating: object) -> Rating:
    """Return the rating as a `Rating`, or raise ValueError if it is not an integer 1..5."""
    if isinstance(rating, bool):
        raise ValueError(f"a rating is an integer from 1 to 5, not {rating!r}")
    try:
        value = operator.index(rating)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"a rating is an integer from 1 to 5, not {rating!r}") from None
    if not 1 <= value <= 5:
        raise ValueError(f"a rating is an integer from 1 to 5, not {value}")
    return Rating(value)


def next_ease_cents(ease_cents: int, quality: int) -> int:
    """SM-2's ease update, in hundredths: EF + 0.1 - (5-q)(0.08 + (5-q)0.02), floored at 1.3
    (and held at the bound of 1,000)."""
    miss = 5 - quality
    return min(MAX_EASE_CENTS, max(MIN_EASE_CENTS, ease_cents + 10 - miss * (8 + miss * 2)))


def sm2_review(state: SM2State, rating: int, today: date) -> SM2State:
    """The state after rating a card on the study day `today`. The input is not changed."""
    quality = check_rating(rating)
    if quality < PASSING_RATING:
        return replace(
            state,
            repetitions=0,
            interval=LAPSE_INTERVAL,
            due=add_days(today, LAPSE_INTERVAL),
            lapses=min(MAX_COUNT, state.lapses + (1 if state.repetitions >= 1 else 0)),
        )
    ease_cents = next_ease_cents(state.ease_cents, quality)
    repetitions = min(MAX_COUNT, state.repetitions + 1)
    if repetitions == 1:
        interval = FIRST_INTERVAL
    elif repetitions == 2:
        interval = SECOND_INTERVAL
    else:
        # ceil(interval * ease) with the ease in exact hundredths.
        interval = -(-state.interval * ease_cents // 100)
    interval = min(interval, MAX_INTERVAL)
    return SM2State(
        ease=ease_cents / 100,
        repetitions=repetitions,
        interval=interval,
        due=add_days(today, interval),
        lapses=state.lapses,
    )


def sm2_answer(state: SM2State, rating: int, today: date) -> SM2State:
    """The state after rating a card on `today`, whether it is due or not yet due.

    A new or due card gets `sm2_review`. A card rated before its due date (reviewed ahead)
    and passed gets SM-2's ease and repetition update, but an interval that counts only the
    days that actually passed since it was last scheduled, as Anki does for early reviews:

        elapsed  = interval - (due - today)          days since the last review
        on_time  = sm2_review(state, rating, due)    what reviewing on the due date gives
        interval = max(ceil(on_time.interval * elapsed / interval), due - today)

    So the new due date is never before the old one (reviewing ahead never brings a card
    back sooner), and the interval never exceeds the one an on-time review would have earned
    (the memory was tested after fewer days). A failed early review is a lapse, as SM-2 has
    it for any failed review: the card was not remembered.
    """
    quality = check_rating(rating)
    due = state.due
    if due is None or today >= due or quality < PASSING_RATING:
        return sm2_review(state, quality, today)
    remaining = (due - today).days
    on_time = sm2_review(state, quality, due)
    elapsed = max(0, state.interval - remaining)
    earned = -(-on_time.interval * elapsed // state.interval) if state.interval > 0 else 0
    interval = min(MAX_INTERVAL, max(earned, remaining))
    return replace(on_time, interval=interval, due=add_days(today, interval))
