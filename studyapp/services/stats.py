"""Statistics: reviews per day, retention, streak and the due forecast, per deck or overall,
and how the learner's predictions of demo outcomes went.

Retention is the share of review ratings of 3 or more on cards past their first interval:
only the first rating of a card on a day counts, and only for cards that had already been
passed at least once (so learning a new card does not count as remembering it). Prediction
accuracy counts graded predictions only; over one deck, those made on its cards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from studyapp.clock import Clock, system_clock, today
from studyapp.db import Store
from studyapp.db import predictions as prediction_log
from studyapp.db import repository as repo
from studyapp.db.models import CardRow, DeckRow, ReviewRow
from studyapp.db.store import rows_in
from studyapp.errors import NoSuchDeckError
from studyapp.model import named_alike
from studyapp.scheduling.sm2 import PASSING_RATING
from studyapp.services.overview import (
    Today,
    day_start,
    reviews_per_day,
    streak_of,
    today_progress,
)
from studyapp.services.predictions import PredictionStats, prediction_stats

__all__ = ["PredictionStats", "Retention", "Stats", "StatsService", "Today"]

FORECAST_DAYS = 30


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
    predictions: PredictionStats = field(default_factory=PredictionStats)

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
            "new": self.new,  # cards never studied; the same count as "unseen"
            "unseen": self.new,  # the name `decks --json` and the screens use for it
            "suspended": self.suspended,
            "predictions": self.predictions.to_dict(),
        }


def _retention_dict(r: Retention) -> dict[str, Any]:
    return {
        "rate": round(r.rate, 4) if r.rate is not None else None,
        "passed": r.passed,
        "reviews": r.reviews,
    }


class StatsService:
    def __init__(self, store: Store, clock: Clock = system_clock) -> None:
        self.store = store
        self.clock = clock

    def _scope(self, session: Session, deck: str | None) -> tuple[list[DeckRow], int]:
        """The decks in scope and the hour their study day starts."""
        decks = repo.decks(session)
        if deck is not None:
            wanted = named_alike((d.name for d in decks), deck)
            decks = [d for d in decks if d.name == wanted]
            if not decks:
                raise NoSuchDeckError(deck)
        return decks, day_start(d.day_start_hour for d in decks)

    def today(self) -> Today:
        """Reviews today and the streak over all decks: two indexed reads, cheap at any size."""
        with self.store.reading() as rows:
            return today_progress(rows, self.clock)

    def compute(self, deck: str | None = None) -> Stats:
        with self.store.read() as session:
            decks, hour = self._scope(session, deck)
            if deck is not None:
                deck = decks[0].name  # as the collection writes it
            day = today(self.clock, hour)
            deck_ids = [d.id for d in decks] if deck is not None else None
            deck_id = deck_ids[0] if deck_ids else None
            rows = rows_in(session)
            per_day = reviews_per_day(rows, day, deck_id)

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
                streak=streak_of(rows, day, deck_id),
                forecast=forecast,
                total_reviews=int(total),
                cards=int(cards),
                new=int(new),
                suspended=int(suspended),
                predictions=prediction_stats(prediction_log.every(rows, deck_id), self.clock, hour),
            )


def _in_decks(query: Any, deck_ids: list[int] | None) -> Any:
    """Limit a query on the review log to some decks (None: all, with no join at all)."""
    if deck_ids is None:
        return query
    return query.join(CardRow, CardRow.id == ReviewRow.card_id).where(CardRow.deck_id.in_(deck_ids))
