"""The prediction prompt on its own: one question at a time, one key per option, `x` skips,
escape abandons; every pick is posted at once and none can be taken back."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult

from studyapp.demo_api import Question
from studyapp.demo_api.result import PredictionResult
from studyapp.tui.widgets.prediction_prompt import PredictionPrompt, verdict_content

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
