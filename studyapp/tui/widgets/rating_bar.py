"""The bar under the card that says which keys answer it, and what each rating would do.

Before the answer shows: how to show it. After: the 1-5 scale, each key with the interval it
would give ("1d", "16d", "2.3mo") as the study session previews it (`StudySession.preview`),
and "again today" where the card comes back later in the session (the same-day drill), as a
rating of 3 does although it passes. One line where it fits, else two: the intervals over
their keys, as Anki shows them over its buttons.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.content import Content
from textual.widget import Widget

from studyapp.scheduling import RATING_LABELS
from studyapp.services.study import Outcome

KEY_STYLE = "bold reverse"
SEPARATOR = "   "


def span(days: int) -> str:
    """An interval for a person: "1d", "16d", "2.3mo", "1.5y" (months of 30 days, years of
    365, as Anki writes them)."""
    if days < 30:
        return f"{days}d"
    if days < 365:
        return f"{days / 30:.1f}".removesuffix(".0") + "mo"
    return f"{days / 365:.1f}".removesuffix(".0") + "y"


def when_texts(outcome: Outcome) -> list[str]:
    """What a rating does, longest wording first."""
    after = span(outcome.days)
    if not outcome.again_today:
        return [after]
    return [f"again today, then {after}", f"today, then {after}", f"today+{after}"]


def key_label(rating: int) -> Content:
    return Content.assemble((f" {rating} ", KEY_STYLE), f" {RATING_LABELS[rating]}")


def one_line(preview: Mapping[int, Outcome], width: int) -> Content | None:
    """Every key, its label and what it does on one line, in the longest wording that fits."""
    for choice in range(3):
        parts = []
        for rating in RATING_LABELS:
            texts = when_texts(preview[rating]) if rating in preview else [""]
            when = texts[min(choice, len(texts) - 1)]
            parts.append(key_label(rating) + Content.styled(f"  {when}" if when else "", "dim"))
        line = Content(SEPARATOR).join(parts)
        if line.cell_length <= width:
            return line
    return None


def two_lines(preview: Mapping[int, Outcome], width: int) -> Content:
    """Five columns: what each rating does over its key and label."""
    column = max(1, width // len(RATING_LABELS))
    tops, keys = [], []
    for rating in RATING_LABELS:
        texts = when_texts(preview[rating]) if rating in preview else [""]
        when = next((t for t in texts if len(t) <= column - 2), texts[-1][: column - 2])
        tops.append(Content.styled(when.center(column), "dim"))
        label = key_label(rating)
        pad = max(0, column - label.cell_length)
        keys.append(Content(" " * (pad // 2)) + label + Content(" " * (pad - pad // 2)))
    return Content("").join(tops) + Content("\n") + Content("").join(keys)


def asking_hint() -> Content:
    return Content.assemble(
        "The demo's question first: an option's number picks it, ",
        (" x ", KEY_STYLE),
        " skips, ",
        (" d ", KEY_STYLE),
        " closes",
    )


def reveal_hint() -> Content:
    return Content.assemble(
        (" space ", KEY_STYLE), " or ", (" enter ", KEY_STYLE), " show the answer"
    )


class RatingBar(Widget):
    """Tells the learner what to press now, and what each rating would do."""

    DEFAULT_CSS = """
    RatingBar {
        height: auto;
        width: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.revealed = False
        self.finished = False
        self.asking = False  # the demo's prediction question waits: digits answer it
        self.preview: dict[int, Outcome] = {}

    def set_state(
        self,
        revealed: bool,
        finished: bool = False,
        preview: Mapping[int, Outcome] | None = None,
    ) -> None:
        self.revealed, self.finished = revealed, finished
        if preview is not None:
            self.preview = dict(preview)
        self.refresh(layout=True)

    def render(self) -> Content:
        width = self.content_size.width or self.size.width
        lines = 1 if one_line(self.preview, width) is not None else 2
        if self.finished:
            return Content("\n" * (lines - 1))
        if not self.revealed:
            return Content("\n" * (lines - 1)) + center(reveal_hint(), width)
        if self.asking:
            return Content("\n" * (lines - 1)) + center(asking_hint(), width)
        found = one_line(self.preview, width)
        if found is not None:
            return center(found, width)
        return two_lines(self.preview, width)


def center(content: Content, width: int) -> Content:
    pad = max(0, (width - content.cell_length) // 2)
    return Content(" " * pad) + content
