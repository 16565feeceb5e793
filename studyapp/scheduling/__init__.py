"""Spaced-repetition scheduling: pure functions of a card's state, a rating and a day.

No database, no UI, no torch: SM-2 is the standard library only; FSRS calls the `fsrs`
package's scheduler, loaded when first used.
"""

from studyapp.scheduling.days import DEFAULT_DAY_START_HOUR, day_start, study_day
from studyapp.scheduling.fsrs import FSRSMemory, FSRSSettings, fsrs_review
from studyapp.scheduling.sm2 import (
    MAX_COUNT,
    MAX_EASE_CENTS,
    MAX_INTERVAL,
    MIN_EASE_CENTS,
    RATING_LABELS,
    Rating,
    SM2State,
    check_rating,
    sm2_answer,
    sm2_review,
)

__all__ = [
    "DEFAULT_DAY_START_HOUR",
    "FSRSMemory",
    "FSRSSettings",
    "MAX_COUNT",
    "MAX_EASE_CENTS",
    "MAX_INTERVAL",
    "MIN_EASE_CENTS",
    "RATING_LABELS",
    "Rating",
    "SM2State",
    "check_rating",
    "day_start",
    "fsrs_review",
    "sm2_answer",
    "sm2_review",
    "study_day",
]
