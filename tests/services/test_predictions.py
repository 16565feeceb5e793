"""Predictions in the collection: committed before the run, graded by it, never changed after,
gone with their card, and drilled until put right."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from studyapp.db import Store
from studyapp.db.models import CardRow, PredictionRow
from studyapp.db.predictions import every
from studyapp.demo_api import DemoResult, get_spec
from studyapp.demo_api.result import PredictionResult
from studyapp.errors import UserError
from studyapp.model import DemoLink
from studyapp.services.cards import CardService
from studyapp.services.predictions import (
    DrillItem,
    PredictionService,
    drill_setting,
    due_for_drill,
    prediction_stats,
)
from tests.services.conftest import FakeClock

FAKES = "tests.fake_demos"
ECHO = get_spec("echo", FAKES)
END, LARGER = ECHO.questions
PARAMS = {"value": 1.0, "steps": 5}
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def result(answers: dict[str, str], seed: int = 0, **kw: Any) -> DemoResult:
    """A finished echo run whose answers are `answers` (question id -> option)."""
    by_id = {q.id: q for q in ECHO.questions}
    return DemoResult(
        id="echo",
        params=dict(PARAMS),
        seed=seed,
        elapsed_s=0.1,
        predictions=[
            PredictionResult(qid, by_id[qid].text, by_id[qid].options, option, f"because {option}")
            for qid, option in answers.items()
        ],
        **kw,
    )


@pytest.fixture
def service(store: Store, clock: FakeClock) -> PredictionService:
    return PredictionService(store, clock, package=FAKES)


@pytest.fixture
def card_id(store: Store, clock: FakeClock) -> int:
    return CardService(store, clock).add("D", "front", "back", demo=DemoLink("echo")).id


def count(store: Store) -> int:
    with store.read() as session:
        return int(session.scalar(select(func.count()).select_from(PredictionRow)) or 0)


def test_a_prediction_is_stored_before_the_run_and_graded_by_it(
    service: PredictionService, card_id: int, clock: FakeClock
) -> None:
    ids = service.record(card_id, "echo", PARAMS, 0, [(END, "above 50"), (LARGER, "the steps")])
    (first, second) = service.of_card(card_id)
    assert (first.chosen, first.answer, first.correct) == ("above 50", None, None)
    assert first.at == clock.now and first.params == PARAMS and first.seed == 0
    assert (first.question_id, first.question) == ("end", END.text)

    graded = service.grade(ids, result({"end": "at 50 or below", "larger": "the steps"}))
    assert [(p.answer, p.correct) for p in graded] == [
        ("at 50 or below", False),
        ("the steps", True),
    ]
    assert graded[0].why == "because at 50 or below"
    assert service.of_card(card_id) == graded


def test_a_graded_prediction_never_changes(service: PredictionService, card_id: int) -> None:
    ids = service.record(card_id, "echo", PARAMS, 0, [(END, "above 50")])
    service.grade(ids, result({"end": "above 50"}))
    (again,) = service.grade(ids, result({"end": "at 50 or below"}))
    assert (again.answer, again.correct) == ("above 50", True)


@pytest.mark.parametrize(
    "run",
    [
        result({"end": "above 50"}, status="error", error="boom"),
        result({"end": "above 50"}, seed=3),  # another run than the one predicted
        result({}),  # a run that did not answer the question
    ],
)
def test_only_the_finished_run_that_was_predicted_grades(
    service: PredictionService, card_id: int, run: DemoResult
) -> None:
    ids = service.record(card_id, "echo", PARAMS, 0, [(END, "above 50")])
    (prediction,) = service.grade(ids, run)
    assert (prediction.answer, prediction.correct) == (None, None)


def test_an_option_the_question_does_not_have_stores_nothing(
    service: PredictionService, card_id: int, store: Store
) -> None:
    with pytest.raises(UserError):
        service.record(card_id, "echo", PARAMS, 0, [(END, "above 50"), (LARGER, "maybe")])
    assert count(store) == 0


def test_options_are_named_by_text_or_number() -> None:
    assert LARGER.option("The  Steps") == "the steps"
    assert LARGER.option("3") == "neither"
    for bad in ("4", "0", "steps", "", "²", "9" * 5000):  # not ASCII digits; past int()'s limit
        with pytest.raises(UserError, match="1 the value; 2 the steps; 3 neither"):
            LARGER.option(bad)


def test_predictions_go_with_their_card(
    service: PredictionService, card_id: int, store: Store
) -> None:
    service.record(card_id, "echo", PARAMS, 0, [(END, "above 50")])
    service.record(None, "echo", PARAMS, 0, [(END, "above 50")])  # from the command line
    with store.write() as session:
        session.execute(delete(CardRow).where(CardRow.id == card_id))
    assert count(store) == 1
    assert service.of_card(card_id) == []


def test_the_drill_holds_each_question_until_its_latest_prediction_is_right(
    service: PredictionService, card_id: int, clock: FakeClock
) -> None:
    def predict(question: Any, chosen: str, answer: str, seed: int = 0) -> None:
        ids = service.record(card_id, "echo", PARAMS, seed, [(question, chosen)])
        service.grade(ids, result({question.id: answer}, seed=seed))
        clock.advance(minutes=1)

    assert service.drill() == []
    predict(END, "above 50", "at 50 or below")
    predict(LARGER, "the value", "the value")
    (item,) = service.drill()
    assert (item.demo_id, item.question_ids, item.card_id, item.seed) == (
        "echo",
        ("end",),
        card_id,
        0,
    )
    assert service.missed("echo") is not None

    predict(LARGER, "the value", "the steps", seed=9)  # now both are wrong
    (item,) = service.drill()
    assert item.question_ids == ("end", "larger") and item.seed == 9

    predict(END, "at 50 or below", "at 50 or below")
    predict(LARGER, "the steps", "the steps")
    assert service.drill() == [] and service.missed("echo") is None


def test_a_demo_gone_from_the_catalogue_is_not_drilled(
    service: PredictionService, card_id: int
) -> None:
    ids = service.record(card_id, "echo", PARAMS, 0, [(END, "above 50")])
    service.grade(ids, result({"end": "at 50 or below"}))
    assert len(due_for_drill(service.of_card(card_id))) == 1
    gone = PredictionService(service.store, service.clock, package="demos")
    assert gone.drill() == []  # the real catalogue has no demo "echo"


def test_drill_runs_take_new_seeds_and_every_second_one_moves_one_knob() -> None:
    spec = get_spec("adam_vs_sgd")
    params = spec.resolve({"steps": 200})
    item = DrillItem("adam_vs_sgd", ("first_to_target",), params, 0, None, NOW)
    rng = random.Random(1)
    moved = set()
    for attempt in range(40):
        setting = drill_setting(spec, item, attempt, rng)
        assert setting.seed != 0
        spec.resolve(setting.params)  # within bounds
        changed = {k for k in params if setting.params[k] != params[k]}
        if attempt % 2 == 0:
            assert changed == set() and setting.moved is None
        else:
            assert changed == {setting.moved}
            moved.add(setting.moved)
    # Only knobs that may change the outcome move: never sizes (whole numbers) or the device.
    assert moved and moved <= {"lr_sgd", "lr_momentum", "momentum", "lr_adam", "target"}
    assert len(moved) >= 3


def test_stats_count_graded_predictions_per_demo_and_per_week(
    service: PredictionService, card_id: int, clock: FakeClock, store: Store
) -> None:
    for answer in ("above 50", "at 50 or below"):  # one right, a week later one wrong
        ids = service.record(card_id, "echo", PARAMS, 0, [(END, "above 50")])
        service.grade(ids, result({"end": answer}))
        clock.advance(days=7)
    service.record(card_id, "echo", PARAMS, 0, [(END, "above 50")])  # never graded
    with store.reading() as rows:
        stats = prediction_stats(every(rows), clock)
    assert (stats.total, stats.correct, stats.ungraded, stats.rate) == (2, 1, 1, 0.5)
    assert [(w.total, w.correct) for w in stats.per_week] == [(1, 1), (1, 0)]
    assert stats.per_week[1].week - stats.per_week[0].week == timedelta(days=7)
    assert [t.demo_id for t in stats.most_wrong()] == ["echo"]
    assert stats.to_dict()["per_demo"] == {"echo": {"total": 2, "correct": 1}}


def test_a_knob_that_only_changes_the_plot_is_never_moved() -> None:
    spec = get_spec("momentum_ravine")
    assert spec.param("view").plot_only
    item = DrillItem(spec.id, (spec.questions[0].id,), spec.defaults, 0, None, NOW)
    rng = random.Random(3)
    moved = {drill_setting(spec, item, attempt, rng).moved for attempt in range(1, 80, 2)}
    assert "view" not in moved and moved == {"lr", "beta", "k"}


def test_a_prediction_kept_beyond_a_narrowed_bound_is_drilled_at_the_bound() -> None:
    # A prediction made when adam_vs_sgd allowed 5,000 steps (it now stops lower).
    spec = get_spec("adam_vs_sgd")
    high = spec.param("steps").high
    assert high is not None and high < 5000
    params = {**spec.defaults, "steps": 5000}
    item = DrillItem("adam_vs_sgd", ("first_to_target",), params, 0, None, NOW)
    setting = drill_setting(spec, item, 0, random.Random(2))
    assert setting.params["steps"] == high
    assert spec.resolve(setting.params) == setting.params
