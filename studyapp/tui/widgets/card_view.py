"""A card on screen: its front, and its back once revealed.

Card text is data: `plain` shows `w[i]`, `[/]` or `[bold]` as typed and control characters
as `\\x1b`, so a card can neither style the screen nor send the terminal escape sequences.

Where the card comes from (deck, its kind in the session) is the border's title and its tags
and demo link the border's subtitle, so the card costs no row beyond its text: at 80x24 the
front stays on screen with a demo's result under it. Lines stop at a readable width however
wide the terminal.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Rule, Static

from studyapp.model import Card
from studyapp.terminal import one_line
from studyapp.tui.text import line, plain

KIND_NAMES = {
    "new": "new card",
    "review": "review",
    "drill": "learning",
    "early": "review ahead",
}


def card_title(card: Card, kind: str | None = None) -> str:
    """Deck, then what kind of card this is in the session (and whether it is suspended)."""
    parts = [card.deck]
    if kind:
        parts.append(KIND_NAMES.get(kind, kind))
    if card.suspended:
        parts.append("suspended")
    return one_line(" · ".join(parts))


def card_subtitle(card: Card) -> str:
    """Tags and the demo link."""
    parts = []
    if card.tags:
        parts.append("tags: " + " ".join(card.tags))
    if card.demo is not None:
        parts.append(f"demo: {card.demo.id}")
    return one_line(" · ".join(parts))


class CardView(Vertical):
    """Front, a rule, and the back, which stays hidden until `show(..., revealed=True)`."""

    DEFAULT_CSS = """
    CardView {
        height: auto;
        max-width: 88;
        border: round $primary;
        border-title-color: $text-muted;
        border-subtitle-color: $text-muted;
        padding: 0 1;
    }
    CardView > #card-front { text-style: bold; }
    CardView > #card-rule { margin: 0; color: $primary 50%; }
    CardView > .back { display: none; }
    CardView.-revealed > .back { display: block; }
    CardView.-revealed.-folded > .back { display: none; }
    """

    FOLDED = "answer folded while the demo is open · d closes it"
    _subtitle: Content | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="card-front", markup=False)
        yield Rule(id="card-rule", classes="back")
        yield Static(id="card-back", markup=False, classes="back")

    def show(self, card: Card, revealed: bool, kind: str | None = None) -> None:
        self.border_title = line(card_title(card, kind))  # Content: data, never markup
        self._subtitle = line(card_subtitle(card))
        self.border_subtitle = self.FOLDED if self.folded and revealed else self._subtitle
        self.query_one("#card-front", Static).update(plain(card.front))
        back = card.back if card.back.strip() else "(this card has no back)"
        self.query_one("#card-back", Static).update(plain(back))
        self.set_class(revealed, "-revealed")

    @property
    def revealed(self) -> bool:
        return self.has_class("-revealed")

    @property
    def folded(self) -> bool:
        return self.has_class("-folded")

    def fold(self, folded: bool) -> None:
        """Show the front only (the demo needs the rows), saying so on the border."""
        self.set_class(folded, "-folded")
        self.border_subtitle = self.FOLDED if folded and self.revealed else self._subtitle
