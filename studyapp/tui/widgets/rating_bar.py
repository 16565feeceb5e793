"""The line under the card that says which keys answer it: reveal first, then the 1-5 scale."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from studyapp.scheduling import RATING_LABELS


def rating_line() -> Content:
    """ "1 Not at all  2 Barely  3 Somewhat  4 Mostly  5 Perfectly", keys in bold."""
    parts: list[tuple[str, str] | str] = []
    for rating, label in RATING_LABELS.items():
        if parts:
            parts.append("  ")
        parts += [(f" {rating} ", "bold reverse"), f" {label}"]
    return Content.assemble(*parts)


class RatingBar(Static):
    """Tells the learner what to press now."""

    DEFAULT_CSS = """
    RatingBar {
        height: 1;
        padding: 0 1;
        content-align: center middle;
        width: 1fr;
    }
    """

    def set_state(self, revealed: bool, finished: bool = False) -> None:
        if finished:
            self.update(Content(""))
        elif revealed:
            self.update(rating_line())
        else:
            self.update(
                Content.assemble(
                    (" space ", "bold reverse"),
                    " or ",
                    (" enter ", "bold reverse"),
                    " show the answer",
                )
            )
