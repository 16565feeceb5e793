"""Today's review: the front, reveal, rate 1-5, undo, edit, suspend, bury, and the inline demo.

Every rating is committed by the study session before the next card is shown. Rating keys do
nothing until the answer is revealed; the bar shows what each would do (the session's
preview, read once per card). The demo panel runs in a worker, so the learner can go on
revealing and rating while a demo runs; it asks the demo's prediction questions first.
Once the answer is revealed, a wrong prediction on the card's demo, not put right since, is
shown over the rating keys.

Layout: the card on top and the demo under it, each scrolling on its own, so the card's
front stays in view while the demo's table and form scroll (80x24 and up); from 140 columns
the demo sits beside the card. The scroll keys move the demo when it is open, else the card.
Escape steps back one thing at a time (a parameter field, a running demo, the open demo) and
never leaves the review: `q` does. When nothing is left, `n` and `a` study more.
"""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from studyapp.clock import today
from studyapp.errors import UserError
from studyapp.model import Card
from studyapp.scheduling import DEFAULT_DAY_START_HOUR, RATING_LABELS
from studyapp.services.study import MoreToStudy, Outcome
from studyapp.tui.context import Services
from studyapp.tui.messages import DemoAsking, DemoFinished, PredictionsRevealed
from studyapp.tui.screens.study_more import AHEAD_DAYS
from studyapp.tui.widgets.card_view import CardView
from studyapp.tui.widgets.prediction_prompt import missed_content
from studyapp.tui.widgets.rating_bar import RatingBar
from studyapp.tui.widgets.session_summary import SessionSummaryView
from studyapp.tui.widgets.study_progress import StudyProgress

if TYPE_CHECKING:
    from studyapp.tui.widgets.demo_panel import DemoPanel

WIDE = 140  # columns from which the demo sits beside the card
ROOMY = 40  # rows from which the answer stays shown under an open demo, claims headed
# The scroll keys: they move the open demo, else the card.
SCROLLS = {
    "up": ("scroll_up", "Scroll up"),
    "down": ("scroll_down", "Scroll down"),
    "pageup": ("scroll_page_up", "Scroll a page up"),
    "pagedown": ("scroll_page_down", "Scroll a page down"),
    "home": ("scroll_home", "Scroll to the top"),
    "end": ("scroll_end", "Scroll to the end"),
}


class CardArea(VerticalScroll, can_focus=False):
    """The card (or the session's summary); scrolled by the screen's keys, never focused."""


class DemoArea(VerticalScroll, can_focus=False):
    """Where the demo panel scrolls; tells the panel when its height changes."""

    panel: DemoPanel | None = None

    def on_resize(self, event: events.Resize) -> None:
        if self.panel is not None:
            self.call_after_refresh(self.panel.fit_plot)


