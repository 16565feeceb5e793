"""Statistics from the review log: per-day counts, retention, streak, due forecast."""

from __future__ import annotations

from datetime import timedelta

from studyapp.db import Store
from studyapp.services.stats import StatsService
from studyapp.services.study import StudySession
from tests.backends import sql
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


def test_stats_per_deck(store: Store, clock: FakeClock) -> None:
    add_cards(store, "A", 2, "a")
    add_cards(store, "B", 3, "b")
    study(store, clock, [5, 5], "A")
    service = StatsService(store, clock)
    assert service.compute("A").total_reviews == 2
    assert service.compute("B").total_reviews == 0
    assert service.compute("B").new == 3
    assert service.compute().cards == 5


def test_a_streak_counts_back_to_its_first_day_even_past_a_year(
    store: Store, clock: FakeClock
) -> None:
    a = add_cards(store, "A", 1, "a")[0]
    b = add_cards(store, "B", 1, "b")[0]
    today = StatsService(store, clock).today().day

    def log(card: int, days_ago: range) -> None:
        values = ", ".join(
            f"({card}, '2026-01-01 00:00:00', '{today - timedelta(days=n)}', 4, 0, 'review',"
            " 250, 1, 1, 0, 250, 1, 1, 0)"
            for n in days_ago
        )
        sql(
            store.url,
            "INSERT INTO reviews (card_id, at, study_day, rating, duration_ms, kind,"
            " ease_before, interval_before, repetitions_before, lapses_before,"
            " ease_after, interval_after, repetitions_after, lapses_after)"
            f" VALUES {values}",
        )

    log(a, range(1, 501))  # deck A: every day from yesterday back 500 days
    log(b, range(1, 401))  # deck B: 400 days, then a gap, then 50 more
    log(b, range(402, 452))
    service = StatsService(store, clock)
    assert service.today().streak == 500
    assert service.compute().streak == 500
    assert service.compute("A").streak == 500
    assert service.compute("B").streak == 400
    study(store, clock, [5], "A")
    assert service.today().streak == 501
