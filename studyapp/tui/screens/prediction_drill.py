"""The predictions review: the demos whose outcome was predicted wrong, run again until the
prediction comes out right.

Each demo in the drill is run with a new seed, and every second time with one knob moved
within its bounds (`services.predictions.drill_setting`), so the learner predicts a run
they have not seen. The questions they got wrong are asked again before each run; a demo
whose questions all come out right leaves the drill, one that does not comes back after
the others. The screen shows what the run is before the question, and never what the
missed run's answer was.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import replace
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from studyapp.demo_api import UnknownDemoError, get_spec
from studyapp.errors import UserError
from studyapp.services.predictions import DrillItem, drill_setting
from studyapp.tui.context import Services
from studyapp.tui.messages import PredictionsRevealed
from studyapp.tui.text import plain
from studyapp.tui.widgets.demo_panel import DemoPanel
from studyapp.tui.widgets.param_form import format_value


class PredictionDrillScreen(Screen[None]):
    """One pass of the predictions drill over every demo predicted wrong."""

    AUTO_FOCUS = "#drill-body"
    BINDINGS = [
        Binding("n", "next", "Next demo", id="drill.next"),
        Binding("escape,q", "home", "Home", id="drill.home"),
    ]

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.queue: deque[DrillItem] = deque()
        self.attempts: Counter[str] = Counter()  # runs so far, per demo
        self.put_right = 0
        self.current: DrillItem | None = None
        self.outcome: bool | None = None  # of the current run, once revealed

    def compose(self) -> ComposeResult:
        yield Static(id="drill-progress")
        with VerticalScroll(id="drill-body"):
            yield Static(id="drill-context")
            yield Static(id="drill-outcome")
            yield DemoPanel(
                self.services.runner,
                self.services.new_seed,
                predictions=self.services.predictions,
                rerun_key=False,  # the drill picks each run's seed and setting
                id="drill-demo",
            )
        yield Footer(compact=True)

    async def on_mount(self) -> None:
        try:
            self.queue = deque(self.services.predictions.drill())
        except UserError as exc:
            self.notify(exc.message, severity="error", markup=False)
        await self._start_next()

    @property
    def panel(self) -> DemoPanel:
        return self.query_one(DemoPanel)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next":
            panel = self.panel
            return self.current is not None and not panel.asking and not panel.running
        return True

    # --- the queue ---------------------------------------------------------------------------

    async def _start_next(self) -> None:
        """Run the first demo of the queue with a new setting, or say the drill is done."""
        self.outcome = None
        self.query_one("#drill-outcome").display = False
        while self.queue:
            item = self.queue[0]
            try:
                spec = get_spec(item.demo_id)
            except UnknownDemoError:
                self.queue.popleft()  # gone from the catalogue since the queue was read
                continue
            questions = [q for q in spec.questions if q.id in item.question_ids]
            setting = drill_setting(spec, item, self.attempts[item.demo_id], self.services.rng)
            self.current = item
            self._show_progress()
            self._show_context(item, spec.title, setting.moved, setting.params, setting.seed)
            await self.panel.open_demo(spec, setting.params, setting.seed, item.card_id, questions)
            self.refresh_bindings()
            return
        self.current = None
        self.panel.close()
        self._show_progress()
        self.query_one("#drill-context", Static).update(Content(self._nothing_left()))
        self.refresh_bindings()

    def _nothing_left(self) -> str:
        """What the drill says with no demo left to run: done, or why there was none."""
        if self.put_right:
            return "Done: every demo in the drill is put right."
        try:
            missed = self.services.predictions.any_missed()
        except UserError:
            return "Nothing to put right."  # the error was shown when the queue was read
        if missed:
            return (
                "Every demo you predicted wrong has since been predicted right. "
                "d on a card with a demo asks for a new prediction."
            )
        return (
            "Nothing to put right: none of your predictions has been wrong yet. A card's demo "
            "(d in the review) asks what will happen before it runs; those you get wrong come "
            "back here."
        )

    def on_predictions_revealed(self, message: PredictionsRevealed) -> None:
        """The run was shown: put right if every missed question was predicted right."""
        item = self.current
        if item is None:
            return
        right = {p.question_id for p in message.predictions if p.correct}
        wrong = tuple(q for q in item.question_ids if q not in right)
        self.attempts[item.demo_id] += 1
        if self.queue and self.queue[0] is item:
            self.queue.popleft()
        self.outcome = not wrong
        if wrong:
            self.queue.append(_still(item, wrong))
            text = "Not yet: this demo comes back after the others, with a new setting."
        else:
            self.put_right += 1
            text = "Put right: this demo leaves the drill."
        outcome = self.query_one("#drill-outcome", Static)
        outcome.update(Content.assemble((text, "bold"), "  n: next demo"))
        outcome.display = True
        self._show_progress()
        self.refresh_bindings()

    async def action_next(self) -> None:
        item = self.current
        if item is not None and self.outcome is None and self.queue and self.queue[0] is item:
            self.queue.rotate(-1)  # left without a verdict: it comes back after the others
        await self._start_next()

    def action_home(self) -> None:
        self.panel.close()
        self.app.action_home()

    # --- what is shown -----------------------------------------------------------------------

    def _show_progress(self) -> None:
        left = len(self.queue)
        demos = "demo" if left == 1 else "demos"
        self.query_one("#drill-progress", Static).update(
            Content.assemble(
                ("Predictions drill ", "bold"),
                f"{left} {demos} to put right · {self.put_right} put right this session",
            )
        )

    def _show_context(
        self, item: DrillItem, title: str, moved: str | None, params: dict[str, Any], seed: int
    ) -> None:
        """What this run is, before the question: the demo, its card, what changed."""
        when = item.missed_at.astimezone(self.services.clock().tzinfo).date().isoformat()
        parts = [
            Content.assemble((title, "bold"), f"  predicted wrong on {when}"),
        ]
        front = self._card_front(item.card_id)
        if front:
            parts.append(Content.assemble(("Card: ", "dim"), plain(front)))
        if moved is None:
            change = f"the same parameters as the run you missed, a new seed ({seed})"
        else:
            before = format_value(item.params.get(moved))
            change = (
                f"{moved} = {format_value(params[moved])} (it was {before} in the run you "
                f"missed), a new seed ({seed})"
            )
        parts.append(plain(f"This time: {change}."))
        self.query_one("#drill-context", Static).update(Content("\n").join(parts))

    def _card_front(self, card_id: int | None) -> str:
        if card_id is None:
            return ""
        try:
            return self.services.cards.detail(card_id).card.front
        except UserError:
            return ""


def _still(item: DrillItem, wrong: tuple[str, ...]) -> DrillItem:
    """The item with only the questions still wrong."""
    return replace(item, question_ids=wrong)
