"""Stats, per deck or overall: due forecast, reviews per day, a heatmap, retention and streak,
the deck's scheduler, (on request) how well SM-2 and FSRS predict its reviews, and
predictions of demo outcomes: how often right, week by week, and the demos most often
predicted wrong."""

from __future__ import annotations

from datetime import timedelta

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Label, Select, Static
from textual.worker import get_current_worker

from studyapp.demo_api import UnknownDemoError, get_spec
from studyapp.errors import UserError
from studyapp.model import DeckSettings
from studyapp.services.fsrs_worker import FitCancelled
from studyapp.services.scheduler import MODEL_NAMES, MODELS, Evaluation
from studyapp.services.stats import FORECAST_DAYS, PredictionStats, Retention, Stats
from studyapp.tui.context import Services
from studyapp.tui.text import cell, line, plain
from studyapp.tui.widgets.charts import DayBars, Heatmap, accuracy_rows

RECENT_DAYS = 30
PREDICTION_WEEKS = 8  # weeks with predictions shown, the latest
MOST_WRONG = 5


def percent(retention: Retention) -> str:
    rate = retention.rate
    return "none yet" if rate is None else f"{rate:.1%} of {retention.reviews} reviews"


def summary_content(stats: Stats) -> Content:
    """Four short lines, so nothing wraps mid-phrase at 80 columns."""
    days = "day" if stats.streak == 1 else "days"
    today = stats.reviews_per_day.get(stats.today, 0)
    return Content.assemble(
        ("Cards      ", "bold"),
        f"{stats.cards} ({stats.new} unseen, {stats.suspended} suspended)\n",
        ("Reviews    ", "bold"),
        f"{stats.total_reviews} ({today} today)\n",
        ("Streak     ", "bold"),
        f"{stats.streak} {days}\n",
        ("Retention  ", "bold"),
        f"{percent(stats.retention)}, last 30 days {percent(stats.retention_30d)}",
    )


def demo_name(demo_id: str) -> str:
    try:
        return f"{get_spec(demo_id).title} ({demo_id})"
    except UnknownDemoError:
        return demo_id


def predictions_content(predictions: PredictionStats) -> Content:
    """Accuracy overall and week by week, then the demos most often predicted wrong."""
    rate = predictions.rate
    if rate is None:
        return Content(
            "None graded yet: d on a card with a demo asks you to predict its outcome first."
        )
    ungraded = f", {predictions.ungraded} not graded" if predictions.ungraded else ""
    parts = [
        Content.assemble(
            ("Right ", "bold"),
            f"{predictions.correct} of {predictions.total} ({rate:.1%}){ungraded}",
        ),
        Content(""),
        Content.styled("Week by week", "bold"),
    ]
    weeks = [(w.week, w.total, w.correct) for w in predictions.per_week][-PREDICTION_WEEKS:]
    parts += [Content.from_rich_text(row) for row in accuracy_rows(weeks)]
    wrong = predictions.most_wrong(MOST_WRONG)
    if wrong:
        parts += [Content(""), Content.styled("Most often predicted wrong", "bold")]
        parts += [plain(f"{t.wrong} wrong of {t.total}  {demo_name(t.demo_id)}") for t in wrong]
    return Content("\n").join(parts)


def scheduler_content(settings: DeckSettings | None) -> Content:
    if settings is None:
        return Content.assemble(("Scheduler ", "bold"), "each deck its own")
    if settings.scheduler == "sm2":
        return Content.assemble(("Scheduler ", "bold"), "SM-2")
    fitted = "fitted" if settings.fsrs_params is not None else "default"
    return Content.assemble(
        ("Scheduler ", "bold"),
        f"FSRS, desired retention {settings.desired_retention:.2f}, {fitted} parameters",
    )


def comparison_content(evaluation: Evaluation) -> Content:
    """The models side by side, as `studyapp scheduler evaluate` prints them."""
    width = max(len(name) for name in MODEL_NAMES.values())
    lines = [
        f"{evaluation.reviews} reviews of {evaluation.cards} cards from "
        f"{evaluation.split.isoformat()} on; FSRS fitted on {evaluation.fit_reviews} earlier "
        "reviews. Lower log loss and RMSE are better, higher AUC is better.",
        f"{'Model':<{width}}  {'Log loss':>8}  {'RMSE(bins)':>10}  {'AUC':>6}",
    ]
    for name in MODELS:
        scores = evaluation.models[name]
        auc = "-" if scores.auc is None else f"{scores.auc:.4f}"
        lines.append(
            f"{MODEL_NAMES[name]:<{width}}  {scores.log_loss:>8.4f}  {scores.rmse_bins:>10.4f}"
            f"  {auc:>6}"
        )
    lines += [f"Note: {note}." for note in evaluation.notes]
    return Content("\n".join(lines))


