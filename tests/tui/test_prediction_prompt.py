"""The prediction prompt on its own: one question at a time, one key per option, `x` skips,
escape abandons; every pick is posted at once and none can be taken back. And the round
that keeps the picks, holds the result back and grades by it."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Input

from studyapp.db import Store
from studyapp.db.predictions import every
from studyapp.demo_api import DemoResult, Question, get_spec
from studyapp.demo_api.result import PredictionResult
from studyapp.model import Prediction
from studyapp.services.predictions import PredictionService
from studyapp.tui.widgets.prediction_prompt import (
    PredictionPrompt,
    PredictionRound,
    verdict_content,
)
from tests.tui.conftest import fixed_clock

RACE = Question("race", "Who wins the [b]race[/b]?", ("SGD", "Adam", "none"))
GAP = Question("gap", "Does the gap close?", ("yes", "no"))


class Host(App[None]):
    """A screen with only the prompt, recording what it posts."""

    def __init__(self) -> None:
        super().__init__()
        self.heard: list[tuple[Any, ...]] = []

    def compose(self) -> ComposeResult:
        yield PredictionPrompt(id="prompt")

    def on_prediction_prompt_picked(self, message: PredictionPrompt.Picked) -> None:
        self.heard.append(("picked", message.question.id, message.option))

    def on_prediction_prompt_finished(self, message: PredictionPrompt.Finished) -> None:
        self.heard.append(("finished", message.picks))

    def on_prediction_prompt_dismissed(self, message: PredictionPrompt.Dismissed) -> None:
        self.heard.append(("dismissed",))


def shown(app: Host) -> str:
    return str(app.query_one(PredictionPrompt).render())


async def test_it_asks_each_question_in_turn_and_posts_each_pick_at_once() -> None:
    app = Host()
    async with app.run_test() as pilot:
        prompt = app.query_one(PredictionPrompt)
        assert not prompt.display  # nothing to ask yet
        prompt.ask([RACE, GAP], setting="seed 4; lr_adam = 0.001")
        prompt.focus()
        await pilot.pause()
        assert prompt.display
        text = shown(app)
        assert "question 1 of 2" in text and "seed 4; lr_adam = 0.001" in text
        assert "Who wins the [b]race[/b]?" in text  # card-like text is never markup
        assert " 1  SGD" in text and " 3  none" in text

        await pilot.press("4")  # there is no option 4
        assert app.heard == [] and prompt.current is RACE
        await pilot.press("2")
        assert app.heard == [("picked", "race", "Adam")]
        assert "Does the gap close?" in shown(app) and "question 2 of 2" in shown(app)
        await pilot.press("x")
        await pilot.pause()
        assert app.heard[1:] == [("finished", {"race": "Adam"})]
        assert not prompt.asking and not prompt.display

        await pilot.press("1", "x", "escape")  # nothing is asked: keys do nothing
        await pilot.pause()
        assert len(app.heard) == 2


async def test_escape_abandons_the_questions() -> None:
    app = Host()
    async with app.run_test() as pilot:
        prompt = app.query_one(PredictionPrompt)
        prompt.ask([RACE])
        prompt.focus()
        await pilot.press("escape")
        await pilot.pause()
        assert app.heard == [("dismissed",)] and not prompt.asking


def answer(question: Question, option: str, why: str) -> PredictionResult:
    return PredictionResult(question.id, question.text, question.options, option, why)


def test_the_verdict_says_what_was_predicted_what_happened_and_why() -> None:
    answers = [answer(RACE, "SGD", "SGD reached 0.3 at step 40."), answer(GAP, "yes", "")]
    text = verdict_content(answers, {"race": "Adam", "gap": "yes"}).plain
    assert text.splitlines() == [
        "Who wins the [b]race[/b]?",
        "You predicted: Adam  ✗ wrong: it was SGD.",
        "SGD reached 0.3 at step 40.",
        "Does the gap close?",
        "You predicted: yes  ✓ right.",
    ]
    skipped = verdict_content(answers[:1], {}).plain
    assert skipped.splitlines()[1] == "You did not predict. It was: SGD."


def test_where_rows_are_few_each_question_gets_one_line() -> None:
    answers = [answer(RACE, "SGD", "SGD reached 0.3 at step 40."), answer(GAP, "yes", "")]
    text = verdict_content(answers, {"race": "Adam"}, compact=True).plain
    assert text.splitlines() == [
        "1. You predicted: Adam  ✗ wrong: it was SGD.",
        "2. You did not predict. It was: yes.",
    ]
    alone = verdict_content(answers[:1], {"race": "SGD"}, compact=True).plain
    assert alone.splitlines() == ["You predicted: SGD  ✓ right."]


ECHO = get_spec("echo", "tests.fake_demos")
END = ECHO.questions[0]
PARAMS = {"value": 1.0, "steps": 5}


def echo_result(end: str, seed: int = 0) -> DemoResult:
    return DemoResult(
        "echo", dict(PARAMS), seed, 0.1, predictions=[answer(END, end, f"ends {end}")]
    )


def a_round(store: Store, recorder: bool = True) -> PredictionRound:
    service = PredictionService(store, fixed_clock, package="tests.fake_demos")
    return PredictionRound(service if recorder else None, (END,), None, "echo", PARAMS, 0)


def test_a_round_commits_picks_holds_the_result_and_grades_by_it(store: Store) -> None:
    made = a_round(store)
    assert made.asks and made.open
    assert made.commit(END, "above 50") is None
    (kept,) = made_predictions(store)
    assert (kept.chosen, kept.answer) == ("above 50", None)  # stored before any result
    result = echo_result("at 50 or below")
    assert made.hold(result)
    assert made.close() is result and not made.open
    verdict, graded, problem = made.grade(result)
    assert problem is None and verdict is not None
    assert "✗ wrong: it was at 50 or below" in verdict.plain
    assert [(p.answer, p.correct) for p in graded] == [("at 50 or below", False)]
    again = made.verdict(compact=True)  # the panel's rows shrank: the same verdict, shorter
    assert again is not None
    assert again.plain == "You predicted: above 50  ✗ wrong: it was at 50 or below."


def test_the_verdict_covers_only_the_questions_asked(store: Store) -> None:
    made = a_round(store)  # asks END only, as the drill asks only what was missed
    result = echo_result("above 50")
    larger = ECHO.questions[1]
    result.predictions.append(answer(larger, "the steps", "value 1, steps 5."))
    verdict, _, _ = made.grade(result)
    assert verdict is not None
    assert END.text in verdict.plain and larger.text not in verdict.plain


def test_a_round_left_before_its_result_was_seen_is_graded_by_it_silently(store: Store) -> None:
    made = a_round(store)
    made.commit(END, "at 50 or below")
    made.hold(echo_result("at 50 or below"))
    made.abandon()
    (kept,) = made_predictions(store)
    assert kept.correct is True


def test_without_a_place_to_keep_predictions_nothing_is_asked(store: Store) -> None:
    made = a_round(store, recorder=False)
    assert not made.asks and not made.hold(echo_result("above 50"))
    assert made.grade(echo_result("above 50")) == (None, [], None)


def made_predictions(store: Store) -> list[Prediction]:
    with store.reading() as rows:
        return every(rows)


class FormHost(Host):
    """The prompt below a field, as the demo's parameter form puts it."""

    def compose(self) -> ComposeResult:
        yield Input(id="steps")
        yield PredictionPrompt(id="prompt")


