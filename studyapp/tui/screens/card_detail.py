"""One card from browse: both sides, its scheduling state, its review history and the
predictions made on its demo; edit, suspend, delete."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from studyapp.clock import Clock
from studyapp.errors import UserError
from studyapp.model import Card, Prediction, Review
from studyapp.scheduling import RATING_LABELS
from studyapp.tui.context import Services
from studyapp.tui.screens.card_editor import CardEditor
from studyapp.tui.text import cell, line
from studyapp.tui.widgets.card_view import CardView
from studyapp.tui.widgets.wrapped_table import stripe_for, wrapped_table


def state_line(card: Card, scheduler: str = "sm2") -> Content:
    """The card's scheduling state under its deck's `scheduler`: an FSRS memory state is
    shown only while the deck schedules with FSRS (under SM-2 it is kept, not used)."""
    state = card.state
    parts = [
        f"due {state.due.isoformat()}" if state.due else "new (never reviewed)",
        f"interval {state.interval} d",
        f"ease {state.ease:.2f}",
        f"repetitions {state.repetitions}",
        f"lapses {state.lapses}",
    ]
    if card.memory is not None and scheduler == "fsrs":
        parts.append(
            f"FSRS stability {card.memory.stability:.1f} d, difficulty {card.memory.difficulty:.1f}"
        )
    if card.suspended:
        parts.append("SUSPENDED")
    if card.buried_until is not None:
        parts.append(f"buried until {card.buried_until.isoformat()}")
    if card.source:
        parts.append(f"source: {card.source}")
    return line(" · ".join(parts))


def history_row(review: Review) -> list[Text]:
    return [
        Text(review.study_day.isoformat()),
        Text(f"{review.rating} {RATING_LABELS.get(review.rating, '')}"),
        Text(f"{review.kind} (imported)" if review.imported else review.kind),
        Text(f"{review.duration_ms / 1000:.1f}s", justify="right"),
        Text(f"{review.before.ease:.2f} -> {review.after.ease:.2f}"),
        Text(f"{review.after.interval}d", justify="right"),
        Text(review.after.due.isoformat() if review.after.due else "-"),
    ]


PREDICTION_COLUMNS = ("Day", "Predicted", "Outcome", "Question")


def prediction_row(prediction: Prediction, clock: Clock) -> list[Text]:
    """A prediction as the card's history shows it: when, what was predicted, whether it
    was right (or what it was instead), and the question."""
    day = prediction.at.astimezone(clock().tzinfo).date().isoformat()
    if prediction.correct is None:
        outcome = Text("not graded (the run did not finish)", style="dim")
    elif prediction.correct:
        outcome = Text("✓ right", style="bold green")
    else:
        outcome = Text("✗ it was ", style="bold red") + cell(prediction.answer or "")
    return [Text(day), cell(prediction.chosen), outcome, cell(prediction.question)]


class CardScreen(Screen[None]):
    BINDINGS = [
        Binding("e", "edit", "Edit", id="card.edit"),
        Binding("s", "toggle_suspended", "Suspend / unsuspend", id="card.suspend"),
        Binding("delete", "delete", "Delete", id="card.delete"),
        Binding("escape", "back", "Back", id="card.back"),
    ]

    def __init__(self, services: Services, card_id: int) -> None:
        super().__init__()
        self.services = services
        self.card_id = card_id
        self.card: Card | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="card-body"):
            yield CardView(id="card-view")
            yield Static(id="card-state")
            yield Static(Content.styled("Review history", "bold"), id="card-history-title")
            yield DataTable(id="card-history", cursor_type="none", zebra_stripes=True)
            yield Static(
                Content.styled("Predictions on its demo", "bold"), id="card-predictions-title"
            )
            yield Static(id="card-predictions")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#card-history", DataTable)
        table.add_columns("Day", "Rating", "Kind", "Time", "Ease", "Ivl", "Due after")
        self.load()

    def load(self) -> None:
        try:
            detail = self.services.cards.detail(self.card_id)
            if self.card is not None and detail.card.uid != self.card.uid:
                raise UserError("this card was deleted since it was opened")
        except UserError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        self.card = detail.card
        self.query_one(CardView).show(detail.card, revealed=True)
        self.query_one("#card-state", Static).update(state_line(detail.card, detail.scheduler))
        table = self.query_one("#card-history", DataTable)
        table.clear()
        table.add_rows(history_row(r) for r in detail.history)
        if not detail.history:
            table.add_row(Text("no reviews yet", style="dim"), *[Text("")] * 6)
        self._show_predictions(detail.card, detail.predictions)

    def _show_predictions(self, card: Card, predictions: list[Prediction]) -> None:
        shown = card.demo is not None or bool(predictions)
        self.query_one("#card-predictions-title").display = shown
        table = self.query_one("#card-predictions", Static)
        table.display = shown
        if not predictions:
            table.update(Text("none yet: d in review asks for one before the demo runs", "dim"))
            return
        clock = self.services.clock
        table.update(
            wrapped_table(
                [Text(header) for header in PREDICTION_COLUMNS],
                (prediction_row(p, clock) for p in predictions),
                stripe=stripe_for(self),
            )
        )

    def action_edit(self) -> None:
        if self.card is not None:
            self.app.push_screen(CardEditor(self.card, self.services.cards), callback=self._edited)

    def _edited(self, saved: Card | None) -> None:
        self.load()  # saved, or what changed since it was opened
        if saved is not None:
            self.notify("Card saved.", markup=False)

    def action_toggle_suspended(self) -> None:
        if self.card is None:
            return
        try:
            self.services.cards.set_suspended(
                self.card_id, not self.card.suspended, uid=self.card.uid
            )
        except UserError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        self.load()
        assert self.card is not None
        self.notify("Suspended." if self.card.suspended else "Back in study.", markup=False)

    def action_delete(self) -> None:
        if self.card is not None:
            from studyapp.tui.deleting import delete_cards

            delete_cards(self, self.services, [self.card], then=lambda _: self.app.pop_screen())

    def action_back(self) -> None:
        self.app.pop_screen()