class StatsScreen(Screen[None]):
    AUTO_FOCUS = "#stats-body"
    BINDINGS = [
        Binding("n", "cycle_deck(1)", "Next deck", id="stats.next"),
        Binding("p", "cycle_deck(-1)", "Previous deck", id="stats.previous"),
        Binding("c", "compare", "Compare SM-2 and FSRS", id="stats.compare"),
        Binding(
            "f",
            "switch_scheduler",
            "Switch the deck to FSRS / SM-2",
            show=False,
            id="stats.scheduler",
        ),
        Binding("escape", "back", "Back", id="stats.back"),
    ]

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.deck_names = [d.name for d in services.decks.list()]

    def compose(self) -> ComposeResult:
        options = [(Text("All decks"), 0)] + [
            (cell(name), i) for i, name in enumerate(self.deck_names, start=1)
        ]
        with Horizontal(id="stats-top"):
            yield Label("Deck ")
            yield Select(options, allow_blank=False, value=0, id="stats-deck", compact=True)
        with VerticalScroll(id="stats-body"):
            yield Static(id="stats-summary")
            yield Static(Content.styled(f"Due in the next {FORECAST_DAYS} days", "bold"))
            yield DayBars(id="stats-forecast")
            yield Static(Content.styled(f"Reviews per day, last {RECENT_DAYS} days", "bold"))
            yield DayBars(id="stats-per-day")
            yield Static(Content.styled("Reviews in the last months", "bold"))
            yield Heatmap(id="stats-heatmap")
            yield Static(id="stats-scheduler")
            yield Static(id="stats-comparison")
            yield Static(Content.styled("Predictions of demo outcomes", "bold"))
            yield Static(id="stats-predictions")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.show(None)

    @property
    def deck(self) -> str | None:
        value = self.query_one(Select).value
        return self.deck_names[value - 1] if isinstance(value, int) and value > 0 else None

    def show(self, deck: str | None) -> None:
        try:
            stats = self.services.stats.compute(deck)
        except UserError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        self.query_one("#stats-summary", Static).update(summary_content(stats))
        self.query_one("#stats-forecast", DayBars).set_values(
            stats.forecast, "today", f"+{FORECAST_DAYS - 1}d"
        )
        recent = [
            stats.reviews_per_day.get(stats.today - timedelta(days=RECENT_DAYS - 1 - i), 0)
            for i in range(RECENT_DAYS)
        ]
        self.query_one("#stats-per-day", DayBars).set_values(
            recent, f"-{RECENT_DAYS - 1}d", "today"
        )
        self.query_one(Heatmap).set_data(stats.reviews_per_day, stats.today)
        settings = self.services.decks.get(deck).settings if deck is not None else None
        self.query_one("#stats-scheduler", Static).update(scheduler_content(settings))
        self.query_one("#stats-predictions", Static).update(predictions_content(stats.predictions))
        self.workers.cancel_group(self, "compare")
        self.query_one("#stats-comparison", Static).update(
            Content("c compares how well SM-2 and FSRS predict these reviews.")
        )

    def action_switch_scheduler(self) -> None:
        deck = self.deck
        if deck is None:
            self.notify("Choose a deck first (n / p).", markup=False)
            return
        try:
            current = self.services.decks.get(deck).settings.scheduler
            target = "sm2" if current == "fsrs" else "fsrs"
            report = self.services.scheduler.set_scheduler(deck, target)
        except UserError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        if target == "fsrs":
            message = (
                f"Now on FSRS: {report.from_log} cards got their memory state from their "
                f"review log, {report.from_schedule} from their interval; due dates stay."
            )
        else:
            message = "Now on SM-2, from each card's current interval."
        self.notify(message, markup=False)
        self.show(deck)

    def action_compare(self) -> None:
        self._show_comparison(
            Content(
                "Comparing SM-2 and FSRS on these reviews; fitting FSRS to the earlier ones "
                "can take a minute on a long history..."
            )
        )
        self.compare(self.deck)

    @work(thread=True, exclusive=True, exit_on_error=False, group="compare")
    def compare(self, deck: str | None) -> None:
        worker = get_current_worker()
        try:
            evaluation = self.services.scheduler.evaluate(deck, lambda: worker.is_cancelled)
        except FitCancelled:
            return
        except UserError as exc:
            self.app.call_from_thread(self._show_comparison, line(exc.message))
            return
        self.app.call_from_thread(self._show_comparison, comparison_content(evaluation))

    def _show_comparison(self, content: Content) -> None:
        """Show the comparison (or its progress) and scroll to it: on a short screen it sits
        below the charts, where `c` would seem to do nothing."""
        shown = self.query_one("#stats-comparison", Static)
        shown.update(content)
        self.call_after_refresh(shown.scroll_visible, animate=False)

    @on(Select.Changed, "#stats-deck")
    def _deck_changed(self) -> None:
        self.show(self.deck)

    def action_cycle_deck(self, step: int) -> None:
        select = self.query_one(Select)
        value = select.value if isinstance(select.value, int) else 0
        select.value = (value + step) % (len(self.deck_names) + 1)

    def action_back(self) -> None:
        self.app.pop_screen()
