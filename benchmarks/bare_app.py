"""The floor for start-up: a bare Textual app that paints one line of text."""

from textual.app import App, ComposeResult
from textual.widgets import Static


class Bare(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("Question ready")


if __name__ == "__main__":
    Bare().run()
