"""Reviewing ahead: SM-2 with the early-review rule of `sm2_answer`, as whole interval histories."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studyapp.scheduling import MAX_INTERVAL, SM2State, sm2_answer, sm2_review

DAY0 = date(2026, 1, 5)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def test_a_due_or_new_card_gets_plain_sm2() -> None:
    due = SM2State(ease=2.5, repetitions=3, interval=15, due=day(0), lapses=0)
    for rating in range(1, 6):
        assert sm2_answer(SM2State.new(), rating, DAY0) == sm2_review(SM2State.new(), rating, DAY0)
        assert sm2_answer(due, rating, day(0)) == sm2_review(due, rating, day(0))
        assert sm2_answer(due, rating, day(9)) == sm2_review(due, rating, day(9))  # overdue


def test_interval_history_with_a_review_ahead_in_the_middle() -> None:
    # New on day 0, rated 4 on each due date, except one review ahead on day 4.
    state = sm2_answer(SM2State.new(), 4, day(0))
    assert (state.interval, state.due) == (1, day(1))
    state = sm2_answer(state, 4, day(1))
    assert (state.interval, state.due) == (6, day(7))
    # 3 of the 6 days elapsed: on time it would earn ceil(6 x 2.5) = 15 days; ahead, half of
    # that, rounded up: 8 days from day 4, so due on day 12 (not before day 7).
    state = sm2_answer(state, 4, day(4))
    assert (state.interval, state.due, state.repetitions, state.ease) == (8, day(12), 3, 2.5)
    state = sm2_answer(state, 4, day(12))  # on time again: plain SM-2 from the 8 days
    assert (state.interval, state.due, state.repetitions) == (20, day(32), 4)


@pytest.mark.parametrize(
    ("rated_on", "interval", "due"),
    [
        # Interval 15 from day 0, due day 15; on time a 4 earns ceil(15 x 2.5) = 38 days.
        (14, 36, 50),  # one day early: ceil(38 x 14/15) = 36, less than the on-time 38
        (10, 26, 36),  # ceil(38 x 10/15) = 26
        (1, 14, 15),  # ceil(38 x 1/15) = 3 is shorter than the 14 days left: due date kept
    ],
)
def test_an_early_pass_counts_the_days_that_passed(rated_on: int, interval: int, due: int) -> None:
    state = SM2State(ease=2.5, repetitions=3, interval=15, due=day(15), lapses=0)
    after = sm2_answer(state, 4, day(rated_on))
    assert (after.interval, after.due) == (interval, day(due))
    assert (after.ease, after.repetitions, after.lapses) == (2.5, 4, 0)


def test_the_ease_moves_as_on_time() -> None:
    state = SM2State(ease=2.5, repetitions=3, interval=15, due=day(15), lapses=0)
    assert sm2_answer(state, 5, day(10)).ease == 2.6
    assert sm2_answer(state, 3, day(10)).ease == 2.36


def test_a_failed_early_review_is_a_lapse() -> None:
    state = SM2State(ease=2.5, repetitions=3, interval=15, due=day(15), lapses=0)
    after = sm2_answer(state, 2, day(10))
    assert (after.interval, after.due, after.repetitions, after.lapses) == (1, day(11), 0, 1)


@settings(max_examples=500, deadline=None)
@given(
    ease=st.integers(130, 400),
    repetitions=st.integers(0, 30),
    interval=st.integers(0, MAX_INTERVAL),
    left=st.integers(1, MAX_INTERVAL),
    rating=st.integers(3, 5),
)
def test_an_early_pass_is_never_due_sooner_nor_later_than_on_time(
    ease: int, repetitions: int, interval: int, left: int, rating: int
) -> None:
    due = day(left)
    state = SM2State(ease / 100, repetitions, interval, due, 0)
    after = sm2_answer(state, rating, DAY0)
    on_time = sm2_review(state, rating, due)
    assert after.due is not None and after.due >= due
    assert after.due == DAY0 + timedelta(days=after.interval)
    assert 1 <= after.interval <= max(on_time.interval, left)
    assert after.due <= max(on_time.due, due)  # type: ignore[operator]
    assert (after.ease, after.repetitions, after.lapses) == (
        on_time.ease,
        on_time.repetitions,
        on_time.lapses,
    )
    after.check()
