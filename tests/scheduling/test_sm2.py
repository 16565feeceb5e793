"""SM-2 on the 1-5 scale: whole interval histories, the edge rules, and a reference check."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from fractions import Fraction
from math import ceil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studyapp.scheduling import MAX_INTERVAL, SM2State, sm2_review

DAY0 = date(2026, 1, 5)


def history(ratings: list[int], start: SM2State | None = None) -> list[tuple[int, float, int, int]]:
    """Rate on each due date; return (interval, ease, repetitions, lapses) after each rating."""
    state = start or SM2State.new()
    today = DAY0
    out = []
    for rating in ratings:
        state = sm2_review(state, rating, today)
        out.append((state.interval, state.ease, state.repetitions, state.lapses))
        assert state.due == today + timedelta(days=state.interval)
        today = state.due
    return out


@pytest.mark.parametrize(
    ("ratings", "expected"),
    [
        # Perfect recall: ease climbs by 0.1 each time, intervals 1, 6, then ceil(I x EF).
        (
            [5, 5, 5, 5, 5],
            [(1, 2.6, 1, 0), (6, 2.7, 2, 0), (17, 2.8, 3, 0), (50, 2.9, 4, 0), (150, 3.0, 5, 0)],
        ),
        # A 4 keeps the ease; a 3 costs 0.14.
        ([4, 4, 4, 4], [(1, 2.5, 1, 0), (6, 2.5, 2, 0), (15, 2.5, 3, 0), (38, 2.5, 4, 0)]),
        ([3, 3, 3], [(1, 2.36, 1, 0), (6, 2.22, 2, 0), (13, 2.08, 3, 0)]),
        # A lapse after two passes: interval back to 1, repetitions reset, lapses counted,
        # ease unchanged; the relearning starts again at 1 and 6 days.
        (
            [5, 4, 1, 4, 4, 4],
            [
                (1, 2.6, 1, 0),
                (6, 2.6, 2, 0),
                (1, 2.6, 0, 1),
                (1, 2.6, 1, 1),
                (6, 2.6, 2, 1),
                (16, 2.6, 3, 1),
            ],
        ),
        # Failing a card that was never passed is not a lapse.
        ([1, 2, 5], [(1, 2.5, 0, 0), (1, 2.5, 0, 0), (1, 2.6, 1, 0)]),
    ],
)
def test_interval_history(ratings: list[int], expected: list[tuple[int, float, int, int]]) -> None:
    assert history(ratings) == expected


def test_ceil_uses_exact_ease_not_float() -> None:
    # 15 x 2.6 is 39 exactly; in floats it is 39.00000000000001, whose ceil would be 40.
    state = SM2State(ease=2.6, repetitions=2, interval=15, due=DAY0, lapses=0)
    after = sm2_review(state, 4, DAY0)
    assert after.interval == 39
    assert after.ease == 2.6


def test_ease_never_falls_below_1_3() -> None:
    eases = [e for _, e, _, _ in history([3] * 12)]
    assert eases[:5] == [2.36, 2.22, 2.08, 1.94, 1.8]
    assert min(eases) == 1.3
    assert eases[-1] == 1.3


def test_interval_is_capped_at_100_years() -> None:
    state = SM2State(ease=2.5, repetitions=10, interval=30_000, due=DAY0, lapses=0)
    after = sm2_review(state, 5, DAY0)
    assert after.interval == MAX_INTERVAL
    assert after.due == DAY0 + timedelta(days=MAX_INTERVAL)


def test_new_card() -> None:
    state = SM2State.new()
    assert (state.ease, state.repetitions, state.interval, state.lapses, state.due) == (
        2.5,
        0,
        0,
        0,
        None,
    )


@pytest.mark.parametrize("rating", [0, 6, -1, 2.5, "3", None, True])
def test_rating_outside_1_to_5_is_refused(rating: object) -> None:
    with pytest.raises(ValueError):
        sm2_review(SM2State.new(), rating, DAY0)  # type: ignore[arg-type]


def test_input_state_is_not_changed() -> None:
    state = SM2State(ease=2.5, repetitions=3, interval=10, due=DAY0, lapses=1)
    copy = replace(state)
    sm2_review(state, 1, DAY0)
    sm2_review(state, 5, DAY0)
    assert state == copy


def test_state_round_trips_through_dict() -> None:
    state = SM2State(ease=1.94, repetitions=4, interval=41, due=DAY0, lapses=2)
    assert SM2State.from_dict(state.to_dict()) == state


# --- an independent reference, written from the rules with exact fractions ---------------


def reference(
    ease: Fraction, reps: int, interval: int, lapses: int, q: int, today: date
) -> tuple[Fraction, int, int, int, date]:
    if q >= 3:
        ease = max(
            Fraction(13, 10),
            ease + Fraction(1, 10) - (5 - q) * (Fraction(8, 100) + (5 - q) * Fraction(2, 100)),
        )
        reps += 1
        if reps == 1:
            interval = 1
        elif reps == 2:
            interval = 6
        else:
            interval = ceil(interval * ease)
        interval = min(interval, 36_500)
    else:
        if reps >= 1:
            lapses += 1
        reps = 0
        interval = 1
    return ease, reps, interval, lapses, today + timedelta(days=interval)


@settings(max_examples=2000, deadline=None)
@given(
    ratings=st.lists(st.integers(1, 5), min_size=1, max_size=40),
    gaps=st.lists(st.integers(0, 400), min_size=40, max_size=40),
)
def test_matches_reference_on_random_sequences(ratings: list[int], gaps: list[int]) -> None:
    state = SM2State.new()
    ease, reps, interval, lapses = Fraction(5, 2), 0, 0, 0
    today = DAY0
    for rating, gap in zip(ratings, gaps, strict=False):
        ease, reps, interval, lapses, due = reference(ease, reps, interval, lapses, rating, today)
        state = sm2_review(state, rating, today)
        assert Fraction(state.ease_cents, 100) == ease
        assert state.ease == float(ease)
        assert (state.repetitions, state.interval, state.lapses, state.due) == (
            reps,
            interval,
            lapses,
            due,
        )
        today = today + timedelta(days=gap)


@settings(max_examples=300, deadline=None)
@given(ratings=st.lists(st.integers(1, 5), min_size=1, max_size=60))
def test_invariants_hold_for_any_sequence(ratings: list[int]) -> None:
    state = SM2State.new()
    for rating in ratings:
        before = state
        state = sm2_review(state, rating, DAY0)
        assert state.ease >= 1.3
        assert 1 <= state.interval <= MAX_INTERVAL
        assert state.lapses in (before.lapses, before.lapses + 1)
        if rating < 3:
            assert (state.repetitions, state.interval, state.ease) == (0, 1, before.ease)
        else:
            assert state.repetitions == before.repetitions + 1


def test_a_card_due_past_the_calendars_end_is_due_on_its_last_day() -> None:
    """A review late in the year 9999 (a clock set far ahead, an imported log) schedules the
    card on the last day the collection keeps (9999-12-30) rather than failing, or than a
    day its backup could not be restored with."""
    from studyapp.scheduling import study_day
    from studyapp.scheduling.days import LAST_DAY

    late = SM2State(2.5, 5, 30_000, date(9990, 1, 1), 0)
    after = sm2_review(late, 5, date(9990, 1, 1))
    assert (after.interval, after.due) == (36_500, LAST_DAY)
    lapse = sm2_review(late, 1, LAST_DAY)
    assert lapse.due == LAST_DAY and lapse.lapses == 1
    assert study_day(datetime(1, 1, 1, 2, 0), 4) == date.min
