"""Add a card: deck, front, back, tags and a demo from the catalogue with its parameters.

The card is previewed as the review will show it while it is typed, with the demo it links
and the parameters the demo will run with; the demo can be tried before the card is saved.
After a save the screen stays, with the deck, tags and demo kept and the sides cleared, for
the next card (as Anki's Add window does). At 140 columns or more the preview sits beside
the form.
"""

from __future__ import annotations

import re
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.timer import Timer
from textual.widgets import Button, Footer, Input, Label, Select, Static, TextArea

from studyapp.demo_api import DemoSpec, ParamError, all_specs, get_spec
from studyapp.errors import UserError
from studyapp.model import Card, DemoLink, normalize_tags
from studyapp.services.decks import clean_name
from studyapp.tui.context import Services
from studyapp.tui.text import line, plain
from studyapp.tui.widgets.card_view import CardView
from studyapp.tui.widgets.param_form import ParamForm, ParamInput, format_value

NO_DEMO = ""
DUPLICATE_CHECK_S = 0.3  # after the last key, look for a card with the same front
_TAG_SEPARATORS = re.compile(r"[\s,]+")


def split_tags(text: str) -> tuple[str, ...]:
    """Tags as typed: separated by spaces or commas."""
    return normalize_tags(t for t in _TAG_SEPARATORS.split(text) if t)


def demo_options() -> list[tuple[Text, str]]:
    """The catalogue as a list to pick from, "no demo" first."""
    return [(Text("no demo"), NO_DEMO)] + [
        (Text(f"{spec.id} · {spec.title}"), spec.id) for spec in all_specs()
    ]


def runs_with(spec: DemoSpec, overrides: dict[str, Any]) -> Content:
    """The parameters the demo runs with, those the card sets in bold."""
    parts = []
    for param in spec.params:
        value = overrides.get(param.name, param.default)
        text = f"{param.name}={format_value(value)}"
        parts.append(Content.styled(text, "bold") if param.name in overrides else Content(text))
    return Content("runs with ") + Content(", ").join(parts) if parts else Content("")


