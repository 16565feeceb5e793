"""The review's top line: which deck, a progress bar, and what is left by kind.

The kinds are named as on home: new, review, and learning (the cards in today's drill).
A long deck name ends in an ellipsis.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import ProgressBar, Static

from studyapp.services.study import Remaining
from studyapp.tui.text import line


def remaining_text(left: Remaining) -> Content:
    return Content.assemble(
        ("new ", "dim"),
        (str(left.new), "bold"),
        ("  review ", "dim"),
        (str(left.review), "bold"),
        ("  learning ", "dim"),
        (str(left.drill), "bold"),
    )


class StudyProgress(Horizontal):
    DEFAULT_CSS = """
    StudyProgress {
        height: 1;
        padding: 0 1;
    }
    StudyProgress > #progress-deck {
        width: auto;
        max-width: 32;
        padding-right: 2;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    StudyProgress > ProgressBar { width: 1fr; }
    /* The bar takes what the deck name and the counts leave, so the percentage always shows. */
    StudyProgress > ProgressBar > Bar { width: 1fr; min-width: 4; max-width: 32; }
    StudyProgress > #progress-counts { width: auto; padding-left: 2; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="progress-deck", markup=False)
        yield ProgressBar(total=1, show_eta=False, id="progress-bar")
        yield Static(id="progress-counts")

    def show(self, deck: str | None, done: int, left: Remaining) -> None:
        self.query_one("#progress-deck", Static).update(line(deck or "All decks"))
        # A drilled card counts again, so the bar measures ratings given against ratings due.
        self.query_one(ProgressBar).update(total=max(1, done + left.total), progress=done)
        self.query_one("#progress-counts", Static).update(remaining_text(left))
