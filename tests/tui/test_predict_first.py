"""Predict, then run, in the review: `d` asks first, the pick is stored before anything of
the run is shown, then the verdict comes above the result, and a wrong prediction is shown
over the rating keys until it is put right."""

from __future__ import annotations

from studyapp.db import Store
from studyapp.db.predictions import every
from studyapp.demo_api import get_spec
from studyapp.model import Prediction
from studyapp.tui.widgets.demo_panel import DemoPanel
from studyapp.tui.widgets.prediction_prompt import PredictionPrompt
from tests.tui.conftest import (
    TAKEAWAY,
    WHY,
    FakeRunner,
    canned_result,
    review_count,
    settle,
    text_of,
)

RACE = get_spec("adam_vs_sgd").questions[0]


def stored(store: Store) -> list[Prediction]:
    with store.reading() as rows:
        return every(rows)


async def test_ask_pick_reveal_and_store(make_app, runner, store, cards):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test(size=(100, 50)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        panel = app.screen.query_one(DemoPanel)
        prompt = panel.query_one(PredictionPrompt)
        asked = text_of(app, "#demo-predict")
        assert RACE.text in asked and " 3  Adam" in asked
        assert "This run: seed 0; steps = 200" in asked
        assert app.focused is prompt
        assert len(runner.calls) == 1  # the run went on in the background...
        assert "result waits for your prediction" in text_of(app, "#demo-status")
        for hidden in ("#demo-headline", "#demo-claims", "#demo-plot", "#demo-verdict"):
            assert not panel.query_one(hidden).display  # ...its result held back
        assert stored(store) == []

        await pilot.press("3")
        await settle(pilot)
        assert not prompt.display and app.focused is not prompt
        verdict = text_of(app, "#demo-verdict")
        assert verdict.splitlines() == [RACE.text, "You predicted: Adam  ✓ right.", WHY]
        assert text_of(app, "#demo-headline") == TAKEAWAY
        order = [child.id for child in panel.children if child.display]
        assert order.index("demo-verdict") < order.index("demo-plot")  # at the top

        (prediction,) = stored(store)
        assert (prediction.card_id, prediction.demo_id, prediction.seed) == (
            cards[0].id,
            "adam_vs_sgd",
            0,
        )
        assert prediction.params["steps"] == 200 and prediction.params["lr_adam"] == 0.1
        assert (prediction.question_id, prediction.chosen, prediction.answer) == (
            RACE.id,
            "Adam",
            "Adam",
        )
        assert prediction.correct is True and prediction.why == WHY

        await pilot.press("space", "4")  # the keys rate the card again
        assert review_count(store) == 1


async def test_a_wrong_prediction_is_shown_over_the_rating_keys_until_put_right(
    make_app, runner, store, cards
):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test(size=(100, 50)) as pilot:
        await settle(pilot)
        missed = app.screen.query_one("#review-missed")
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        assert "You predicted: plain SGD  ✗ wrong: it was Adam." in text_of(app, "#demo-verdict")
        assert not missed.display  # the answer is not revealed yet
        await pilot.press("space")
        assert missed.display
        note = text_of(app, "#review-missed")
        assert "predicted this card's demo wrong last time" in note and "plain SGD" in note
        assert "Adam" not in note  # what happened is for the demo to show again

        await pilot.press("r")  # a new seed; asked again
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert not missed.display  # put right
        assert [p.correct for p in stored(store)] == [False, True]


async def test_the_pick_is_stored_before_the_run_ends_and_a_cancelled_run_grades_nothing(
    make_app, store, cards
):
    runner = FakeRunner(block=True)
    app = make_app(start="review", deck="Optimizers", runner=runner)
    async with app.run_test(size=(100, 50)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        for _ in range(100):
            if runner.started.is_set():
                break
            await pilot.pause(0.02)
        await pilot.pause()
        await pilot.press("2")
        await pilot.pause()
        (prediction,) = stored(store)
        assert prediction.chosen == "SGD with momentum" and prediction.answer is None
        assert app.screen.query_one(DemoPanel).running

        await pilot.press("escape")  # cancels the run
        await settle(pilot)
        assert "not graded: the run did not finish" in text_of(app, "#demo-verdict")
        (prediction,) = stored(store)
        assert prediction.correct is None


async def test_a_cached_result_is_hidden_and_graded_the_same_way(make_app, runner, store, cards):
    spec = get_spec("adam_vs_sgd")
    cached = canned_result(spec.id, spec.resolve({"steps": 200}), 0)
    cached.cached = True
    runner.cache[(spec.id, 0)] = cached
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test(size=(100, 50)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert runner.calls == [] and not app.screen.query_one("#demo-headline").display
        assert "The run is done" in text_of(app, "#demo-status")
        assert not app.screen.query_one("#demo-progress").display
        await pilot.press("4")
        await settle(pilot)
        assert "✗ wrong: it was Adam" in text_of(app, "#demo-verdict")
        assert [(p.chosen, p.correct) for p in stored(store)] == [
            ("none of them within the steps", False)
        ]


async def test_escape_in_the_prompt_closes_the_demo_and_stores_nothing(
    make_app, runner, store, cards
):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test(size=(100, 50)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert not app.screen.query_one(DemoPanel).is_open
        assert stored(store) == []
        await pilot.press("space", "4")
        assert review_count(store) == 1


async def test_digits_typed_on_after_enter_in_the_form_answer_nothing(
    make_app, runner, store, cards, monkeypatch
):
    """Enter in the parameter form runs the demo again; the form gives up the focus and the
    new run's question takes it. Digits typed on at once, meant for the field, picked an
    option that cannot be taken back; they now answer nothing for a second."""
    from textual.widgets import Input

    from studyapp.tui.widgets import prediction_prompt
    from studyapp.tui.widgets.param_form import ParamInput

    now = [1000.0]
    monkeypatch.setattr(prediction_prompt, "monotonic", lambda: now[0])
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test(size=(100, 50)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("3")  # the first run's question
        await settle(pilot)
        panel = app.screen.query_one(DemoPanel)
        steps = next(f for f in panel.query(ParamInput) if f.param.name == "steps")
        steps.focus()
        steps.value = "60"
        await pilot.press("enter", *"4321")
        await settle(pilot)
        prompt = panel.query_one(PredictionPrompt)
        assert len(runner.calls) == 2 and prompt.asking
        assert len(stored(store)) == 1  # the first run's pick only
        assert not isinstance(app.focused, Input)
        now[0] += prediction_prompt.TYPED_AHEAD_S
        await pilot.press("2")
        await settle(pilot)
        assert [p.chosen for p in stored(store)][-1] == "SGD with momentum"
