"""Today's review: the front, reveal, rate 1-5, undo, edit, suspend, bury, and the inline demo.

Every rating is committed by the study session before the next card is shown. Rating keys do
nothing until the answer is revealed. The demo panel runs in a worker, so the learner can go
on revealing and rating while a demo runs.
"""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input

from studyapp.clock import today
from studyapp.errors import UserError
from studyapp.model import Card
from studyapp.scheduling import DEFAULT_DAY_START_HOUR, RATING_LABELS
from studyapp.tui.context import Services
from studyapp.tui.messages import DemoFinished
from studyapp.tui.widgets.card_view import CardView
from studyapp.tui.widgets.rating_bar import RatingBar
from studyapp.tui.widgets.session_summary import SessionSummaryView
from studyapp.tui.widgets.study_progress import StudyProgress

if TYPE_CHECKING:
    from studyapp.tui.screens.card_editor import CardChanges
    from studyapp.tui.widgets.demo_panel import DemoPanel


class ReviewScreen(Screen[None]):
    """One study session over a deck, or over all decks when `deck` is None."""

    AUTO_FOCUS = "#review-body"
    BINDINGS = [
        Binding("space,enter", "reveal", "Show answer", show=False, id="review.reveal"),
        *(
            Binding(str(n), f"rate({n})", f"Rate {n} {label}", show=False, id=f"review.rate{n}")
            for n, label in RATING_LABELS.items()
        ),
        Binding("u,ctrl+z", "undo", "Undo", id="review.undo"),
        Binding("e", "edit", "Edit", id="review.edit"),
        Binding("s", "suspend", "Suspend", id="review.suspend"),
        Binding("b", "bury", "Bury", id="review.bury"),
        Binding("d", "demo", "Demo", id="review.demo"),
        Binding("r", "rerun_demo", "Re-run demo, new seed", show=False, id="review.rerun"),
        Binding("escape", "back", "Cancel demo / close it / home", show=False, id="review.back"),
        Binding("q", "home", "Home", id="review.home"),
    ]

    def __init__(self, services: Services, deck: str | None = None) -> None:
        super().__init__()
        self.services = services
        self.deck = deck
        self.session = services.study(deck)
        self.revealed = False
        self._warmed = False
        self._panel: DemoPanel | None = None  # made on the first `d`: most cards never need it

    def compose(self) -> ComposeResult:
        yield StudyProgress(id="review-progress")
        with VerticalScroll(id="review-body"):
            yield CardView(id="review-card")
            yield SessionSummaryView(id="review-summary")
        yield RatingBar(id="review-keys")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.show_current()

    def on_screen_resume(self) -> None:
        """Back from a screen opened over the review (browse, through the palette): a card
        deleted or edited there shows as it is now."""
        before = self.session.current
        card = self.session.refresh()
        if before is None or card is None or card.id != before.id:
            self.show_current()
        elif card != before:
            self.query_one(CardView).show(card, self.revealed, kind=self.session.current_kind)

    @property
    def panel(self) -> DemoPanel | None:
        """The demo panel under the card, once it has been opened."""
        return self._panel

    async def _demo_panel(self) -> DemoPanel:
        if self._panel is None:
            from studyapp.tui.widgets.demo_panel import DemoPanel

            self._panel = DemoPanel(self.services.runner, self.services.new_seed, id="review-demo")
            await self.query_one("#review-body").mount(self._panel)
        return self._panel

    # --- what is shown -----------------------------------------------------------------------

    def show_current(self) -> None:
        """Show the session's current card, front only, or the summary when it is done."""
        card = self.session.current
        self.revealed = False
        view = self.query_one(CardView)
        summary = self.query_one(SessionSummaryView)
        view.display = card is not None
        summary.display = card is None
        if card is None:
            day = today(self.services.clock, DEFAULT_DAY_START_HOUR)
            summary.show(self.session.summary(), day)
        else:
            view.show(card, revealed=False, kind=self.session.current_kind)
            self._warm_up(card)
        self.query_one(RatingBar).set_state(revealed=False, finished=card is None)
        panel = self.panel
        if (
            panel is not None
            and panel.is_open
            and not panel.running
            and (card is None or panel.card_id != card.id)
        ):
            panel.close()
        self.query_one(StudyProgress).show(self.deck, self.session.done, self.session.remaining)
        self.refresh_bindings()

    def _warm_up(self, card: Card) -> None:
        """Start the demo worker in the background once a card with a demo comes up."""
        if card.demo is not None and not self._warmed:
            self._warmed = True
            self.call_after_refresh(self._start_worker)

    def _start_worker(self) -> None:
        # Only a head start, after the card is painted: if it fails, the real run reports
        # its own failure.
        with suppress(Exception):
            self.services.runner.warm_up()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        card = self.session.current
        if action == "reveal":
            return card is not None and not self.revealed
        if action == "rate":
            return True if card is not None and self.revealed else None
        if action == "undo":
            return True if self.session.can_undo else None
        if action in ("edit", "suspend", "bury"):
            return True if card is not None else None
        panel = self.panel
        panel_open = panel is not None and panel.is_open
        if action == "demo":
            return True if card is not None or panel_open else None
        if action == "rerun_demo":
            return panel_open and panel.spec is not None and not panel.running  # type: ignore[union-attr]
        return True

    # --- answering ---------------------------------------------------------------------------

    def action_reveal(self) -> None:
        card = self.session.current
        if card is None or self.revealed:
            return
        self.revealed = True
        self.query_one(CardView).show(card, revealed=True, kind=self.session.current_kind)
        self.query_one(RatingBar).set_state(revealed=True)
        self.refresh_bindings()

    def action_rate(self, rating: int) -> None:
        if not self.revealed or self.session.current is None:
            return
        try:
            self.session.answer(rating)
        except UserError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        self.show_current()

    def action_undo(self) -> None:
        if not self.session.can_undo:
            return
        try:
            self.session.undo()
        except UserError as exc:
            self.notify(exc.message, severity="error", markup=False)
            self.refresh_bindings()  # a refused undo is dropped: `u` may have nothing left
            return
        self.show_current()
        self.notify("Took back the last action.", markup=False)

    def action_suspend(self) -> None:
        self._set_aside(suspend=True)

    def action_bury(self) -> None:
        self._set_aside(suspend=False)

    def _set_aside(self, suspend: bool) -> None:
        if self.session.current is None:
            return
        try:
            if suspend:
                self.session.suspend()
            else:
                self.session.bury()
        except UserError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        done = "Suspended" if suspend else "Buried until tomorrow"
        self.notify(f"{done}; u undoes it.", markup=False)
        self.show_current()

    # --- editing -----------------------------------------------------------------------------

    def action_edit(self) -> None:
        from studyapp.tui.screens.card_editor import CardEditor

        card = self.session.current
        if card is not None:
            self.app.push_screen(CardEditor(card), callback=self._edited)

    def _edited(self, changes: CardChanges | None) -> None:
        from studyapp.tui.screens.card_editor import apply_changes

        card = self.session.current
        if changes is None or card is None:
            return
        try:
            apply_changes(self.services.cards, card.id, changes)
        except UserError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        card = self.session.refresh()
        if card is not None:
            self.query_one(CardView).show(card, self.revealed, kind=self.session.current_kind)
        self.notify("Card saved.", markup=False)

    # --- the demo ----------------------------------------------------------------------------

    async def action_demo(self) -> None:
        card = self.session.current
        panel = self.panel
        if (
            panel is not None
            and panel.is_open
            and not panel.running
            and (card is None or panel.card_id == card.id)
        ):
            panel.close()
            return
        if card is None:
            return
        panel = await self._demo_panel()
        if panel.running:
            self.notify("A demo is running; escape cancels it.", markup=False)
            return
        await panel.open_for(card)
        panel.scroll_visible(top=True)
        self.refresh_bindings()

    async def action_rerun_demo(self) -> None:
        if self.panel is not None:
            await self.panel.rerun()
        self.refresh_bindings()

    def on_demo_finished(self, message: DemoFinished) -> None:
        self.refresh_bindings()

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one("#review-body").focus()
            return
        panel = self.panel
        if panel is not None and panel.cancel():
            return
        if panel is not None and panel.is_open:
            panel.close()
            self.refresh_bindings()
            return
        self.action_home()

    def action_home(self) -> None:
        if self.panel is not None:
            self.panel.close()
        self.app.action_home()
