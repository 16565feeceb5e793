"""The inline demo beside or under a card: run the card's demo, follow it, show what it found.

The run itself is blocking and happens in the demo runner's worker process; this panel calls
the runner from a thread worker (a cached result too, since the first lookup loads the
runner) and gets `DemoProgressed` / `DemoFinished` messages back, so the review keeps
answering keys while a demo runs. Failures (an exception, a timeout, a cancel) come back as
results with a status, shown as such, with a hint that can help.

What a result shows, top to bottom: a status line (seed, time, keys), the headline (the main
experiment's outcome), the claims (experiments, which could have come out otherwise, and
checks, identities verified on the run's numbers), the plot, how the run was set up, the rest
of the takeaway, the table and the parameter form. The plot takes the height left under the
claims (`fit_plot`), so at 80x24 a card's front, the headline, the claims and the plot are on
screen together and only the table and the form need scrolling. Anything mounted above
`#demo-status` (a question to answer before the run, say) is counted in that fit.

A demo with prediction questions asks them first (`PredictionPrompt`, above the status
line): the run starts in the background, but its result (a cached one too) and its live
curves stay hidden until every question is answered or skipped. Each pick is committed as it
is made (`PredictionRound`); the result then shows under the verdict, at the top: what was
predicted, what happened and why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.table import Table as RichTable
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.color import Color
from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import ProgressBar, Static
from textual.worker import get_current_worker
from textual_plotext import PlotextPlot

from studyapp.demo_api import Claim, DemoResult, DemoSpec, PlotSpec, Question, Table, get_spec
from studyapp.demo_api.plot import PLAIN_MARKERS, plot_series
from studyapp.errors import UserError
from studyapp.model import Card
from studyapp.terminal import number_columns
from studyapp.tui.context import DemoRunnerLike
from studyapp.tui.messages import DemoAsking, DemoFinished, DemoProgressed, PredictionsRevealed
from studyapp.tui.text import cell as text_cell
from studyapp.tui.text import line, plain
from studyapp.tui.widgets.param_form import ParamForm
from studyapp.tui.widgets.prediction_prompt import (
    PredictionPrompt,
    PredictionRound,
    setting_text,
)
from studyapp.tui.widgets.wrapped_table import stripe_for, wrapped_table

if TYPE_CHECKING:
    from studyapp.services.predictions import PredictionService

DEMO_SEED = 0  # the seed a card's demo first runs with, as `studyapp demo run` does
MIN_PLOT = 8  # rows: below this a plot shows too few of its values to read
MAX_PLOT = 18

CHECK = Content.from_markup("[bold $success]✓[/] ")
CROSS = Content.from_markup("[bold $error]✗[/] ")
EXPERIMENTS = Content.from_markup("[b]Experiments[/b] [dim](could have come out otherwise)[/]")
CHECKS = Content.from_markup("[b]Checks[/b] [dim](identities verified on the run's numbers)[/]")
CHECK_TAG = Content.styled("check: ", "dim")


def claims_content(claims: Sequence[Claim], compact: bool = False) -> Content:
    """Experiments first, then checks, so a learner sees which results were earned by the run
    and which only confirm a definition: under a heading each, or, where rows are few, each
    check marked as one."""
    parts: list[Content] = []
    for heading, kind in ((EXPERIMENTS, "experiment"), (CHECKS, "check")):
        chosen = [c for c in claims if c.kind == kind]
        if chosen and not compact:
            parts.append(heading)
        tag = CHECK_TAG if compact and kind == "check" else Content("")
        parts += [(CHECK if c.holds else CROSS) + tag + plain(c.text) for c in chosen]
    return Content("\n").join(parts)


def draw(
    plot: PlotextPlot,
    series: Mapping[str, Any],
    spec: PlotSpec | None = None,
    *,
    no_color: bool = False,
) -> None:
    """Draw every curve on one plot (see `plot_series`): braille lines in colour, or without
    colour a marker shape per curve, each in the text's own colour (the theme's series
    colours, turned grey, would leave one near-invisible). At most one y tick every two
    rows, so labels never touch."""
    plot.plt.clear_figure()
    text = Color.parse(plot.app.theme_variables["foreground"]).rgb if no_color else None

    def marker(i: int) -> str:
        return PLAIN_MARKERS[i % len(PLAIN_MARKERS)] if no_color else "braille"

    rows = plot.styles.height.value if plot.styles.height is not None else MIN_PLOT
    ticks = max(2, (int(rows) - 4) // 2)
    plot_series(plot.plt, series, spec, marker=marker, max_ticks=ticks, color=text)
    plot.refresh()


def cell(value: Any) -> Text:
    """A table cell as plain text (a string from a demo is data, not markup); a missing value
    is a dash, never Python's `None`."""
    if value is None:
        return Text("—", style="dim", justify="center")
    if isinstance(value, float):
        return Text(f"{value:.4g}", justify="right")
    if isinstance(value, int) and not isinstance(value, bool):
        return Text(str(value), justify="right")
    return text_cell(str(value))


