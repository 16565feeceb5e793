"""FSRS on the 1-5 scale gives exactly the intervals of the `fsrs` package's own scheduler."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fsrs import Card, Rating, Scheduler, State

from studyapp.scheduling import SM2State, sm2_review
from studyapp.scheduling.fsrs import (
    FSRSMemory,
    FSRSSettings,
    default_parameters,
    fsrs_review,
    memory_from_reviews,
    memory_from_schedule,
    parameters_problem,
)

START = date(2026, 3, 2)
# Our ratings, and the button each one is in FSRS.
RATINGS = [4, 4, 3, 5, 1, 4, 2, 4, 5, 4]
BUTTONS = {1: Rating.Again, 2: Rating.Again, 3: Rating.Hard, 4: Rating.Good, 5: Rating.Easy}
# Parameters other than the defaults, within the package's bounds.
OTHER = (
    0.5, 2.0, 4.0, 12.0, 6.0, 0.6, 2.5, 0.01, 1.6, 0.2, 1.0,
    1.2, 0.1, 0.3, 1.5, 0.5, 2.0, 0.4, 0.1, 0.1, 0.3,
)  # fmt: skip


def package_intervals(
    ratings: list[int], retention: float, parameters: tuple[float, ...], late: int
) -> list[int]:
    """The intervals the package's scheduler gives for these ratings, each given `late` days
    after the card came due, at 10:00 UTC."""
    scheduler = Scheduler(
        parameters=parameters,
        desired_retention=retention,
        learning_steps=(),
        relearning_steps=(),
        enable_fuzzing=False,
    )
    card = Card(card_id=1)
    at = datetime(START.year, START.month, START.day, 10, tzinfo=UTC)
    out = []
    for rating in ratings:
        card, _ = scheduler.review_card(card, BUTTONS[rating], review_datetime=at)
        interval = (card.due - at).days
        out.append(interval)
        at = card.due + timedelta(days=late)
    return out


@pytest.mark.parametrize(
    ("retention", "parameters", "late"),
    [(0.9, None, 0), (0.8, None, 3), (0.95, OTHER, 0), (0.7, OTHER, 5)],
)
def test_intervals_equal_the_package_scheduler(
    retention: float, parameters: tuple[float, ...] | None, late: int
) -> None:
    settings = FSRSSettings(parameters, retention)
    state, memory, day = SM2State.new(), None, START
    intervals = []
    for rating in RATINGS:
        state, memory = fsrs_review(state, memory, rating, day, settings)
        intervals.append(state.interval)
        assert state.due == day + timedelta(days=state.interval)
        day = state.due + timedelta(days=late)
    assert intervals == package_intervals(RATINGS, retention, settings.weights, late)
    assert len(set(intervals)) > 3  # the sequence really moves the card about


def test_the_sm2_fields_move_as_sm2_moves_them() -> None:
    settings = FSRSSettings()
    state, memory, shadow, day = SM2State.new(), None, SM2State.new(), START
    for rating in RATINGS:
        state, memory = fsrs_review(state, memory, rating, day, settings)
        shadow = sm2_review(shadow, rating, day)
        assert (state.ease, state.repetitions, state.lapses) == (
            shadow.ease,
            shadow.repetitions,
            shadow.lapses,
        )
        day = state.due
    assert state.lapses == 2  # the two failed ratings after the first


def test_not_at_all_and_barely_are_both_again() -> None:
    reviewed, memory = fsrs_review(SM2State.new(), None, 4, START, FSRSSettings())
    day = reviewed.due
    assert fsrs_review(reviewed, memory, 1, day, FSRSSettings()) == fsrs_review(
        reviewed, memory, 2, day, FSRSSettings()
    )
    intervals = [
        fsrs_review(reviewed, memory, r, day, FSRSSettings())[0].interval for r in (2, 3, 4, 5)
    ]
    assert intervals == sorted(intervals) and len(set(intervals)) == 4


def test_a_higher_desired_retention_brings_cards_back_sooner() -> None:
    state, memory = fsrs_review(SM2State.new(), None, 4, START, FSRSSettings())
    day = state.due
    sooner = fsrs_review(state, memory, 4, day, FSRSSettings(desired_retention=0.95))[0]
    later = fsrs_review(state, memory, 4, day, FSRSSettings(desired_retention=0.8))[0]
    assert sooner.interval < later.interval


def test_inputs_are_not_changed_and_bad_ratings_are_refused() -> None:
    state = SM2State(ease=2.5, repetitions=2, interval=6, due=START, lapses=0)
    memory = FSRSMemory(6.0, 5.0)
    fsrs_review(state, memory, 4, START, FSRSSettings())
    assert state == SM2State(ease=2.5, repetitions=2, interval=6, due=START, lapses=0)
    assert memory == FSRSMemory(6.0, 5.0)
    for bad in (0, 6, True, "4"):
        with pytest.raises(ValueError):
            fsrs_review(state, memory, bad, START, FSRSSettings())  # type: ignore[arg-type]


def test_memory_from_a_review_log_is_the_package_replaying_it() -> None:
    settings = FSRSSettings(OTHER, 0.9)
    reviews = [(START, 4), (START + timedelta(days=2), 1), (START + timedelta(days=3), 5)]
    scheduler = Scheduler(parameters=OTHER, learning_steps=(), relearning_steps=())
    card = Card(card_id=1)
    for day, rating in reviews:
        at = datetime(day.year, day.month, day.day, tzinfo=UTC)
        card, _ = scheduler.review_card(card, BUTTONS[rating], review_datetime=at)
    assert memory_from_reviews(reviews, settings) == FSRSMemory(card.stability, card.difficulty)
    assert memory_from_reviews([], settings) is None


def test_a_card_without_a_log_takes_its_interval_as_stability() -> None:
    state = SM2State(ease=2.5, repetitions=4, interval=40, due=START, lapses=0)
    memory = memory_from_schedule(state, FSRSSettings())
    assert memory.stability == 40.0 and 1 <= memory.difficulty <= 10
    # Reviewed on its due day, it is recalled with probability 0.9, so a Good grows it.
    after, _ = fsrs_review(state, None, 4, START, FSRSSettings())
    assert after.interval > 40


def test_parameters_are_checked_against_the_package_bounds() -> None:
    assert parameters_problem(default_parameters()) is None
    assert parameters_problem(OTHER) is None
    assert "21 parameters" in (parameters_problem(OTHER[:20]) or "")
    assert "parameter 4" in (parameters_problem((*OTHER[:4], 99.0, *OTHER[5:])) or "")
    assert FSRSSettings(desired_retention=0.99).problem() is not None
    assert FSRSSettings(desired_retention=0.7).problem() is None


def test_the_package_card_is_a_review_card_on_its_last_review_day() -> None:
    from studyapp.scheduling.fsrs import package_card

    state = SM2State(ease=2.5, repetitions=3, interval=10, due=START, lapses=0)
    card = package_card(state, FSRSMemory(10, 5), FSRSSettings(), START)
    assert card.state == State.Review
    assert card.last_review == datetime(2026, 2, 20, tzinfo=UTC)


def test_a_card_reviewed_ahead_and_passed_is_never_due_sooner() -> None:
    state, memory = fsrs_review(SM2State.new(), None, 4, START, FSRSSettings())
    state, memory = fsrs_review(state, memory, 4, state.due, FSRSSettings())
    assert state.due is not None and state.interval > 5
    early = START + timedelta(days=3)
    ahead, _ = fsrs_review(state, memory, 3, early, FSRSSettings())
    assert ahead.due is not None and ahead.due >= state.due
    failed, _ = fsrs_review(state, memory, 1, early, FSRSSettings())
    assert failed.due is not None and failed.due < state.due


LAST_WEEK = [date(9999, 12, 24), date(9999, 12, 25), date(9999, 12, 28), date(9999, 12, 30)]


def test_replays_in_the_calendars_last_days_equal_replays_anywhere_else() -> None:
    """Every day the collection keeps can be replayed (the package itself would overflow
    adding the next interval in the last days of 9999), with what any other days give."""
    settings = FSRSSettings()
    ratings = [5, 1, 4, 5]
    shifted = [day - timedelta(days=2_900_000) for day in LAST_WEEK]
    late = memory_from_reviews(zip(LAST_WEEK, ratings, strict=True), settings)
    assert late == memory_from_reviews(zip(shifted, ratings, strict=True), settings)
    first_and_last = [(date(1, 1, 2), 5), (date(9999, 12, 30), 3)]
    assert memory_from_reviews(first_and_last, settings) is not None


def test_a_review_on_the_last_day_the_collection_keeps_is_due_that_day() -> None:
    settings = FSRSSettings()
    state, memory = fsrs_review(SM2State.new(), None, 5, date(9999, 12, 29), settings)
    after, _ = fsrs_review(state, memory, 5, date(9999, 12, 30), settings)
    assert after.due == date(9999, 12, 30) and 1 <= after.interval <= 36_500
