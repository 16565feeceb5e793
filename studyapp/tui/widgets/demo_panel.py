"""The inline demo under a card: run the card's demo, follow it live, then show what it found.

The run itself is blocking and happens in the demo runner's worker process; this panel calls
the runner from a thread worker and gets `DemoProgressed` / `DemoFinished` messages back, so
the review keeps answering keys while a demo runs. A cached result shows at once. Failures
(an exception, a timeout, a cancel) come back as results with a status, shown as such.

A demo with prediction questions asks them first (`PredictionPrompt`): the run starts in the
background, but its result (a cached one too) and its live curves stay hidden until every
question is answered or skipped. Each pick is committed as it is made (`PredictionRound`);
the result then shows under the verdict: what was predicted, what happened and why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DataTable, ProgressBar, Static
from textual.worker import get_current_worker
from textual_plotext import PlotextPlot

from studyapp.demo_api import Claim, DemoResult, DemoSpec, PlotSpec, Question, get_spec
from studyapp.demo_api.plot import plot_series
from studyapp.errors import UserError
from studyapp.model import Card
from studyapp.tui.context import DemoRunnerLike
from studyapp.tui.messages import DemoFinished, DemoProgressed, PredictionsRevealed
from studyapp.tui.text import cell as text_cell
from studyapp.tui.text import line, plain
from studyapp.tui.widgets.param_form import ParamForm
from studyapp.tui.widgets.prediction_prompt import (
    PredictionPrompt,
    PredictionRound,
    setting_text,
)

if TYPE_CHECKING:
    from studyapp.services.predictions import PredictionService

DEMO_SEED = 0  # the seed a card's demo first runs with, as `studyapp demo run` does
STATUS_WORDS = {"error": "failed", "timeout": "timed out"}

CHECK = Content.from_markup("[bold $success]✓[/] ")
CROSS = Content.from_markup("[bold $error]✗[/] ")
EXPERIMENTS = Content.from_markup("[b]Experiments[/b] [dim](could have come out otherwise)[/]")
CHECKS = Content.from_markup("[b]Checks[/b] [dim](identities verified on the run's numbers)[/]")


def claims_content(claims: Sequence[Claim]) -> Content:
    """Experiments first, then checks, each under its heading, so a learner sees which results
    were earned by the run and which only confirm a definition."""
    parts: list[Content] = []
    for heading, kind in ((EXPERIMENTS, "experiment"), (CHECKS, "check")):
        chosen = [c for c in claims if c.kind == kind]
        if chosen:
            parts.append(heading)
            parts += [(CHECK if c.holds else CROSS) + plain(c.text) for c in chosen]
    return Content("\n").join(parts)


def draw(plot: PlotextPlot, series: Mapping[str, Any], spec: PlotSpec | None = None) -> None:
    """Draw every curve on one plot (see `plot_series`)."""
    plot.plt.clear_figure()
    plot_series(plot.plt, series, spec, marker=lambda _: "braille")
    plot.refresh()


def cell(value: Any) -> Text:
    """A table cell as plain text (a string from a demo is data, not markup)."""
    if isinstance(value, float):
        return Text(f"{value:.4g}", justify="right")
    if isinstance(value, int) and not isinstance(value, bool):
        return Text(str(value), justify="right")
    return text_cell(str(value))


class DemoPanel(Vertical):
    """Shows one demo at a time: a note, a running demo, a failure or a result."""

    DEFAULT_CSS = """
    DemoPanel {
        height: auto;
        border: round $accent;
        border-title-color: $accent;
        padding: 0 1;
        display: none;
    }
    DemoPanel.-open { display: block; }
    DemoPanel > * { display: none; }
    DemoPanel > #demo-status { display: block; color: $text-muted; }
    DemoPanel.-running > #demo-progress,
    DemoPanel.-running > #demo-plot { display: block; }
    DemoPanel.-done > #demo-takeaway,
    DemoPanel.-done > #demo-claims,
    DemoPanel.-done > #demo-plot,
    DemoPanel.-done > #demo-table,
    DemoPanel.-done > #demo-form,
    DemoPanel.-failed > #demo-form { display: block; }
    DemoPanel > #demo-status.-error { color: $error; }
    DemoPanel > #demo-table.-empty { display: none; }
    DemoPanel > #demo-takeaway { text-style: bold; margin: 1 0 0 0; }
    DemoPanel > #demo-claims { margin: 1 0 0 0; }
    DemoPanel > #demo-plot { height: 14; margin: 1 0 0 0; }
    DemoPanel > #demo-table { height: auto; max-height: 12; margin: 1 0 0 0; }
    DemoPanel > #demo-form { margin: 1 0 0 0; }
    DemoPanel > #demo-predict.-asking { display: block; }
    DemoPanel.-done > #demo-verdict, DemoPanel.-failed > #demo-verdict { display: block; }
    DemoPanel > #demo-verdict { margin: 1 0 0 0; }
    DemoPanel > #demo-verdict.-empty { display: none; }
    DemoPanel.-asking > #demo-plot, DemoPanel.-asking > #demo-takeaway,
    DemoPanel.-asking > #demo-claims, DemoPanel.-asking > #demo-table,
    DemoPanel.-asking > #demo-form, DemoPanel.-asking > #demo-verdict { display: none; }
    """

    def __init__(
        self,
        runner: DemoRunnerLike,
        new_seed: Callable[[], int],
        *,
        predictions: PredictionService | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.runner = runner
        self.new_seed = new_seed
        self.predictions = predictions  # None: no questions are asked
        self.spec: DemoSpec | None = None
        self.params: dict[str, Any] = {}
        self.seed = DEMO_SEED
        self.result: DemoResult | None = None
        self.card_id: int | None = None
        self._active_run = 0
        self._demo_running = False
        self._questions: tuple[Question, ...] = ()
        self._round: PredictionRound | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="demo-status", markup=False)
        yield PredictionPrompt(id="demo-predict")
        yield Static(id="demo-verdict", classes="-empty")
        yield ProgressBar(total=1.0, show_eta=False, id="demo-progress")
        yield Static(id="demo-takeaway", markup=False)
        yield Static(id="demo-claims")
        yield PlotextPlot(id="demo-plot")
        yield DataTable(id="demo-table", show_cursor=False, zebra_stripes=True)
        yield ParamForm(id="demo-form")

    # --- what the screen asks for ------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._demo_running

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    @property
    def asking(self) -> bool:
        """Whether the demo's questions are being asked (its result held back)."""
        return self.has_class("-asking")

    async def open_for(self, card: Card) -> None:
        """Open on `card`'s demo: run it (or show its cached result), or say why not."""
        self.card_id = card.id
        self.add_class("-open")
        self.border_title = "Demo"
        if card.demo is None:
            self._note("This card has no demo.")
            return
        try:
            spec = get_spec(card.demo.id)
            params = spec.resolve(card.demo.params)
        except UserError as exc:
            self._note(f"This card's demo link does not work: {exc.message}", failed=True)
            return
        await self.open_demo(spec, params, DEMO_SEED, card.id)

    async def open_demo(
        self,
        spec: DemoSpec,
        params: Mapping[str, Any],
        seed: int,
        card_id: int | None,
        questions: Sequence[Question] | None = None,
    ) -> None:
        """Open on a demo with these parameters and seed, asking `questions` (default: all
        the demo's) before each run; its predictions are kept as made on `card_id`."""
        self.card_id = card_id
        self.add_class("-open")
        self.spec = spec
        self._questions = tuple(spec.questions if questions is None else questions)
        self.border_title = line(spec.title)
        await self.start(params, seed)

    async def start(self, params: Mapping[str, Any], seed: int) -> None:
        """Run the open demo with these parameters and seed (a cached result shows at once,
        once the demo's questions are answered)."""
        spec, runner = self.spec, self.runner
        if spec is None:
            return
        self.params, self.seed = dict(params), seed
        await self.query_one(ParamForm).set_spec(spec, params)
        self._ask(spec)
        try:
            cached = runner.cached(spec.id, self.params, seed)
        except UserError:
            cached = None
        if cached is not None:
            self._active_run += 1
            self._demo_running = False
            self._arrived(cached)
            return
        self._active_run += 1
        self._demo_running = True
        self._set_state("-running")
        self.query_one("#demo-progress", ProgressBar).update(total=1.0, progress=0)
        self._status(
            f"Running with seed {seed} in the background; its result waits for your prediction."
            if self.asking
            else f"Running with seed {seed}... escape cancels; the review goes on meanwhile."
        )
        self.query_one("#demo-plot", PlotextPlot).plt.clear_figure()
        self._work(self._active_run, spec.id, self.params, seed)

    async def rerun(self) -> bool:
        """Run the open demo again with a new seed; False if there is nothing to re-run."""
        if self.spec is None or self._demo_running or not self.is_open:
            return False
        await self.start(self.params, self.new_seed())
        return True

    def cancel(self) -> bool:
        """Stop a running demo; its result comes back as "cancelled"."""
        if not self._demo_running:
            return False
        self._status("Cancelling...")
        self.runner.cancel()
        return True

    def close(self) -> None:
        self.cancel()
        self._ask(None)
        self.remove_class("-open")

    # --- predict first -----------------------------------------------------------------------

    def _ask(self, spec: DemoSpec | None) -> None:
        """Ask the demo's questions before this run's result may be seen (None: stop)."""
        if self._round is not None:
            self._round.abandon()  # a run superseded or closed before it was seen
        self._round = None
        if spec is not None:
            self._round = PredictionRound(
                self.predictions, self._questions, self.card_id, spec.id, self.params, self.seed
            )
        asks = self._round is not None and self._round.asks
        self.set_class(asks, "-asking")
        prompt = self.query_one(PredictionPrompt)
        if spec is not None and asks:
            prompt.ask(self._questions, setting_text(spec, self.params, self.seed))
        else:
            prompt.stop()

    def _arrived(self, result: DemoResult) -> None:
        """A result is here: held back while questions are open, else shown."""
        if self._round is not None and self._round.hold(result):
            self._set_state("")
            self._status("The run is done; its result waits for your prediction.")
        else:
            self._reveal(result)

    def on_prediction_prompt_picked(self, message: PredictionPrompt.Picked) -> None:
        message.stop()
        problem = self._round.commit(message.question, message.option) if self._round else None
        if problem is not None:
            self.app.notify(f"The prediction was not saved: {problem}", severity="error")

    def on_prediction_prompt_finished(self, message: PredictionPrompt.Finished) -> None:
        message.stop()
        self.remove_class("-asking")
        held = self._round.close() if self._round is not None else None
        if held is not None:
            self._reveal(held)
        elif self._demo_running:
            self._status(f"Running with seed {self.seed}... escape cancels.")

    def on_prediction_prompt_dismissed(self, message: PredictionPrompt.Dismissed) -> None:
        message.stop()
        self.close()

    def _reveal(self, result: DemoResult) -> None:
        """The verdict on the predictions, then the result; the screen hears of both."""
        verdict, graded, problem = (None, [], None)
        if self._round is not None:
            verdict, graded, problem = self._round.grade(result)
        if problem is not None:
            self.app.notify(f"The prediction was not graded: {problem}", severity="error")
        box = self.query_one("#demo-verdict", Static)
        box.update(verdict or "")
        box.set_class(verdict is None, "-empty")
        self._show(result)
        if self._round is not None and self._round.asks:
            self.post_message(PredictionsRevealed(self.card_id, result, graded))

    # --- the run, off the UI thread ----------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="demo")
    def _work(self, run: int, demo_id: str, params: dict[str, Any], seed: int) -> None:
        runner = self.runner
        worker = get_current_worker()

        def on_progress(event: Any) -> None:
            if worker.is_cancelled:
                runner.cancel()
                return
            series = getattr(event, "series", None)
            self.post_message(
                DemoProgressed(run, float(event.done), str(event.message or ""), series)
            )

        try:
            result = runner.run(demo_id, params, seed, on_progress=on_progress)
        except UserError as exc:
            result = DemoResult.failure(demo_id, params, seed, 0.0, "error", exc.message)
        except Exception as exc:  # a broken runner must not take the review down with it
            reason = f"the demo runner failed: {type(exc).__name__}: {exc}"
            result = DemoResult.failure(demo_id, params, seed, 0.0, "error", reason)
        self.post_message(DemoFinished(run, result))

    def on_demo_progressed(self, message: DemoProgressed) -> None:
        if message.run != self._active_run or not self._demo_running:
            return
        self.query_one("#demo-progress", ProgressBar).update(progress=message.done)
        if self.asking:
            return  # the curves so far would give the outcome away
        if message.message:
            self._status(f"Running: {message.message}. Escape cancels.")
        if message.series:
            draw(self.query_one("#demo-plot", PlotextPlot), message.series)

    async def on_demo_finished(self, message: DemoFinished) -> None:
        if message.run != self._active_run:
            message.stop()  # a superseded run: nobody needs to hear about it
            return
        self._demo_running = False
        self._arrived(message.result)

    # --- showing -----------------------------------------------------------------------------

    def _set_state(self, state: str) -> None:
        for name in ("-running", "-done", "-failed"):
            self.set_class(name == state, name)

    def _status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#demo-status", Static)
        status.set_class(error, "-error")
        status.update(plain(text))

    def _note(self, text: str, failed: bool = False) -> None:
        self._ask(None)
        self.spec = None
        self.result = None
        self._set_state("")
        self._status(text, error=failed)

    def _show(self, result: DemoResult) -> None:
        self.result = result
        if result.status == "cancelled":
            self._set_state("-failed")
            self._status("Cancelled. r runs it with a new seed; Enter in a field below re-runs.")
            return
        if not result.ok:
            self._set_state("-failed")
            word = STATUS_WORDS.get(result.status, result.status)
            detail = f": {result.error.rstrip('.')}." if result.error else "."
            self._status(f"The demo {word}{detail} r runs it with a new seed.", error=True)
            return
        self._set_state("-done")
        how = "cached result" if result.cached else f"ran in {result.took}"
        self._status(f"Seed {result.seed}, {how}. r: new seed. Parameters below.")
        self.query_one("#demo-takeaway", Static).update(plain(result.takeaway))
        claims = claims_content(result.claims)
        if result.setup:
            claims = plain(result.setup).stylize("dim") + Content("\n") + claims
        self.query_one("#demo-claims", Static).update(claims)
        draw(self.query_one("#demo-plot", PlotextPlot), result.series, result.plot)
        table = self.query_one("#demo-table", DataTable)
        table.clear(columns=True)
        if result.table.columns:
            table.add_columns(*(text_cell(str(c)) for c in result.table.columns))
            table.add_rows([cell(v) for v in row] for row in result.table.rows)
        table.set_class(not result.table.columns, "-empty")

    async def on_param_form_submitted(self, message: ParamForm.Submitted) -> None:
        message.stop()
        if not self._demo_running:
            await self.start(message.values, self.seed)