def fitted_table(table: Table, stripe: str | None = None) -> RichTable:
    """A result's table, wrapped to the panel's width whatever the terminal's; a column of
    numbers is aligned to the right."""
    numbers = number_columns(table.rows, len(table.columns))
    return wrapped_table(
        [text_cell(str(column)) for column in table.columns],
        ([cell(value) for value in row] for row in table.rows),
        right=[index for index, number in enumerate(numbers) if number],
        stripe=stripe,
    )


def status_hint(result: DemoResult, rerun_key: bool = True, form: bool = True) -> str:
    """The status line of a result, with the keys that can help from here: `r` only where
    the screen has it, the panel's own parameters only when it shows them (`form`; else the
    parameters are the screen's, as on the add-card screen)."""
    where = "below" if form else "of the card"
    if result.status == "cancelled":
        if rerun_key and form:
            return "Cancelled. r runs it with a new seed; enter in a field below runs those values."
        if rerun_key:
            return "Cancelled. r runs it with a new seed."
        return "Cancelled. Enter in a field below runs those values." if form else "Cancelled."
    if result.status == "error":
        detail = f": {result.error.rstrip('.')}" if result.error else ""
        return (
            f"The demo failed{detail}. A new seed would fail the same way: change a value "
            f"{where} and press enter."
        )
    if result.status == "timeout":
        detail = f": {result.error.rstrip('.')}" if result.error else ""
        retry = "; r tries again with a new seed" if rerun_key else ""
        return f"The demo timed out{detail}. Smaller values {where} run faster{retry}."
    how = "cached result" if result.cached else f"ran in {result.took}"
    if not form:
        return f"Seed {result.seed}, {how}, with the card's parameters." + (
            " r: new seed." if rerun_key else ""
        )
    keys = ["r: new seed"] if rerun_key else []
    return f"Seed {result.seed}, {how}. {' · '.join([*keys, 'tab: parameters below'])}."


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
    DemoPanel > #demo-status { color: $text-muted; }
    DemoPanel > #demo-status.-error { color: $error; }
    DemoPanel > #demo-progress, DemoPanel > .result { display: none; }
    DemoPanel.-running > #demo-progress, DemoPanel.-running > #demo-plot { display: block; }
    DemoPanel.-done > .result, DemoPanel.-failed > #demo-form { display: block; }
    DemoPanel.-done > .-empty { display: none; }
    DemoPanel > #demo-headline { text-style: bold; }
    DemoPanel > #demo-setup { color: $text-muted; margin: 1 0 0 0; }
    DemoPanel > #demo-plot { height: 14; }
    DemoPanel > #demo-table { height: auto; margin: 1 0 0 0; }
    DemoPanel > #demo-form { margin: 1 0 0 0; }
    DemoPanel > #demo-predict { margin: 0 0 1 0; }
    DemoPanel > #demo-verdict { display: none; margin: 0 0 1 0; }
    DemoPanel.-done > #demo-verdict, DemoPanel.-failed > #demo-verdict { display: block; }
    DemoPanel > #demo-verdict.-empty { display: none; }
    DemoPanel.-asking > .result, DemoPanel.-asking > #demo-plot,
    DemoPanel.-asking > #demo-form, DemoPanel.-asking > #demo-verdict { display: none; }
    """

    def __init__(
        self,
        runner: DemoRunnerLike,
        new_seed: Callable[[], int],
        *,
        predictions: PredictionService | None = None,
        rerun_key: bool = True,
        form: bool = True,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.runner = runner
        self.new_seed = new_seed
        self.predictions = predictions  # None: no questions are asked
        self.rerun_key = rerun_key  # whether the screen's `r` re-runs it with a new seed
        self.form = form  # whether it shows its own parameters (else the screen has them)
        self.spec: DemoSpec | None = None
        self.params: dict[str, Any] = {}
        self.seed = DEMO_SEED
        self.result: DemoResult | None = None
        self.card_id: int | None = None
        self.other_card = False
        self.compact = False
        self._active_run = 0
        self._demo_running = False
        self._questions: tuple[Question, ...] = ()
        self._round: PredictionRound | None = None

    def compose(self) -> ComposeResult:
        yield PredictionPrompt(id="demo-predict")
        yield Static(id="demo-verdict", classes="-empty")
        yield Static(id="demo-status", markup=False)
        yield ProgressBar(total=1.0, show_eta=False, id="demo-progress")
        yield Static(id="demo-headline", markup=False, classes="result")
        yield Static(id="demo-claims", classes="result")
        yield PlotextPlot(id="demo-plot", classes="result")
        yield Static(id="demo-setup", markup=False, classes="result")
        yield Static(id="demo-takeaway", markup=False, classes="result")
        yield Static(id="demo-table", classes="result")
        if self.form:
            yield ParamForm(id="demo-form", classes="result")

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

    def _set_asking(self, asking: bool) -> None:
        if asking != self.asking:
            self.set_class(asking, "-asking")
            self.post_message(DemoAsking(asking))

    async def open_for(self, card: Card) -> None:
        """Open on `card`'s demo: run it (or show its cached result), or say why not.

        A demo still running for another card is cancelled: `d` means this card's demo.
        """
        if self._demo_running:
            self.cancel()
        self.card_id = card.id
        self.other_card = False
        self.spec = None
        self.add_class("-open")
        self._title()
        if card.demo is None:
            self._note("This card has no demo.")
            return
        try:
            spec = get_spec(card.demo.id)
            params, moved = spec.resolve_saved(card.demo.params)
        except UserError as exc:
            self._note(f"This card's demo link does not work: {exc.message}", failed=True)
            return
        if moved:
            self.app.notify(
                f"This card's demo link: {'; '.join(moved)}.",
                title=spec.title,
                timeout=10,
                markup=False,
            )
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
        self._title()
        await self.start(params, seed)

    async def start(self, params: Mapping[str, Any], seed: int) -> None:
        """Run the open demo with these parameters and seed (a cached result shows as soon as
        it is read, once the demo's questions are answered). What was on show before goes at
        once, so no other result flashes here."""
        spec = self.spec
        if spec is None:
            return
        self.params, self.seed = dict(params), seed
        self._ask(spec)
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
        if self.form:
            await self.query_one(ParamForm).set_spec(spec, params)

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
        self._release_hidden_focus()

    def mark_other_card(self, other: bool) -> None:
        """Say in the title that what shows belongs to the card before this one."""
        self.other_card = other
        self._title()

    def _title(self) -> None:
        title = self.spec.title if self.spec is not None else "Demo"
        if self.other_card:
            title += " · previous card's demo"
        self.border_title = line(title)

    def set_compact(self, compact: bool) -> None:
        """Few rows: claims without headings (each check marked as one), the verdict a line
        a question."""
        if compact != self.compact:
            self.compact = compact
            if self.result is not None and self.result.ok:
                self._show_claims(self.result)
            verdict = self._round.verdict(compact) if self._round is not None else None
            if verdict is not None:
                self.query_one("#demo-verdict", Static).update(verdict)

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
        self._set_asking(asks)
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
            self.app.notify(
                f"The prediction was not saved: {problem}", severity="error", markup=False
            )

    def on_prediction_prompt_finished(self, message: PredictionPrompt.Finished) -> None:
        message.stop()
        self._set_asking(False)
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
            verdict, graded, problem = self._round.grade(result, self.compact)
        if problem is not None:
            problem = problem.removesuffix("; nothing was saved")  # the prediction was
            self.app.notify(
                f"The prediction was saved but not graded: {problem}",
                severity="error",
                markup=False,
            )
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
            result = runner.cached(demo_id, params, seed)
            if result is None:
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
            draw(self.query_one("#demo-plot", PlotextPlot), message.series, no_color=self._mono)

    async def on_demo_finished(self, message: DemoFinished) -> None:
        if message.run != self._active_run:
            message.stop()  # a superseded run: nobody needs to hear about it
            return
        self._demo_running = False
        self._arrived(message.result)

    # --- showing -----------------------------------------------------------------------------

    @property
    def _mono(self) -> bool:
        return bool(getattr(self.app, "no_color", False))

    def _set_state(self, state: str) -> None:
        for name in ("-running", "-done", "-failed"):
            self.set_class(name == state, name)
        self._release_hidden_focus()

    def _release_hidden_focus(self) -> None:
        """Never leave the focus on a parameter field that is not shown (while a demo runs,
        or once the panel is closed): the keys would go nowhere. The question being asked
        keeps it."""
        if not self.is_mounted:
            return
        focused = self.screen.focused
        if self.asking and isinstance(focused, PredictionPrompt):
            return
        form_shown = self.is_open and (self.has_class("-done") or self.has_class("-failed"))
        if focused is not None and self in focused.ancestors and not form_shown:
            self.screen.set_focus(None)

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
        failed = result.status in ("error", "timeout")
        self._status(status_hint(result, self.rerun_key, self.form), error=failed)
        if not result.ok:
            self._set_state("-failed")
            return
        headline = result.headline or result.takeaway
        self.query_one("#demo-headline", Static).update(plain(headline))
        self._fill("#demo-setup", f"How it was run: {result.setup}" if result.setup else "")
        takeaway = result.takeaway.strip()
        rest = takeaway.removeprefix(headline.strip()).strip() if headline.strip() else takeaway
        self._fill("#demo-takeaway", rest)
        self._show_claims(result)
        draw(
            self.query_one("#demo-plot", PlotextPlot),
            result.series,
            result.plot,
            no_color=self._mono,
        )
        table = self.query_one("#demo-table", Static)
        table.update(fitted_table(result.table, stripe_for(self)) if result.table.columns else "")
        table.set_class(not result.table.columns, "-empty")
        self._set_state("-done")
        self.call_after_refresh(self.fit_plot)

    def _fill(self, selector: str, text: str) -> None:
        widget = self.query_one(selector, Static)
        widget.update(plain(text))
        widget.set_class(not text.strip(), "-empty")

    def _show_claims(self, result: DemoResult) -> None:
        claims = self.query_one("#demo-claims", Static)
        claims.update(claims_content(result.claims, compact=self.compact))
        claims.set_class(not result.claims, "-empty")

    def fit_plot(self) -> None:
        """Give the plot the rows left in the panel's scroll area under what is above it."""
        area = self.parent
        plot = self.query_one("#demo-plot", PlotextPlot)
        if not isinstance(area, Widget) or not self.is_open or plot.region.height == 0:
            return
        above = plot.region.y - self.region.y
        room = area.scrollable_content_region.height - above - 1
        height = max(MIN_PLOT, min(MAX_PLOT, room))
        if plot.styles.height is None or plot.styles.height.value != height:
            plot.styles.height = height
            if self.result is not None and self.result.ok:
                draw(plot, self.result.series, self.result.plot, no_color=self._mono)

    async def on_param_form_submitted(self, message: ParamForm.Submitted) -> None:
        message.stop()
        if self._demo_running:
            return
        # Digits typed on after enter were meant for the field: the question the new run
        # asks must not take them (the field gives up the focus here, before it is asked).
        self.query_one(PredictionPrompt).hold_keys()
        self.screen.set_focus(None)  # the keys scroll and rate again; tab comes back here
        await self.start(message.values, self.seed)
        if isinstance(self.parent, Widget):
            self.parent.scroll_home(animate=False)