class AddCardScreen(Screen[None]):
    AUTO_FOCUS = "#add-front"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (140, "-wide")]
    BINDINGS = [
        Binding("ctrl+s", "save", "Add card", id="add.save"),
        Binding("ctrl+t", "try_demo", "Try the demo", id="add.try"),
        Binding("escape", "close", "Close", id="add.close"),
    ]

    def __init__(self, services: Services, deck: str | None = None) -> None:
        super().__init__()
        self.services = services
        self.deck_names = [d.name for d in services.decks.list()]
        remembered = services.preferences.get("add_deck")
        if remembered not in self.deck_names:
            remembered = None  # renamed or deleted since: never make it again unasked
        self.first_deck = deck or remembered or (self.deck_names[0] if self.deck_names else "")
        self.spec: DemoSpec | None = None
        self.added = 0
        self._duplicates: Timer | None = None
        self._panel: Any = None  # the demo panel, made when the demo is first tried

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="add-body"), Horizontal(id="add-columns"):
            with Vertical(id="add-form"):
                yield Static(Content.styled("Add a card", "bold"), classes="screen-title")
                with Horizontal(classes="add-row"):
                    yield Label("Deck", classes="add-label")
                    yield Input(
                        self.first_deck,
                        placeholder="a deck; a new name makes a new deck",
                        id="add-deck",
                        suggester=SuggestFromList(self.deck_names, case_sensitive=False),
                        compact=True,
                    )
                yield Label("Front", classes="add-side")
                yield TextArea(id="add-front", compact=True)
                yield Label("Back", classes="add-side")
                yield TextArea(id="add-back", compact=True)
                with Horizontal(classes="add-row"):
                    yield Label("Tags", classes="add-label")
                    yield Input(placeholder="separated by spaces", id="add-tags", compact=True)
                with Horizontal(classes="add-row"):
                    yield Label("Demo", classes="add-label")
                    yield Select(
                        demo_options(),
                        value=NO_DEMO,
                        allow_blank=False,
                        id="add-demo",
                        compact=True,
                    )
                yield ParamForm(id="add-params")
                yield Static(id="add-error", markup=False)
                with Horizontal(classes="buttons"):
                    yield Button("Add (ctrl+s)", id="add-save", variant="primary", compact=True)
                    yield Button("Try the demo (ctrl+t)", id="add-try", compact=True)
                    yield Button("Close (esc)", id="add-close", compact=True)
            with Vertical(id="add-preview"):
                yield Static(Content.styled("Preview", "bold"), classes="screen-title")
                yield CardView(id="add-card")
                yield Static(id="add-demo-line")
                yield Static(id="add-note")
        yield Footer(compact=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "try_demo":
            return self.spec is not None
        return True

    def on_mount(self) -> None:
        self.query_one("#add-params", ParamForm).display = False
        self.query_one("#add-try", Button).display = False
        self.refresh_preview()
        # Focusing the front before the form is laid out scrolls the title out of view.
        self.call_after_refresh(self.query_one("#add-body").scroll_home, animate=False)

    # --- reading the form --------------------------------------------------------------------

    def _text(self, selector: str) -> str:
        widget = self.query_one(selector)
        return widget.text if isinstance(widget, TextArea) else widget.value  # type: ignore[attr-defined]

    def overrides(self) -> tuple[dict[str, Any], str | None]:
        """The parameters set apart from the demo's defaults, and the first one refused."""
        if self.spec is None:
            return {}, None
        values: dict[str, Any] = {}
        for field in self.query_one("#add-params", ParamForm).query(ParamInput):
            try:
                value = field.param.parse(field.value)
            except ParamError as exc:
                return {}, exc.message
            if value != field.param.default:
                values[field.param.name] = value
        return values, None

    def draft(self) -> Card:
        """The card as typed, for the preview."""
        overrides, _ = self.overrides()
        link = DemoLink(self.spec.id, overrides) if self.spec is not None else None
        return Card(
            id=0,
            uid="",
            deck=self._text("#add-deck").strip() or "(no deck yet)",
            front=self._text("#add-front") or "(the front is empty)",
            back=self._text("#add-back"),
            tags=split_tags(self._text("#add-tags")),
            demo=link,
        )

    # --- the preview -------------------------------------------------------------------------

    def refresh_preview(self) -> None:
        self.query_one(CardView).show(self.draft(), revealed=True, kind="new")
        demo_line = self.query_one("#add-demo-line", Static)
        if self.spec is None:
            demo_line.update(Content.styled("No demo: d in the review will say so.", "dim"))
        else:
            overrides, problem = self.overrides()
            head = line(f"Demo: {self.spec.title} ({self.spec.id}). ").stylize("bold")
            if problem is not None:
                demo_line.update(head + plain(problem).stylize("$error"))
            else:
                demo_line.update(
                    head + plain(self.spec.summary) + "\n" + runs_with(self.spec, overrides)
                )
        if self._duplicates is not None:
            self._duplicates.stop()
        self._duplicates = self.set_timer(DUPLICATE_CHECK_S, self._check_duplicates)

    def _check_duplicates(self) -> None:
        deck, front = self._text("#add-deck").strip(), self._text("#add-front")
        note = self.query_one("#add-note", Static)
        try:
            same = self.services.cards.same_front(deck, front) if deck and front.strip() else []
        except UserError:
            same = []
        if same:
            ids = ", ".join(str(card.id) for card in same[:5])
            note.update(line(f"{deck} already holds a card with this front (id {ids})."))
        else:
            note.update("")

    @on(Input.Changed)
    @on(TextArea.Changed)
    def _typed(self) -> None:
        self.query_one("#add-error", Static).update("")
        self.refresh_preview()

    @on(Select.Changed, "#add-demo")
    async def _demo_picked(self, event: Select.Changed) -> None:
        demo_id = event.value if isinstance(event.value, str) else NO_DEMO
        self.spec = get_spec(demo_id) if demo_id else None
        form = self.query_one("#add-params", ParamForm)
        form.display = self.spec is not None
        self.query_one("#add-try", Button).display = self.spec is not None
        if self.spec is not None:
            await form.set_spec(self.spec, self.spec.defaults)
        if self._panel is not None:
            self._panel.close()
        self.refresh_bindings()
        self.refresh_preview()

    # --- actions -----------------------------------------------------------------------------

    def action_save(self) -> None:
        error = self.query_one("#add-error", Static)
        try:
            deck = clean_name(self._text("#add-deck"))
            front = self._text("#add-front")
            if not front.strip():
                raise UserError("a card needs a front")
            overrides, problem = self.overrides()
            if problem is not None:
                raise UserError(problem)
            link = DemoLink(self.spec.id, overrides) if self.spec is not None else None
            card = self.services.cards.add(
                deck, front, self._text("#add-back"), split_tags(self._text("#add-tags")), demo=link
            )
        except UserError as exc:
            error.update(plain(exc.message))
            return
        self.added += 1
        self.app.keep_preference("add_deck", card.deck)  # type: ignore[attr-defined]
        if card.deck not in self.deck_names:
            self.deck_names.append(card.deck)
            self.query_one("#add-deck", Input).suggester = SuggestFromList(
                self.deck_names, case_sensitive=False
            )
        self.notify(f"Added card {card.id} to {card.deck}.", markup=False)
        if self._panel is not None:
            self._panel.close()  # its run was the card just added
        self.query_one("#add-front", TextArea).clear()
        self.query_one("#add-back", TextArea).clear()
        self.query_one("#add-front", TextArea).focus()
        self.query_one("#add-body").scroll_home(animate=False)

    async def action_try_demo(self) -> None:
        error = self.query_one("#add-error", Static)
        if self.spec is None:
            error.update(plain("Pick a demo to try."))
            return
        overrides, problem = self.overrides()
        if problem is not None:
            error.update(plain(problem))
            return
        from studyapp.tui.widgets.demo_panel import DemoPanel

        if self._panel is None:
            self._panel = DemoPanel(
                self.services.runner,
                self.services.new_seed,
                rerun_key=False,  # r is typed into the form here
                form=False,  # the card's own parameters, in the form, are what it runs
                id="add-demo-panel",
            )
            await self.query_one("#add-preview").mount(self._panel)
        if self._panel.running:
            self.notify("The demo is still running; escape cancels it.", markup=False)
            return
        await self._panel.open_for(self.draft())
        self._panel.scroll_visible(top=True)

    def action_close(self) -> None:
        """Cancel a running demo; else close, asking first if a card is half typed."""
        if self._panel is not None and self._panel.cancel():
            return
        if not (self._text("#add-front").strip() or self._text("#add-back").strip()):
            self.app.pop_screen()
            return
        from studyapp.tui.screens.confirm import ask_to_discard

        ask_to_discard(self, "Discard this card?", "The card you are typing has not been added.")

    def on_unmount(self) -> None:
        if self._panel is not None:
            self._panel.cancel()  # a demo still running stops; the panel goes with the screen

    @on(ParamForm.Submitted)
    async def _params_entered(self, event: ParamForm.Submitted) -> None:
        event.stop()
        await self.action_try_demo()

    @on(Button.Pressed, "#add-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#add-try")
    async def _try_pressed(self) -> None:
        await self.action_try_demo()

    @on(Button.Pressed, "#add-close")
    def _close_pressed(self) -> None:
        self.action_close()
