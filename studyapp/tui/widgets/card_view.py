"""A card on screen: its front, and its back once revealed.

Card text is data: `plain` shows `w[i]`, `[/]` or `[bold]` as typed and control characters
as `\\x1b`, so a card can neither style the screen nor send the terminal escape sequences.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Rule, Static

from studyapp.model import Card
from studyapp.tui.text import line, plain

KIND_NAMES = {"new": "new card", "review": "review", "drill": "again today"}


def card_meta(card: Card, kind: str | None = None) -> Content:
    """One dim line: deck, what kind of card this is in the session, tags, demo link."""
    parts = [card.deck]
    if kind:
        parts.append(KIND_NAMES.get(kind, kind))
    if card.tags:
        parts.append("tags: " + " ".join(card.tags))
    if card.demo is not None:
        parts.append(f"demo: {card.demo.id}")
    if card.suspended:
        parts.append("suspended")
    return line(" · ".join(parts))


class CardView(Vertical):
    """Front, a rule, and the back, which stays hidden until `show(..., revealed=True)`."""

    DEFAULT_CSS = """
    CardView {
        height: auto;
        border: round $primary;
        padding: 0 1;
    }
    CardView > #card-meta { color: $text-muted; }
    CardView > #card-front { text-style: bold; padding: 1 0 0 0; }
    CardView > #card-rule { margin: 0; color: $primary 50%; }
    CardView > #card-back { padding: 0 0 1 0; }
    CardView > .back { display: none; }
    CardView.-revealed > .back { display: block; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="card-meta", markup=False)
        yield Static(id="card-front", markup=False)
        yield Rule(id="card-rule", classes="back")
        yield Static(id="card-back", markup=False, classes="back")

    def show(self, card: Card, revealed: bool, kind: str | None = None) -> None:
        self.query_one("#card-meta", Static).update(card_meta(card, kind))
        self.query_one("#card-front", Static).update(plain(card.front))
        back = card.back if card.back.strip() else "(this card has no back)"
        self.query_one("#card-back", Static).update(plain(back))
        self.set_class(revealed, "-revealed")

    @property
    def revealed(self) -> bool:
        return self.has_class("-revealed")
