"""A deck's scheduler: SM-2 or FSRS, switching between them, fitting FSRS, comparing them.

What a rating does under each scheduler is `studyapp.services.outcomes` (`next_state`,
`preview`); `SchedulerService` switches a deck, fits FSRS to its review log and evaluates
the models on a history.

Switching is safe both ways. SM-2 -> FSRS replays each card's review log (its first rating
of each study day) through FSRS to give it a memory state; due days stay as they are, so
nothing comes due at once. FSRS -> SM-2 changes nothing on the cards: under FSRS their ease,
repetitions and lapses kept moving as SM-2 moves them, so SM-2 continues from the card's
current interval. Fitting runs in a worker process (`fsrs_worker`); the rest is quick.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from studyapp.clock import Clock, system_clock
from studyapp.db import Store
from studyapp.db import repository as repo
from studyapp.db.models import CardRow, DeckRow, ReviewRow
from studyapp.errors import NoSuchDeckError, UserError
from studyapp.scheduling import SM2State, check_rating
from studyapp.scheduling import evaluation as ev
from studyapp.scheduling.fsrs import (
    FSRSMemory,
    FSRSSettings,
    memory_from_reviews,
    memory_from_schedule,
)

MODELS = ("sm2", "fsrs_default", "fsrs_fitted")
MODEL_NAMES = {
    "sm2": "SM-2",
    "fsrs_default": "FSRS, default parameters",
    "fsrs_fitted": "FSRS, fitted on the earlier reviews",
}


@dataclass(frozen=True)
class SwitchReport:
    deck: str
    scheduler: str
    desired_retention: float
    switched: bool  # the scheduler changed (not only the retention)
    from_log: int = 0  # cards whose memory state came from their review log
    from_schedule: int = 0  # reviewed cards with no log, whose memory came from their interval

    def to_dict(self) -> dict[str, Any]:
        return {
            "deck": self.deck,
            "scheduler": self.scheduler,
            "desired_retention": self.desired_retention,
            "switched": self.switched,
            "memory_from_log": self.from_log,
            "memory_from_schedule": self.from_schedule,
        }


@dataclass(frozen=True)
class OptimizeReport:
    decks: tuple[str, ...]
    reviews: int  # reviews the optimizer learns from
    fitted: bool  # False: too few reviews, the defaults were kept
    parameters: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "decks": list(self.decks),
            "reviews": self.reviews,
            "minimum_reviews": ev.MIN_FIT_REVIEWS,
            "fitted": self.fitted,
            "parameters": [round(p, 4) for p in self.parameters],
        }


@dataclass(frozen=True)
class Evaluation:
    cards: int
    reviews: int
    models: dict[str, ev.Scores]
    split: date  # the first study day of the evaluated part
    fit_reviews: int  # reviews of the earlier part the fitted model learned from
    fitted: bool  # False: too few of them, so the fitted model has the defaults
    source: str = ""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cards": self.cards,
            "reviews": self.reviews,
            "models": {name: self.models[name].to_dict() for name in MODELS},
        }


class SchedulerService:
    def __init__(self, store: Store, clock: Clock = system_clock) -> None:
        self.store = store
        self.clock = clock

    # --- switching --------------------------------------------------------------------------

    def set_scheduler(
        self, deck: str, scheduler: str | None = None, desired_retention: float | None = None
    ) -> SwitchReport:
        """Put a deck on SM-2 or FSRS and/or set FSRS's desired retention.

        Switching to FSRS gives each card a memory state from its review log; switching to
        SM-2 changes no card. Bad values are refused with nothing changed.
        """
        with self.store.write() as session:
            return switch(session, _deck_row(session, deck), scheduler, desired_retention)

    # --- histories --------------------------------------------------------------------------

    def history(self, deck: str | None = None) -> dict[int, list[tuple[date, int]]]:
        """Each card's state-changing ratings (study day, rating), oldest first: of one deck
        or of the whole collection."""
        with self.store.read() as session:
            ids = [_deck_row(session, deck).id] if deck is not None else None
            return _history(session, ids)

    # --- fitting ----------------------------------------------------------------------------

    def optimize(
        self,
        deck: str | None = None,
        cancelled: Callable[[], bool] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> OptimizeReport:
        """Fit FSRS to the review log of `deck` (or of every deck together, for every deck)
        and store the parameters; with too few reviews nothing is fitted or changed (the
        report then gives the parameters the deck has). Cards of FSRS decks get memory
        states under the new parameters. `progress` hears what the long step is, before it."""
        from studyapp.services.fsrs_worker import fit_parameters

        with self.store.read() as session:
            rows = [_deck_row(session, deck)] if deck is not None else repo.decks(session)
            names = tuple(row.name for row in rows)
            history = _history(session, [row.id for row in rows])
            current = repo.to_deck(rows[0]).settings.fsrs.weights if rows else None
        reviews = ev.fit_reviews(history)
        if reviews < ev.MIN_FIT_REVIEWS:
            return OptimizeReport(names, reviews, False, current or FSRSSettings().weights)
        if progress is not None:
            progress(_fitting(reviews))
        parameters = fit_parameters(history, cancelled)
        with self.store.write() as session:
            for name in names:
                row = _deck_row(session, name)
                row.fsrs_params = repo.params_to_db(parameters)
                if row.scheduler == "fsrs":
                    _give_memory(session, [row.id], repo.to_deck(row).settings.fsrs)
        return OptimizeReport(names, reviews, True, parameters)

    # --- evaluation -------------------------------------------------------------------------

    def evaluate(
        self,
        deck: str | None = None,
        cancelled: Callable[[], bool] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> Evaluation:
        """Replay a deck's review log (or the collection's) and score SM-2, FSRS with default
        parameters and FSRS fitted on its earlier part."""
        source = f"deck {deck!r}" if deck is not None else "all decks"
        return evaluate_history(self.history(deck), source, cancelled, progress)


def evaluate_history(
    history: Mapping[Any, Sequence[tuple[date, int]]],
    source: str = "",
    cancelled: Callable[[], bool] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Evaluation:
    """Score the three models on the later part of `history` (see `scheduling.evaluation`);
    `progress` hears what the long step (the fit) is, before it starts."""
    from studyapp.services.fsrs_worker import fit_parameters

    split = ev.split_day(history)
    if split is None:
        raise UserError(
            f"{source or 'the history'} has no card rated on two different days, "
            "so there is nothing to evaluate"
        )
    earlier = ev.before(history, split)
    fit_reviews = ev.fit_reviews(earlier)
    fitted = fit_reviews >= ev.MIN_FIT_REVIEWS
    if fitted and progress is not None:
        progress(_fitting(fit_reviews))
    parameters = fit_parameters(earlier, cancelled) if fitted else None
    predictors: dict[str, ev.Predictor] = {
        "sm2": ev.sm2_predictions,
        "fsrs_default": ev.fsrs_predictor(FSRSSettings()),
        "fsrs_fitted": ev.fsrs_predictor(FSRSSettings(parameters)),
    }
    scored = {
        name: ev.predictions(history, predict, since=split) for name, predict in predictors.items()
    }
    found = scored["sm2"]
    notes = []
    if not fitted:
        notes.append(
            f"the earlier part holds {fit_reviews} reviews, fewer than the "
            f"{ev.MIN_FIT_REVIEWS} FSRS needs to fit, so the fitted model has the defaults"
        )
    return Evaluation(
        cards=len({p.card for p in found}),
        reviews=len(found),
        models={name: ev.score(found) for name, found in scored.items()},
        split=split,
        fit_reviews=fit_reviews,
        fitted=fitted,
        source=source,
        notes=notes,
    )


def _fitting(reviews: int) -> str:
    return (
        f"Fitting FSRS to {reviews:,} reviews in a worker process; "
        "this takes about a minute per few thousand reviews."
    )


def _deck_row(session: Session, name: str) -> DeckRow:
    row = repo.deck_by_name(session, name)
    if row is None:
        raise NoSuchDeckError(name)
    return row


def _history(session: Session, deck_ids: list[int] | None) -> dict[int, list[tuple[date, int]]]:
    query = (
        select(ReviewRow.card_id, ReviewRow.study_day, ReviewRow.rating)
        .where(ReviewRow.kind != "drill")
        .order_by(ReviewRow.card_id, ReviewRow.study_day, ReviewRow.id)
    )
    if deck_ids is not None:
        query = query.join(CardRow, CardRow.id == ReviewRow.card_id).where(
            CardRow.deck_id.in_(deck_ids)
        )
    history: dict[int, list[tuple[date, int]]] = {}
    for card_id, day, rating in session.execute(query):
        reviews = history.setdefault(card_id, [])
        if not reviews or reviews[-1][0] < day:
            reviews.append((day, check_rating(rating)))
    return history


def give_missing_memory(session: Session, deck_names: Iterable[str]) -> None:
    """Give the cards of these decks that are on FSRS and have no memory state yet (cards an
    import just added, say) the memory state their review log leads to."""
    for name in deck_names:
        row = repo.deck_by_name(session, name)
        if row is not None and row.scheduler == "fsrs":
            settings = repo.to_deck(row).settings.fsrs
            _give_memory(session, [row.id], settings, only_missing=True)


def switch(
    session: Session, row: DeckRow, scheduler: str | None, desired_retention: float | None
) -> SwitchReport:
    """`SchedulerService.set_scheduler` inside a unit of work the caller holds (the deck
    options change a deck's limits and its scheduler together)."""
    old = repo.to_deck(row).settings
    new = replace(
        old,
        scheduler=old.scheduler if scheduler is None else scheduler,
        desired_retention=old.desired_retention if desired_retention is None else desired_retention,
    )
    problem = new.problem()
    if problem is not None:
        raise UserError(problem)
    row.scheduler = new.scheduler
    row.desired_retention = new.desired_retention
    from_log = from_schedule = 0
    switched = new.scheduler != old.scheduler
    if switched and new.scheduler == "fsrs":
        from_log, from_schedule = _give_memory(session, [row.id], new.fsrs)
    return SwitchReport(
        row.name, new.scheduler, new.desired_retention, switched, from_log, from_schedule
    )


def _give_memory(
    session: Session, deck_ids: list[int], settings: FSRSSettings, only_missing: bool = False
) -> tuple[int, int]:
    """Give every card of the decks (`only_missing`: every one without a memory state) the
    FSRS memory state its review log leads to (or, for a reviewed card without one, its
    schedule). Returns how many came from each."""
    history = _history(session, deck_ids)
    query = select(
        CardRow.id,
        CardRow.ease_cents,
        CardRow.repetitions,
        CardRow.interval,
        CardRow.due,
        CardRow.lapses,
    ).where(CardRow.deck_id.in_(deck_ids))
    if only_missing:  # new cards need none
        query = query.where(CardRow.stability.is_(None), CardRow.due.is_not(None))
        if session.execute(query.limit(1)).first() is None:
            return 0, 0
    rows = session.execute(query).all()
    from_log = from_schedule = 0
    for card_id, ease, repetitions, interval, due, lapses in rows:
        reviews = history.get(card_id)
        memory: FSRSMemory | None
        if reviews:
            memory = memory_from_reviews(reviews, settings)
            from_log += 1
        elif due is not None:
            memory = memory_from_schedule(
                SM2State(ease / 100, repetitions, interval, due, lapses), settings
            )
            from_schedule += 1
        else:
            memory = None
        repo.update_card(session, card_id, repo.memory_values(memory))
    return from_log, from_schedule
