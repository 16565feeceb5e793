"""A simulated learner whose memory is FSRS with known parameters, for evaluation tests."""

from __future__ import annotations

import random
from datetime import date, timedelta

from studyapp.scheduling.fsrs import FSRSSettings, fsrs_review, retrievability
from studyapp.scheduling.sm2 import SM2State, sm2_review

# The learner's true memory: far from FSRS's defaults (new cards are forgotten fast, each
# review adds less, recall falls off more steeply), so a fit has something to find.
TRUE_PARAMETERS = (
    0.05, 0.15, 0.5, 2.0, 7.5, 0.6, 2.0, 0.01, 0.9, 0.15, 0.8,
    1.6, 0.06, 0.25, 1.6, 0.5, 2.0, 0.5, 0.1, 0.06, 0.6,
)  # fmt: skip


def simulate(
    cards: int, days: int, seed: int, start: date = date(2026, 1, 1)
) -> dict[str, list[tuple[date, int]]]:
    """Each card's ratings (study day, 1-5): new cards start over the first weeks, each
    review comes between half and twice the interval SM-2 sets, and the learner recalls it
    with the probability their true memory gives."""
    rng = random.Random(seed)
    truth = FSRSSettings(TRUE_PARAMETERS, 0.9)
    history: dict[str, list[tuple[date, int]]] = {}
    for index in range(cards):
        day = start + timedelta(days=rng.randrange(days // 4))
        state, memory = SM2State.new(), None
        reviews: list[tuple[date, int]] = []
        while day < start + timedelta(days=days):
            if memory is None:
                rating = rng.choice([1, 3, 4, 4, 4, 5])
            else:
                elapsed = (day - reviews[-1][0]).days
                recalled = rng.random() < retrievability(memory, elapsed, truth)
                rating = rng.choice([3, 4, 4, 4, 4, 5]) if recalled else rng.choice([1, 2])
            reviews.append((day, rating))
            _, memory = fsrs_review(state, memory, rating, day, truth)
            state = sm2_review(state, rating, day)
            day += timedelta(days=max(1, round(state.interval * rng.uniform(0.5, 2.0))))
        history[f"card{index}"] = reviews
    return history
