"""Stats, per deck or overall: due forecast, reviews per day, a heatmap, retention and streak,
and predictions of demo outcomes: how often right, week by week, and the demos most often
predicted wrong."""

from __future__ import annotations

from datetime import timedelta

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Label, Select, Static

from studyapp.demo_api import UnknownDemoError, get_spec
from studyapp.errors import UserError
from studyapp.services.stats import FORECAST_DAYS, PredictionStats, Retention, Stats
from studyapp.tui.context import Services
from studyapp.tui.text import cell, plain
from studyapp.tui.widgets.charts import DayBars, Heatmap, accuracy_rows

RECENT_DAYS = 30
PREDICTION_WEEKS = 8  # weeks with predictions shown, the latest
MOST_WRONG = 5


def percent(retention: Retention) -> str:
    rate = retention.rate
    return "-" if rate is None else f"{rate:.1%} of {retention.reviews}"


def summary_content(stats: Stats) -> Content:
    days = "day" if stats.streak == 1 else "days"
    today = stats.reviews_per_day.get(stats.today, 0)
    return Content.assemble(
        ("Cards ", "bold"),
        f"{stats.cards} ({stats.new} new, {stats.suspended} suspended)   ",
        ("Reviews ", "bold"),
        f"{stats.total_reviews} ({today} today)   ",
        ("Streak ", "bold"),
        f"{stats.streak} {days}\n",
        ("Retention ", "bold"),
        f"{percent(stats.retention)} reviews",
        ("   last 30 days ", "bold"),
        percent(stats.retention_30d),
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


class StatsScreen(Screen[None]):
    AUTO_FOCUS = "#stats-body"
    BINDINGS = [
        Binding("n", "cycle_deck(1)", "Next deck", id="stats.next"),
        Binding("p", "cycle_deck(-1)", "Previous deck", id="stats.previous"),
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
        self.query_one("#stats-predictions", Static).update(predictions_content(stats.predictions))

    @on(Select.Changed, "#stats-deck")
    def _deck_changed(self) -> None:
        self.show(self.deck)

    def action_cycle_deck(self, step: int) -> None:
        select = self.query_one(Select)
        value = select.value if isinstance(select.value, int) else 0
        select.value = (value + step) % (len(self.deck_names) + 1)

    def action_back(self) -> None:
        self.app.pop_screen()