async def test_digits_typed_on_from_a_field_answer_no_question(monkeypatch) -> None:
    """Enter in the parameter form runs the demo again and its question takes the focus;
    "30" typed on a moment later was meant for the field, and used to pick option 3."""
    from studyapp.tui.widgets import prediction_prompt

    now = [100.0]
    monkeypatch.setattr(prediction_prompt, "monotonic", lambda: now[0])
    app = FormHost()
    async with app.run_test() as pilot:
        app.query_one("#steps", Input).focus()
        await pilot.pause()
        prompt = app.query_one(PredictionPrompt)
        prompt.ask([RACE])
        await pilot.pause()
        assert app.focused is prompt
        now[0] += prediction_prompt.TYPED_AHEAD_S / 2
        await pilot.press("3", "0", "x")
        assert app.heard == [] and prompt.current is RACE
        now[0] += prediction_prompt.TYPED_AHEAD_S
        await pilot.press("3")
        assert app.heard[0] == ("picked", "race", "none")


async def test_a_question_asked_with_no_field_in_focus_takes_keys_at_once(monkeypatch) -> None:
    from studyapp.tui.widgets import prediction_prompt

    monkeypatch.setattr(prediction_prompt, "monotonic", lambda: 100.0)
    app = Host()
    async with app.run_test() as pilot:
        prompt = app.query_one(PredictionPrompt)
        prompt.ask([RACE])
        await pilot.pause()
        await pilot.press("2")
        assert app.heard[0] == ("picked", "race", "Adam")
