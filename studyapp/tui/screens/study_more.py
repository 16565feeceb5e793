"""Study more when today's review is done: how many extra new cards, or how many days ahead.

A small question over the review with the usual answer filled in, so `n` then Enter (or `a`
then Enter) is enough.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static

EXTRA_NEW = 10  # the usual answer to "how many more new cards?"
AHEAD_DAYS = 7  # and to "due within how many days?"
MAX_ASKED = 1000


class NumberPrompt(ModalScreen[int | None]):
    """Asks for a whole number from 1 to MAX_ASKED; Enter answers, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]
    DEFAULT_CSS = """
    NumberPrompt { align: center middle; }
    NumberPrompt > #prompt-box {
        width: 60;
        max-width: 100%;
        height: auto;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    NumberPrompt #prompt-question { padding: 0 0 1 0; }
    NumberPrompt #prompt-error { color: $error; height: auto; }
    NumberPrompt #prompt-hint { color: $text-muted; padding: 1 0 0 0; }
    """

    def __init__(self, title: str, question: str, default: int) -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box"):
            yield Static(Content.styled(self.title_text, "bold"))
            yield Static(Content(self.question), id="prompt-question")
            yield Input(str(self.default), type="integer", id="prompt-input", compact=True)
            yield Static(id="prompt-error")
            yield Static(Content("enter starts, escape cancels"), id="prompt-hint")
        yield Footer(compact=True)  # the question's keys, not those of the review under it

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.focus()
        field.select_all()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        digits = text.removeprefix("-")  # ASCII digits only: int() refuses '²' and huge ones
        number = int(text) if digits.isascii() and digits.isdigit() and len(digits) <= 9 else 0
        if not 1 <= number <= MAX_ASKED:
            self.query_one("#prompt-error", Static).update(
                Content(f"a whole number from 1 to {MAX_ASKED:,}")
            )
            return
        self.dismiss(number)

    def action_cancel(self) -> None:
        self.dismiss(None)
