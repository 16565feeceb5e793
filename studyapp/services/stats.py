"""Statistics: reviews per day, retention, streak and the due forecast, per deck or overall.

Retention is the share of review ratings of 3 or more on cards past their first interval:
only the first rating of a card on a day counts, and only for cards that had already been
passed at least once (so learning a new card does not count as remembering it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from studyapp.clock import Clock, system_clock, today
from studyapp.db import Store
from studyapp.db import repository as repo
from studyapp.db.models import CardRow, DeckRow, ReviewRow
from studyapp.errors import UserError
from studyapp.scheduling import DEFAULT_DAY_START_HOUR
from studyapp.scheduling.sm2 import PASSING_RATING

FORECAST_DAYS = 30
HISTORY_DAYS = 365


@dataclass(frozen=True)
class Retention:
    passed: int
    reviews: int

    @property
    def rate(self) -> float | None:
        return self.passed / self.reviews if self.reviews else None


@dataclass(frozen=True)
class Stats:
    deck: str | None
    today: date
    reviews_per_day: dict[date, int]  # the last HISTORY_DAYS study days with reviews
    retention: Retention
    retention_30d: Retention
    streak: int
    forecast: list[int]  # cards due on today + i, overdue counted today
    total_reviews: int
    cards: int
    new: int
    suspended: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "deck": self.deck,
            "today": self.today.isoformat(),
            "reviews_per_day": [
                {"day": d.isoformat(), "reviews": n}
                for d, n in sorted(self.reviews_per_day.items())
            ],
            "reviews_today": self.reviews_per_day.get(self.today, 0),
            "total_reviews": self.total_reviews,
            "retention": _retention_dict(self.retention),
            "retention_30d": _retention_dict(self.retention_30d),
            "streak": self.streak,
            "forecast": [
                {"day": (self.today + timedelta(days=i)).isoformat(), "due": n}
                for i, n in enumerate(self.forecast)
            ],
            "cards": self.cards,
            "new": self.new,
            "suspended": self.suspended,
        }


def _retention_dict(r: Retention) -> dict[str, Any]:
    return {
        "rate": round(r.rate, 4) if r.rate is not None else None,
        "passed": r.passed,
        "reviews": r.reviews,
    }


def streak_from(days_with_reviews: set[date], today: date) -> int:
    """Consecutive study days with a review, ending today (or yesterday, if none yet today)."""
    day = today if today in days_with_reviews else today - timedelta(days=1)
    count = 0
    while day in days_with_reviews:
        count += 1
        day -= timedelta(days=1)
    return count


@dataclass(frozen=True)
class Today:
    """What the home screen shows: reviews done today and the streak."""

    day: date
    reviewed: int
    streak: int


class StatsService:
    def __init__(self, store: Store, clock: Clock = system_clock) -> None:
        self.store = store
        self.clock = clock

    def _scope(self, session: Session, deck: str | None) -> tuple[list[DeckRow], date]:
        decks = repo.decks(session)
        if deck is not None:
            decks = [d for d in decks if d.name == deck]
            if not decks:
                raise UserError(f"there is no deck named {deck!r}; `studyapp decks` lists them")
        return decks, today(self.clock, _day_start(decks))

    def today(self) -> Today:
        """Reviews today and the streak over all decks: two indexed reads, cheap at any size."""
        with self.store.read() as session:
            _, day = self._scope(session, None)
            per_day = _reviews_per_day(session, None, day)
            days = set(per_day)
            if len(days) >= HISTORY_DAYS:
                days = _all_review_days(session, None)
            return Today(day, per_day.get(day, 0), streak_from(days, day))

    def compute(self, deck: str | None = None) -> Stats:
        with self.store.read() as session:
            decks, day = self._scope(session, deck)
            deck_ids = [d.id for d in decks] if deck is not None else None
            per_day = _reviews_per_day(session, deck_ids, day)
            days = set(per_day)
            if len(days) >= HISTORY_DAYS:  # a streak that may reach past the window
                days = _all_review_days(session, deck_ids)

            # One pass over the log: total reviews and retention, overall and last 30 days.
            counted = (ReviewRow.kind == "review") & (ReviewRow.repetitions_before >= 1)
            passed = counted & (ReviewRow.rating >= PASSING_RATING)
            recent = ReviewRow.study_day > day - timedelta(days=30)
            total, reviews, passes, reviews_30, passes_30 = session.execute(
                _in_decks(
                    select(
                        func.count(),
                        repo.count_if(counted),
                        repo.count_if(passed),
                        repo.count_if(counted & recent),
                        repo.count_if(passed & recent),
                    ).select_from(ReviewRow),
                    deck_ids,
                )
            ).one()

            in_scope = CardRow.deck_id.in_(deck_ids) if deck_ids is not None else true()
            horizon = day + timedelta(days=FORECAST_DAYS - 1)
            due_rows = session.execute(
                select(CardRow.due, func.count())
                .where(
                    in_scope,
                    CardRow.suspended.is_(False),
                    CardRow.due.is_not(None),
                    CardRow.due <= horizon,
                )
                .group_by(CardRow.due)
            ).all()
            forecast = [0] * FORECAST_DAYS
            for due, n in due_rows:
                forecast[max(0, (due - day).days)] += n

            cards, new, suspended = session.execute(
                select(
                    func.count(),
                    repo.count_if(CardRow.due.is_(None)),
                    repo.count_if(CardRow.suspended.is_(True)),
                ).where(in_scope)
            ).one()

            return Stats(
                deck=deck,
                today=day,
                reviews_per_day=per_day,
                retention=Retention(int(passes), int(reviews)),
                retention_30d=Retention(int(passes_30), int(reviews_30)),
                streak=streak_from(days, day),
                forecast=forecast,
                total_reviews=int(total),
                cards=int(cards),
                new=int(new),
                suspended=int(suspended),
            )


def _in_decks(query: Any, deck_ids: list[int] | None) -> Any:
    """Limit a query on the review log to some decks (None: all, with no join at all)."""
    if deck_ids is None:
        return query
    return query.join(CardRow, CardRow.id == ReviewRow.card_id).where(CardRow.deck_id.in_(deck_ids))


def _reviews_per_day(session: Session, deck_ids: list[int] | None, day: date) -> dict[date, int]:
    """Reviews per study day over the last HISTORY_DAYS days (an index range on the log)."""
    rows = session.execute(
        _in_decks(
            select(ReviewRow.study_day, func.count())
            .where(ReviewRow.study_day > day - timedelta(days=HISTORY_DAYS))
            .group_by(ReviewRow.study_day),
            deck_ids,
        )
    ).all()
    return {d: n for d, n in rows}


def _all_review_days(session: Session, deck_ids: list[int] | None) -> set[date]:
    return set(session.scalars(_in_decks(select(ReviewRow.study_day).distinct(), deck_ids)))


def _day_start(decks: list[DeckRow]) -> int:
    """The day-start hour of the scope: the decks' own if they agree, else the default."""
    hours = {d.day_start_hour for d in decks}
    return hours.pop() if len(hours) == 1 else DEFAULT_DAY_START_HOUR
