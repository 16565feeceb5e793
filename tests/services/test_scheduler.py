"""A deck on FSRS: study, switch both ways without losing anything, fit, and evaluate."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from studyapp.db import Store
from studyapp.errors import UserError
from studyapp.scheduling import SM2State, sm2_review
from studyapp.scheduling.fsrs import (
    FSRSMemory,
    FSRSSettings,
    fsrs_review,
    memory_from_reviews,
    memory_from_schedule,
)
from studyapp.services.cards import CardService
from studyapp.services.decks import DeckService
from studyapp.services.library import LibraryService
from studyapp.services.scheduler import SchedulerService, evaluate_history
from studyapp.services.study import StudySession
from tests.services.conftest import FakeClock, add_cards, make_due
from tests.services.learners import simulate

START = date(2026, 3, 2)


def study_days(store: Store, clock: FakeClock, days: int, ratings: dict[int, int]) -> None:
    """Study deck D for `days` days, rating card i (by position) `ratings[i]` (default 4);
    a card rated below 4 is drilled the same day until it is rated 4."""
    ids = [c.id for c in CardService(store).search(deck="D")]
    for offset in range(days):
        clock.set_day(START + timedelta(days=offset))
        session = StudySession(store, "D", clock)
        while (card := session.current) is not None:
            first = session.current_kind != "drill"
            session.answer(ratings.get(ids.index(card.id), 4) if first else 4)


def cards(store: Store) -> dict[int, tuple[SM2State, FSRSMemory | None]]:
    return {c.id: (c.state, c.memory) for c in CardService(store).search(deck="D")}


def first_of_day_log(store: Store, card_id: int) -> list[tuple[date, int]]:
    history = CardService(store).detail(card_id).history
    return [(r.study_day, r.rating) for r in history if r.kind != "drill"]


def test_switching_to_fsrs_and_back_loses_nothing(store: Store, clock: FakeClock) -> None:
    add_cards(store, "D", 5)
    study_days(store, clock, 12, {1: 2, 3: 3})
    never = add_cards(store, "D", 1, "later")[0]  # a new card stays new
    before = cards(store)
    logs = {cid: CardService(store).detail(cid).history for cid in before}

    report = SchedulerService(store, clock).set_scheduler("D", "fsrs")
    assert (report.switched, report.from_log, report.from_schedule) == (True, 5, 0)
    on_fsrs = cards(store)
    for card_id, (state, memory) in on_fsrs.items():
        assert state == before[card_id][0]  # due dates and SM-2 fields untouched
        expected = memory_from_reviews(first_of_day_log(store, card_id), FSRSSettings())
        assert memory == expected
    assert on_fsrs[never][1] is None

    SchedulerService(store, clock).set_scheduler("D", "sm2")
    assert cards(store) == on_fsrs
    assert {cid: CardService(store).detail(cid).history for cid in before} == logs
    assert DeckService(store).get("D").settings.scheduler == "sm2"


def test_a_cards_fsrs_memory_is_shown_only_while_its_deck_uses_fsrs(
    store: Store, clock: FakeClock
) -> None:
    from studyapp.tui.screens.card_detail import state_line

    card_id = add_cards(store, "D", 1)[0]
    study_days(store, clock, 4, {})
    scheduler = SchedulerService(store, clock)
    for name, shown in (("fsrs", True), ("sm2", False), ("fsrs", True)):
        scheduler.set_scheduler("D", name)
        detail = CardService(store).detail(card_id)
        assert detail.scheduler == name
        assert detail.card.memory is not None  # kept under SM-2, for a switch back
        assert ("FSRS stability" in state_line(detail.card, detail.scheduler).plain) is shown


def test_fsrs_decks_study_with_fsrs_and_sm2_continues_from_the_interval(
    store: Store, clock: FakeClock
) -> None:
    add_cards(store, "D", 3)
    study_days(store, clock, 3, {})
    SchedulerService(store, clock).set_scheduler("D", "fsrs", 0.85)
    (card_id, (state, memory)), *_ = cards(store).items()
    day = state.due
    assert day is not None and memory is not None
    clock.set_day(day)
    session = StudySession(store, "D", clock)
    while session.current is not None and session.current.id != card_id:
        session.answer(4)
    card = session.current
    assert card is not None
    shown = session.preview()  # what the rating bar shows
    answered = session.answer(4)
    expected, expected_memory = fsrs_review(state, memory, 4, day, FSRSSettings(None, 0.85))
    assert answered.card.state == expected and answered.card.memory == expected_memory
    assert shown[4].days == expected.interval
    assert answered.review.memory_before == memory
    assert answered.review.memory_after == expected_memory

    # Undo restores the memory state with the schedule.
    session.undo()
    assert cards(store)[card_id] == (state, memory)
    session.answer(4)

    SchedulerService(store, clock).set_scheduler("D", "sm2")
    fsrs_state = cards(store)[card_id][0]
    assert fsrs_state.repetitions >= 3  # passes in a row, kept up under FSRS
    next_day = fsrs_state.due
    assert next_day is not None
    clock.set_day(next_day)
    session = StudySession(store, "D", clock)
    while session.current is not None and session.current.id != card_id:
        session.answer(4)
    assert session.current is not None
    assert session.preview()[4].days == sm2_review(fsrs_state, 4, next_day).interval
    answered = session.answer(4)
    assert answered.card.state == sm2_review(fsrs_state, 4, next_day)
    assert answered.card.state.interval == -(-fsrs_state.interval * 250 // 100)


def test_same_day_repeats_change_nothing_under_fsrs(store: Store, clock: FakeClock) -> None:
    add_cards(store, "D", 1)
    SchedulerService(store, clock).set_scheduler("D", "fsrs")
    clock.set_day(START)
    session = StudySession(store, "D", clock)
    first = session.answer(1)
    assert first.comes_back and first.changed_state
    while session.current is not None:
        again = session.answer(4)
        assert not again.changed_state and again.review.kind == "drill"
        assert again.card.state == first.card.state and again.card.memory == first.card.memory


def test_a_reviewed_card_without_a_log_gets_memory_from_its_interval(
    store: Store, clock: FakeClock
) -> None:
    (card_id,) = add_cards(store, "D", 1)
    make_due(store, [card_id], START, interval=30)
    report = SchedulerService(store, clock).set_scheduler("D", "fsrs")
    assert (report.from_log, report.from_schedule) == (0, 1)
    state, memory = cards(store)[card_id]
    assert memory == memory_from_schedule(state, FSRSSettings())


def test_bad_settings_are_refused_and_change_nothing(store: Store, clock: FakeClock) -> None:
    add_cards(store, "D", 1)
    service = SchedulerService(store, clock)
    for scheduler, retention in (("anki", None), (None, 0.5), (None, 0.98), (None, float("nan"))):
        with pytest.raises(UserError):
            service.set_scheduler("D", scheduler, retention)
    with pytest.raises(UserError, match="no deck named"):
        service.set_scheduler("E", "fsrs")
    assert DeckService(store).get("D").settings.scheduler == "sm2"
    assert DeckService(store).get("D").settings.desired_retention == 0.9


def backup_of(history: dict[str, list[tuple[date, int]]], deck: str) -> dict[str, object]:
    """A JSON backup holding these histories as cards with review logs."""
    cards_out = []
    new = SM2State.new().to_dict()
    for index, (key, reviews) in enumerate(history.items()):
        state = SM2State.new()
        log = []
        for day, rating in reviews:
            after = sm2_review(state, rating, day)
            at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC).isoformat()
            log.append(
                {
                    "at": at,
                    "study_day": day.isoformat(),
                    "rating": rating,
                    "duration_ms": 5000,
                    "kind": "new" if not log else "review",
                    "before": state.to_dict(),
                    "after": after.to_dict(),
                }
            )
            state = after
        card = {"id": key, "front": f"q{index}", "back": "a", "state": state.to_dict()}
        cards_out.append({**card, "reviews": log} if log else {**card, "state": new})
    return {"version": 1, "decks": [{"name": deck, "cards": cards_out}]}


def test_optimize_fits_a_long_history_and_refuses_a_short_one(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    path = tmp_path / "history.json"
    path.write_text(json.dumps(backup_of(simulate(120, 120, seed=3), "D")))
    LibraryService(store, clock).import_files([path])
    path.write_text(json.dumps(backup_of(simulate(10, 60, seed=4), "Small")))
    LibraryService(store, clock).import_files([path])
    service = SchedulerService(store, clock)
    service.set_scheduler("D", "fsrs")
    memories = cards(store)

    short = service.optimize("Small")
    assert not short.fitted and short.reviews < 512
    assert DeckService(store).get("Small").settings.fsrs_params is None

    report = service.optimize("D")
    assert report.fitted and report.reviews >= 512
    settings = DeckService(store).get("D").settings
    assert settings.fsrs_params == report.parameters
    assert settings.fsrs_params != FSRSSettings().weights
    # Memory states follow the new parameters.
    after = cards(store)
    assert after != memories
    some = next(iter(after))
    assert after[some][1] == memory_from_reviews(first_of_day_log(store, some), settings.fsrs)


def test_evaluation_ranks_the_fitted_model_first_on_a_learner_it_can_learn() -> None:
    history = simulate(160, 120, seed=1)
    heard: list[str] = []
    evaluation = evaluate_history(history, "simulated learner", progress=heard.append)
    assert evaluation.fitted and evaluation.fit_reviews >= 512
    # The minute-long fit is announced once, with how many reviews it learns from.
    assert heard == [
        f"Fitting FSRS to {evaluation.fit_reviews:,} reviews in a worker process; "
        "this takes about a minute per few thousand reviews."
    ]
    assert evaluation.reviews > 300 and evaluation.cards > 100
    scores = evaluation.models
    assert scores["fsrs_fitted"].log_loss < scores["fsrs_default"].log_loss - 0.01
    assert scores["fsrs_fitted"].rmse_bins < scores["fsrs_default"].rmse_bins - 0.01
    assert scores["fsrs_default"].log_loss < scores["sm2"].log_loss
    assert scores["fsrs_fitted"].auc is not None and scores["sm2"].auc is not None
    assert scores["fsrs_fitted"].auc > scores["sm2"].auc
    assert set(evaluation.to_dict()) == {"cards", "reviews", "models"}


def test_a_history_with_nothing_to_score_is_one_sentence() -> None:
    with pytest.raises(UserError, match="nothing to evaluate"):
        evaluate_history({"a": [(START, 4)]}, "deck 'D'")


def test_cards_imported_into_an_fsrs_deck_get_memory_from_their_log(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    add_cards(store, "D", 1)
    SchedulerService(store, clock).set_scheduler("D", "fsrs")
    history = simulate(3, 40, seed=6)
    path = tmp_path / "more.json"
    path.write_text(json.dumps(backup_of(history, "D")))
    LibraryService(store, clock).import_files([path])
    by_uid = {c.uid: c for c in CardService(store).search(deck="D")}
    for key, reviews in history.items():
        assert by_uid[key].memory == memory_from_reviews(reviews, FSRSSettings())
