"""Predict, then see: a demo's questions asked before its result may be seen, and the verdict.

`PredictionPrompt` asks a demo's questions one at a time, before the run's result is shown
(the run may go on meanwhile, its result held back). One key (1-5) picks an option, `x`
skips the question, escape abandons the demo. The prompt takes the focus while it asks, so
those keys reach it first, and gives it back when it is done; taken from a field being typed
in, it lets a second go by first, so digits typed ahead for the field answer nothing. Each
pick is posted at once, so whoever hosts the prompt commits it before anything of the run is
on screen; once every question is answered or skipped, `Finished` says so. A pick cannot be
taken back.

`PredictionRound` is the bookkeeping of one run for whoever hosts the prompt (the demo
panel): it commits each pick, holds the result back while questions are open, grades the
predictions by the result, and gives the verdict to show above it (`verdict_content`): for
each question, what was predicted, what the run's numbers made correct, and why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from time import monotonic
from typing import TYPE_CHECKING, Any

from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Static, TextArea

from studyapp.errors import UserError
from studyapp.tui.text import plain

if TYPE_CHECKING:
    from textual.widget import Widget

    from studyapp.demo_api import DemoResult, DemoSpec, Question
    from studyapp.demo_api.result import PredictionResult
    from studyapp.model import Prediction
    from studyapp.services.predictions import PredictionService

MAX_OPTIONS = 5  # a question has 2 to 5 options, one digit key each
# Seconds after a question took the focus from a field in which keys still count as typing.
TYPED_AHEAD_S = 1.0
RIGHT = Content.from_markup("[bold $success]✓ right[/]")
WRONG = Content.from_markup("[bold $error]✗ wrong[/]")


def setting_text(spec: DemoSpec, params: Mapping[str, Any], seed: int) -> str:
    """The run a prediction is for: its seed and the parameters off their defaults."""
    changed = [f"{k} = {_value(v)}" for k, v in params.items() if spec.defaults.get(k) != v]
    return f"This run: seed {seed}; {', '.join(changed) or 'default parameters'}"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _key(text: str) -> Content:
    return Content.styled(f" {text} ", "bold reverse")


class PredictionPrompt(Static, can_focus=True):
    """Asks one question at a time; see the module docstring."""

    DEFAULT_CSS = """
    PredictionPrompt {
        height: auto;
        padding: 0 1;
        margin: 1 0 0 0;
        border-left: thick $accent;
        display: none;
    }
    PredictionPrompt.-asking { display: block; }
    PredictionPrompt:focus { border-left: thick $success; }
    """

    BINDINGS = [
        *(
            Binding(str(n), f"pick({n})", f"Predict option {n}", show=False, id=f"predict.{n}")
            for n in range(1, MAX_OPTIONS + 1)
        ),
        Binding("x", "skip", "Skip this prediction", id="predict.skip"),
        Binding("escape", "dismiss", "Close the demo", show=False, id="predict.close"),
    ]

    @dataclass
    class Picked(Message):
        """The learner chose `option` for `question`: commit it now, before the result."""

        prompt: PredictionPrompt
        question: Question
        option: str

    @dataclass
    class Finished(Message):
        """Every question is answered or skipped; `picks` maps question ids to options."""

        prompt: PredictionPrompt
        picks: dict[str, str]

    @dataclass
    class Dismissed(Message):
        """The learner closed the demo without finishing."""

        prompt: PredictionPrompt

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.questions: tuple[Question, ...] = ()
        self.picks: dict[str, str] = {}
        self.setting = ""
        self._at = 0
        self._focus_before: Widget | None = None
        self._typed_ahead_until = 0.0  # monotonic time before which keys are typing

    @property
    def asking(self) -> bool:
        return self._at < len(self.questions)

    @property
    def current(self) -> Question | None:
        return self.questions[self._at] if self.asking else None

    def ask(self, questions: Sequence[Question], setting: str = "") -> None:
        """Start asking `questions` in order; `setting` says what the run is (parameters
        and seed), so the learner predicts for the run they will see."""
        if not self.asking and self.is_attached:
            self._focus_before = self.screen.focused
            if isinstance(self._focus_before, Input | TextArea):
                # The question took the focus from a field being typed in (enter in the
                # parameter form runs the demo again): keys typed right after were meant for
                # the field, and must not answer a question the learner has not yet read.
                self._typed_ahead_until = monotonic() + TYPED_AHEAD_S
        self.questions = tuple(questions)
        self.picks = {}
        self.setting = setting
        self._at = 0
        self._show()
        if self.asking:
            self.call_after_refresh(self.focus)

    def hold_keys(self, seconds: float = TYPED_AHEAD_S) -> None:
        """Let keys answer nothing for `seconds`: the learner was typing in a field that
        has just handed the focus on (enter in the parameter form), and goes on typing."""
        self._typed_ahead_until = max(self._typed_ahead_until, monotonic() + seconds)

    def stop(self) -> None:
        """Stop asking (the demo was closed or replaced); posts nothing."""
        was_asking = self.asking
        self.questions = ()
        self._at = 0
        self._show()
        if was_asking:
            self._give_focus_back()

    def _give_focus_back(self) -> None:
        before, self._focus_before = self._focus_before, None
        if not self.is_attached:
            return
        if before is not None and before.is_attached and before.focusable:
            before.focus()
        else:
            self.screen.set_focus(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pick":
            question = self.current
            number = parameters[0] if parameters else 0
            return (
                question is not None and isinstance(number, int) and number <= len(question.options)
            )
        if action in ("skip", "dismiss"):
            return self.asking
        return True

    def action_pick(self, number: int) -> None:
        question = self.current
        if question is None or not 1 <= number <= len(question.options):
            return
        if monotonic() < self._typed_ahead_until:
            return
        option = question.options[number - 1]
        self.picks[question.id] = option
        self.post_message(self.Picked(self, question, option))
        self._next()

    def action_skip(self) -> None:
        if self.asking and monotonic() >= self._typed_ahead_until:
            self._next()

    def action_dismiss(self) -> None:
        if self.asking:
            self.stop()
            self.post_message(self.Dismissed(self))

    def _next(self) -> None:
        self._at += 1
        self._show()
        if not self.asking:
            self._give_focus_back()
            self.post_message(self.Finished(self, dict(self.picks)))

    def _show(self) -> None:
        question = self.current
        self.set_class(question is not None, "-asking")
        if question is None:
            self.update(Content(""))
            return
        count = len(self.questions)
        which = f" (question {self._at + 1} of {count})" if count > 1 else ""
        parts = [
            Content.assemble(
                ("Predict first", "bold"),
                f"{which}: the result shows once you have answered.",
            )
        ]
        if self.setting:
            parts.append(plain(self.setting).stylize("dim"))
        parts.append(plain(question.text).stylize("bold"))
        parts += [
            Content.assemble(_key(str(n)), " ", plain(option))
            for n, option in enumerate(question.options, start=1)
        ]
        parts.append(
            Content.assemble(_key("x"), " skips this question   ", _key("esc"), " closes the demo")
        )
        self.update(Content("\n").join(parts))


def verdict_content(
    answers: Sequence[PredictionResult],
    picks: Mapping[str, str],
    graded: Mapping[str, Prediction] | None = None,
    compact: bool = False,
) -> Content:
    """For each question the run answered: what was predicted (or that it was skipped),
    what the run's numbers made correct, and why.

    `graded` holds the stored predictions by question id; a pick whose stored prediction
    could not be graded says so. `compact`, where rows are few, gives each question one
    line, without its text (just asked) or its why (the claims under it give the numbers).
    """
    parts: list[Content] = []
    for number, answer in enumerate(answers, start=1):
        chosen = picks.get(answer.id)
        if not compact:
            parts.append(plain(answer.question).stylize("bold"))
        stored = (graded or {}).get(answer.id)
        if chosen is None:
            line = Content.assemble("You did not predict. It was: ", plain(answer.answer), ".")
        elif stored is not None and stored.correct is None:
            line = Content.assemble(
                "You predicted: ", plain(chosen), ". It was: ", plain(answer.answer),
                " (not graded: the run was not the one predicted).",
            )  # fmt: skip
        else:
            right = chosen == answer.answer
            line = Content.assemble(
                "You predicted: ", plain(chosen), "  ", RIGHT if right else WRONG,
                *(() if right else (": it was ", plain(answer.answer))), ".",
            )  # fmt: skip
        if compact and len(answers) > 1:
            line = Content.assemble((f"{number}. ", "bold"), line)
        parts.append(line)
        if answer.why and not compact:
            parts.append(plain(answer.why).stylize("dim"))
    return Content("\n").join(parts)


def missed_content(prediction: Prediction) -> Content:
    """The note beside the rating keys when the card's demo was last predicted wrong: what
    was predicted (not what happened, so predicting again is still a prediction)."""
    return Content.assemble(
        ("✗ ", "bold $error"),
        "You predicted this card's demo wrong last time (you chose ",
        plain(prediction.chosen),
        ")  ",
        _key("d"),
        " predict again",
    )


@dataclass
class PredictionRound:
    """One run's predictions, from the first question to the verdict.

    `asks` is False when there is nothing to ask (no questions, or nowhere to keep the
    predictions): the result then shows at once and no verdict is given.
    """

    recorder: PredictionService | None
    questions: tuple[Question, ...]
    card_id: int | None
    demo_id: str
    params: Mapping[str, Any]
    seed: int
    open: bool = False  # questions are being asked: the result is held back
    held: DemoResult | None = None
    committed: dict[str, int] = field(default_factory=dict)  # question id -> prediction id
    picks: dict[str, str] = field(default_factory=dict)
    shown: tuple[list[PredictionResult], dict[str, Prediction]] | None = None  # the verdict's

    def __post_init__(self) -> None:
        self.open = self.asks

    @property
    def asks(self) -> bool:
        return bool(self.questions) and self.recorder is not None

    def commit(self, question: Question, option: str) -> str | None:
        """Keep a pick in the collection now; returns why it could not be kept, or None."""
        if self.recorder is None:
            return None
        try:
            (committed,) = self.recorder.record(
                self.card_id, self.demo_id, self.params, self.seed, [(question, option)]
            )
        except UserError as exc:
            return exc.message
        self.committed[question.id] = committed
        self.picks[question.id] = option
        return None

    def hold(self, result: DemoResult) -> bool:
        """Keep the result back if questions are still open; True if it was kept."""
        if self.open:
            self.held = result
        return self.open

    def close(self) -> DemoResult | None:
        """The asking is over; returns the result held back, to reveal now."""
        self.open = False
        held, self.held = self.held, None
        return held

    def grade(
        self, result: DemoResult, compact: bool = False
    ) -> tuple[Content | None, list[Prediction], str | None]:
        """Grade the committed predictions by `result`: the verdict on the questions asked
        to show above it (None when nothing was asked), the predictions as graded, and why
        grading failed."""
        graded: list[Prediction] = []
        problem = None
        committed, self.committed = self.committed, {}
        if committed and self.recorder is not None:
            try:
                graded = self.recorder.grade(list(committed.values()), result)
            except UserError as exc:
                problem = exc.message
        if not self.asks:
            return None, graded, problem
        asked = {q.id for q in self.questions}
        answers = [a for a in result.predictions if a.id in asked]
        if result.ok and answers:
            self.shown = (answers, {p.question_id: p for p in graded})
            return self.verdict(compact), graded, problem
        if committed:
            text = "Your prediction is kept, not graded: the run did not finish."
            return plain(text), graded, problem
        return None, graded, problem

    def verdict(self, compact: bool) -> Content | None:
        """The verdict of the graded run again, at another size (None before one)."""
        if self.shown is None:
            return None
        answers, by_question = self.shown
        return verdict_content(answers, self.picks, by_question, compact)

    def abandon(self) -> None:
        """The run is superseded or closed before its result was seen: predictions committed
        for it are graded by its result if it came (they were made before it could be
        seen), else they stay ungraded, as for a run that never finished."""
        held = self.close()
        if held is not None and self.committed:
            self.grade(held)
        self.committed = {}