class ReviewScreen(Screen[None]):
    """One study session over a deck, or over all decks when `deck` is None."""

    AUTO_FOCUS = None
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
        Binding(
            "escape",
            "back",
            "Leave a field / cancel the demo / close it",
            show=False,
            id="review.back",
        ),
        Binding("q", "home", "Home", id="review.home"),
        Binding("n", "more_new", "When done: more new cards", show=False, id="review.more_new"),
        Binding("a", "review_ahead", "When done: review ahead", show=False, id="review.ahead"),
        *(
            Binding(key, f"scroll('{how}')", does, show=False, id=f"review.{how}")
            for key, (how, does) in SCROLLS.items()
        ),
    ]

    def __init__(self, services: Services, deck: str | None = None) -> None:
        super().__init__()
        self.services = services
        self.deck = deck
        self.session = services.study(deck)
        self.revealed = False
        self.preview: dict[int, Outcome] = {}
        self.more: MoreToStudy | None = None
        self._warmed = False
        self._panel: DemoPanel | None = None  # made on the first `d`: most cards never need it

    def compose(self) -> ComposeResult:
        yield StudyProgress(id="review-progress")
        with Container(id="review-main"):
            with CardArea(id="review-body"):
                yield CardView(id="review-card")
                yield SessionSummaryView(id="review-summary")
            yield DemoArea(id="review-demo-area")
        yield Static(id="review-missed")
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

    def on_resize(self, event: events.Resize) -> None:
        self._arrange()

    def _arrange(self) -> None:
        """The demo under the card, or beside it from WIDE columns; claims headed when roomy."""
        panel = self.panel
        open_ = panel is not None and panel.is_open
        wide = open_ and self.size.width >= WIDE
        main = self.query_one("#review-main")
        main.set_class(open_, "-demo")
        main.set_class(wide, "-wide")
        compact = open_ and not wide and self.size.height < ROOMY
        self.query_one(CardView).fold(compact)
        if panel is not None:
            panel.set_compact(compact)

    @property
    def panel(self) -> DemoPanel | None:
        """The demo panel under the card, once it has been opened."""
        return self._panel

    async def _demo_panel(self) -> DemoPanel:
        if self._panel is None:
            from studyapp.tui.widgets.demo_panel import DemoPanel

            self._panel = DemoPanel(
                self.services.runner,
                self.services.new_seed,
                predictions=self.services.predictions,
                id="review-demo",
            )
            area = self.query_one(DemoArea)
            area.panel = self._panel
            await area.mount(self._panel)
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
        self.preview = self.session.preview() if card is not None else {}
        if card is None:
            day = today(self.services.clock, DEFAULT_DAY_START_HOUR)
            self.more = self.session.more(AHEAD_DAYS)
            summary.show(self.session.summary(), day, self.more)
        else:
            self.more = None
            view.show(card, revealed=False, kind=self.session.current_kind)
            self._warm_up(card)
        bar = self.query_one(RatingBar)
        bar.set_state(False, card is None, self.preview)
        self.query_one(CardArea).scroll_home(animate=False)
        self.query_one("#review-missed").display = False
        panel = self.panel
        if panel is not None and panel.is_open:
            other = card is None or panel.card_id != card.id
            if other and not panel.running:
                panel.close()
                self._arrange()
            else:
                panel.mark_other_card(other)
        bar.asking = self._asking
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
            return True if card is not None and self.revealed and not self._asking else None
        if action == "undo":
            return True if self.session.can_undo else None
        if action == "more_new":
            return card is None and self.more is not None and self.more.new > 0
        if action == "review_ahead":
            return card is None and self.more is not None and self.more.ahead > 0
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
        self._show_missed(card)
        self.refresh_bindings()

    def _show_missed(self, card: Card) -> None:
        """Over the rating keys: the card's demo was last predicted wrong, if it was."""
        note = self.query_one("#review-missed", Static)
        try:
            missed = self.services.predictions.missed(card.demo.id) if card.demo else None
        except UserError:
            missed = None  # only a note: a collection that cannot be read says so elsewhere
        note.display = missed is not None
        if missed is not None:
            note.update(missed_content(missed))

    def action_rate(self, rating: int) -> None:
        if not self.revealed or self.session.current is None or self._asking:
            return  # while the demo asks, a digit answers it, never rates the card
        try:
            answered = self.session.answer(rating)
        except UserError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        if answered.recovered:
            self.notify(
                f"Your rating {answered.review.rating} of this card reached the server before "
                "the connection was lost: it stands, and this key was not counted again.",
                markup=False,
            )
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
            self.show_current()  # the session may have moved on (a rating found stored)
            return
        done = "Suspended" if suspend else "Buried until tomorrow"
        self.notify(f"{done}; u undoes it.", markup=False)
        self.show_current()

    # --- editing -----------------------------------------------------------------------------

    def action_edit(self) -> None:
        from studyapp.tui.screens.card_editor import CardEditor

        card = self.session.current
        if card is not None:
            self.app.push_screen(CardEditor(card, self.services.cards), callback=self._edited)

    def _edited(self, saved: Card | None) -> None:
        if saved is None:
            return
        card = self.session.refresh()
        if card is not None:
            self.query_one(CardView).show(card, self.revealed, kind=self.session.current_kind)
        self.notify("Card saved.", markup=False)

    # --- the demo ----------------------------------------------------------------------------

    async def action_demo(self) -> None:
        card = self.session.current
        panel = self.panel
        # The previous card's demo (left open while it ran) closes, running or not, as the
        # card's border says; this card's closes once its run is done.
        if (
            panel is not None
            and panel.is_open
            and (card is None or panel.card_id != card.id or not panel.running)
        ):
            panel.close()
            self._arrange()
            self.refresh_bindings()
            return
        if card is None:
            return
        panel = await self._demo_panel()
        await panel.open_for(card)
        self._arrange()
        self.query_one(CardArea).scroll_home(animate=False)
        self.query_one(DemoArea).scroll_home(animate=False)
        self.refresh_bindings()

    async def action_rerun_demo(self) -> None:
        if self.panel is not None:
            await self.panel.rerun()
        self.refresh_bindings()

    def on_demo_finished(self, message: DemoFinished) -> None:
        self.refresh_bindings()

    @property
    def _asking(self) -> bool:
        panel = self.panel
        return panel is not None and panel.is_open and panel.asking

    def on_demo_asking(self, message: DemoAsking) -> None:
        bar = self.query_one(RatingBar)
        bar.asking = message.asking
        bar.refresh(layout=True)
        self.refresh_bindings()

    def on_predictions_revealed(self, message: PredictionsRevealed) -> None:
        card = self.session.current
        if self.revealed and card is not None:
            self._show_missed(card)
        self.refresh_bindings()

    def action_scroll(self, how: str) -> None:
        """Scroll the open demo, else the card."""
        panel = self.panel
        open_ = panel is not None and panel.is_open
        area = self.query_one(DemoArea) if open_ else self.query_one(CardArea)
        getattr(area, how)(animate=False)

    def action_back(self) -> None:
        """One step back: out of a field, then cancel the running demo, then close it."""
        if isinstance(self.focused, Input):
            self.set_focus(None)
            return
        panel = self.panel
        if panel is not None and panel.cancel():
            return
        if panel is not None and panel.is_open:
            panel.close()
            self._arrange()
            self.refresh_bindings()
            return
        self.notify("q goes home.", timeout=3, markup=False)

    def action_home(self) -> None:
        if self.panel is not None:
            self.panel.close()
        self.app.action_home()

    # --- studying more -----------------------------------------------------------------------

    def action_more_new(self) -> None:
        from studyapp.tui.screens.study_more import EXTRA_NEW, NumberPrompt

        if self.more is None or not self.more.new:
            return
        prompt = NumberPrompt(
            "Study more new cards",
            f"How many new cards, beyond today's limit? ({self.more.new} left)",
            min(EXTRA_NEW, self.more.new),
        )
        self.app.push_screen(prompt, callback=self._add_new)

    def _add_new(self, count: int | None) -> None:
        if count is None:
            return
        added = self.session.add_new(count)
        self.notify(f"{added} new {'card' if added == 1 else 'cards'} added.", markup=False)
        self.show_current()

    def action_review_ahead(self) -> None:
        from studyapp.tui.screens.study_more import NumberPrompt

        if self.more is None or not self.more.ahead:
            return
        prompt = NumberPrompt(
            "Review ahead",
            "Review the cards due within how many days? Each is scheduled from the days "
            "that have passed since its last review, never sooner than it was due.",
            self.more.days,
        )
        self.app.push_screen(prompt, callback=self._review_ahead)

    def _review_ahead(self, days: int | None) -> None:
        if days is None:
            return
        added = self.session.review_ahead(days)
        cards = "card is" if added == 1 else "cards are"
        self.notify(f"{added} {cards} due within {days} days.", markup=False)
        self.show_current()
