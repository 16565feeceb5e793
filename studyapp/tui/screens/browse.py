"""Browse: search cards by text and `tag:` tokens, see when each is due, open one to edit it."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from studyapp.errors import UserError
from studyapp.model import Card
from studyapp.services.cards import SEARCH_LIMIT
from studyapp.terminal import visible
from studyapp.tui.context import Services
from studyapp.tui.screens.card_detail import CardScreen
from studyapp.tui.text import cell

DECK_WIDTH = 12
MIN_FRONT_WIDTH = 16
OTHER_COLUMNS = DECK_WIDTH + 10 + 4 + 5 + 6 + 4 + 7 * 2 + 4  # widths, padding, margins


def parse_query(text: str) -> tuple[str, list[str], str | None]:
    """Split a search into free text, `tag:NAME` tokens and an optional `deck:NAME`."""
    words: list[str] = []
    tags: list[str] = []
    deck: str | None = None
    for token in text.split():
        lowered = token.lower()
        if lowered.startswith("tag:") and len(token) > 4:
            tags.append(token[4:])
        elif lowered.startswith("deck:") and len(token) > 5:
            deck = token[5:]
        else:
            words.append(token)
    return " ".join(words), tags, deck


def clip(text: str, width: int) -> str:
    line = visible(" ".join(text.split()))  # clipped as it is shown
    return line if len(line) <= width else line[: width - 1] + "…"


def card_row(card: Card, front_width: int) -> list[Text]:
    state = card.state
    return [
        cell(clip(card.deck, DECK_WIDTH)),
        cell(clip(card.front, front_width)),
        Text(state.due.isoformat() if state.due else "new"),
        Text(f"{state.ease:.2f}", justify="right"),
        Text(f"{state.interval}d", justify="right"),
        Text(str(state.lapses), justify="right"),
        Text("yes" if card.suspended else ""),
    ]


class BrowseScreen(Screen[None]):
    AUTO_FOCUS = "#browse-search"
    BINDINGS = [
        Binding("enter", "open_card", "Open card", id="browse.open"),
        Binding("slash", "focus_search", "Search", id="browse.search"),
        Binding("escape", "back", "Back", id="browse.back"),
    ]

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="Search: words, tag:NAME, deck:NAME (Enter goes to the list)",
            id="browse-search",
        )
        yield Static(id="browse-count")
        yield DataTable(id="browse-cards", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label in ("Deck", "Front", "Due", "Ease", "Ivl", "Lapses", "Susp"):
            table.add_column(label, key=label.lower())
        self.search()

    def on_screen_resume(self) -> None:
        self.search()

    def on_resize(self) -> None:
        self.search()

    def search(self) -> None:
        text, tags, deck = parse_query(self.query_one("#browse-search", Input).value)
        try:
            cards = self.services.cards.search(text, tags, deck)
        except UserError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        front_width = max(MIN_FRONT_WIDTH, self.size.width - OTHER_COLUMNS)
        for card in cards:
            table.add_row(*card_row(card, front_width), key=str(card.id))
        if cards:
            table.move_cursor(row=min(row, len(cards) - 1))
        count = f"{len(cards)} card{'s' if len(cards) != 1 else ''}"
        if len(cards) >= SEARCH_LIMIT:
            count = f"the first {SEARCH_LIMIT} cards; narrow the search to see others"
        self.query_one("#browse-count", Static).update(Content(count))

    @on(Input.Changed, "#browse-search")
    def _search_changed(self) -> None:
        self.search()

    @on(Input.Submitted, "#browse-search")
    def _search_submitted(self) -> None:
        self.query_one(DataTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.app.push_screen(CardScreen(self.services, int(event.row_key.value)))

    def action_open_card(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            if key is not None:
                self.app.push_screen(CardScreen(self.services, int(key)))

    def action_focus_search(self) -> None:
        self.query_one("#browse-search", Input).focus()

    def action_back(self) -> None:
        self.app.pop_screen()
