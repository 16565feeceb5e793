"""Ask before something that cannot be taken back in the app (deleting cards or a deck,
throwing typed text away)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Static

from studyapp.tui.text import line, plain


class ConfirmScreen(ModalScreen[bool]):
    """A question over the screen that asked it: True for yes, False for no.

    The "no" button has the focus, so an Enter typed out of habit changes nothing.
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, title: str, body: str, yes: str) -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(line(self.title_text).stylize("bold"), id="confirm-title")
            yield Static(plain(self.body), id="confirm-body")
            with Horizontal(classes="buttons"):
                yield Button(f"{self.yes} (y)", id="confirm-yes", variant="error", compact=True)
                yield Button("Cancel (n)", id="confirm-no", compact=True)
        yield Footer(compact=True)  # the question's keys, not those of the screen under it

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed, "#confirm-yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def _no(self) -> None:
        self.dismiss(False)


def ask_to_discard(screen: Screen[object], title: str, body: str) -> None:
    """Close `screen` once the learner says to throw away what was typed in it."""

    def answered(discard: bool | None) -> None:
        if discard:
            screen.dismiss(None)

    screen.app.push_screen(ConfirmScreen(title, body, "Discard"), callback=answered)
