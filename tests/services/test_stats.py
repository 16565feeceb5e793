"""Statistics from the review log: per-day counts, retention, streak, due forecast."""

from __future__ import annotations

from datetime import timedelta

from studyapp.db import Store
from studyapp.services.stats import StatsService, streak_from
from studyapp.services.study import StudySession
from tests.services.conftest import FakeClock, add_cards


def study(store: Store, clock: FakeClock, ratings: list[int], deck: str = "D") -> None:
    session = StudySession(store, deck, clock)
    for rating in ratings:
        if session.current is None:
            break
        session.answer(rating)


def test_stats_follow_a_week_of_study(store: Store, clock: FakeClock) -> None:
    add_cards(store, "D", 4)
    start = clock.now.date()
    study(store, clock, [5, 5, 5, 5])  # day 0: four new cards learned
    clock.advance(days=1)
    study(store, clock, [5, 5, 2, 5, 4])  # day 1: four reviews, one failed and drilled
    clock.advance(days=2)  # day 2 skipped; day 3 reviews nothing due? the failed card is due
    stats = StatsService(store, clock).compute()
    assert stats.reviews_per_day == {start: 4, start + timedelta(days=1): 5}
    assert stats.total_reviews == 9
    # Retention counts first ratings on cards past their first interval: day 1's four.
    assert (stats.retention.passed, stats.retention.reviews) == (3, 4)
    assert stats.retention.rate == 0.75
    assert stats.streak == 0  # nothing yesterday or today
    # Forecast: the failed card was due on day 2 (overdue, counted today); the three passed
    # cards have interval 6 from day 1, due on day 7 = today + 4.
    assert stats.forecast[0] == 1
    assert stats.forecast[4] == 3
    assert sum(stats.forecast) == 4
    study(store, clock, [5])
    assert StatsService(store, clock).compute().streak == 1


def test_streak_counts_consecutive_days_ending_today_or_yesterday() -> None:
    from datetime import date

    d = date(2026, 3, 10)
    days = {d - timedelta(days=i) for i in (1, 2, 3, 5)}
    assert streak_from(days, d) == 3
    assert streak_from(days | {d}, d) == 4
    assert streak_from(set(), d) == 0


def test_stats_per_deck(store: Store, clock: FakeClock) -> None:
    add_cards(store, "A", 2, "a")
    add_cards(store, "B", 3, "b")
    study(store, clock, [5, 5], "A")
    service = StatsService(store, clock)
    assert service.compute("A").total_reviews == 2
    assert service.compute("B").total_reviews == 0
    assert service.compute("B").new == 3
    assert service.compute().cards == 5
