"""The predictions drill (`studyapp review --predictions`, `p` at home): the demos predicted
wrong come back with new seeds, and every second time a knob moved, until put right."""

from __future__ import annotations

from datetime import timedelta

from studyapp.cli import main
from studyapp.db import Store
from studyapp.demo_api import DemoResult, get_spec
from studyapp.demo_api.result import PredictionResult
from studyapp.model import Card
from studyapp.services.predictions import PredictionService
from studyapp.tui.screens.home import HomeScreen
from studyapp.tui.screens.prediction_drill import PredictionDrillScreen
from studyapp.tui.widgets.prediction_prompt import PredictionPrompt
from tests.tui.conftest import NOW, settle, text_of
from tests.tui.test_cli_tui import collection, opened  # noqa: F401  (fixtures)


def missed(store: Store, card: Card, chosen: str, answer: str, minutes: int) -> None:
    """A wrong prediction on the card's demo, graded by a run at seed 0."""
    assert card.demo is not None
    spec = get_spec(card.demo.id)
    question = spec.questions[0]
    params = spec.resolve(card.demo.params)
    service = PredictionService(store, lambda: NOW - timedelta(minutes=minutes))
    ids = service.record(card.id, spec.id, params, 0, [(question, chosen)])
    answers = [PredictionResult(question.id, question.text, question.options, answer, "why")]
    service.grade(ids, DemoResult(spec.id, params, 0, 1.0, predictions=answers))


async def test_the_drill_runs_each_missed_demo_again_until_it_is_predicted_right(
    make_app, runner, store, cards
):
    missed(store, cards[0], "plain SGD", "Adam", minutes=30)  # adam_vs_sgd, steps 200
    missed(store, cards[2], "Nesterov", "plain GD", minutes=10)  # momentum_ravine
    app = make_app(start="predictions")
    async with app.run_test(size=(110, 50)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PredictionDrillScreen)
        assert "2 demos to put right" in text_of(app, "#drill-progress")
        context = text_of(app, "#drill-context")
        assert context.startswith("Adam vs SGD vs momentum  predicted wrong on 2025-03-10")
        assert cards[0].front in context
        assert "the same parameters as the run you missed" in context
        assert "it was" not in context  # nothing of the missed run's answer is shown
        demo_id, params, seed = runner.calls[-1]
        assert demo_id == "adam_vs_sgd" and params["steps"] == 200 and seed != 0
        assert app.focused is screen.query_one(PredictionPrompt)  # asked before it is shown

        await pilot.press("3")  # Adam: what the canned run answers
        await settle(pilot)
        assert "Put right" in text_of(app, "#drill-outcome")
        assert "1 demo to put right · 1 put right" in text_of(app, "#drill-progress")

        await pilot.press("n")
        await settle(pilot)
        assert text_of(app, "#drill-context").startswith(get_spec("momentum_ravine").title)
        await pilot.press("2")  # wrong again: the canned run answers the first option
        await settle(pilot)
        assert "Not yet" in text_of(app, "#drill-outcome")

        await pilot.press("n")  # back again: this time one knob is moved within its bounds
        await settle(pilot)
        spec = get_spec("momentum_ravine")
        first, second = runner.calls[-2], runner.calls[-1]
        moved = {k for k in first[1] if first[1][k] != second[1][k]}
        assert len(moved) == 1 and second[2] not in (0, first[2])
        (knob,) = moved
        assert spec.param(knob).kind in ("float", "bool", "choice")
        spec.resolve(second[1])  # within bounds
        assert f"{knob} = " in text_of(app, "#drill-context")
        assert "it was" in text_of(app, "#drill-context")

        await pilot.press("1")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert "every demo in the drill is put right" in text_of(app, "#drill-context")
        assert app.services.predictions.drill() == []

        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


async def test_with_nothing_to_drill_it_says_so_and_p_at_home_opens_it(make_app, cards):
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PredictionDrillScreen)
        assert "0 demos to put right" in text_of(app, "#drill-progress")
        # Never wrong (never asked, even): it says so, not that misses were put right.
        assert text_of(app, "#drill-context").startswith(
            "Nothing to put right: none of your predictions has been wrong yet."
        )


async def test_with_every_miss_put_right_before_it_says_so(make_app, store, cards):
    card = next(c for c in cards if c.demo is not None)
    question = get_spec(card.demo.id).questions[0]
    wrong, right = question.options[0], question.options[1]
    missed(store, card, wrong, right, minutes=20)
    missed(store, card, right, right, minutes=10)  # predicted right since
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert "0 demos to put right" in text_of(app, "#drill-progress")
        assert text_of(app, "#drill-context").startswith(
            "Every demo you predicted wrong has since been predicted right."
        )


def test_review_predictions_opens_the_drill(opened, collection, capsys):  # noqa: F811
    assert main(["review", "--predictions", "--db", collection]) == 0
    assert opened == [("predictions", None)]
    assert main(["review", "--predictions", "--deck", "Basics", "--db", collection]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "drop --deck" in err
