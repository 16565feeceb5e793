"""Browse: find cards with the query language (`studyapp.services.query`), see when each is
due, open one to edit it, mark some and delete them, or add a card."""

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
from studyapp.services.cards import SEARCH_LIMIT, Deleted
from studyapp.services.query import parse_query
from studyapp.tui.context import Services
from studyapp.tui.deleting import delete_cards
from studyapp.tui.screens.card_detail import CardScreen
from studyapp.tui.text import cell, clip, plain

DECK_WIDTH = 12
MIN_FRONT_WIDTH = 16
# Each column's label and the width of its widest value (the front's is what is left).
COLUMNS = (
    ("Deck", DECK_WIDTH),
    ("Front", 0),
    ("Due", 10),
    ("Ease", 4),
    ("Ivl", 6),
    ("Lapses", 6),
    ("Susp", 4),
)
DROPPED_FIRST = ("lapses", "ivl", "ease", "susp")  # on a narrow screen, in this order
PADDING = 2  # a column's cell padding
EDGES = 4  # the table's scrollbar and the screen's margins
MARK = "✓ "  # before the deck of a marked card


def columns_for(width: int) -> tuple[list[str], int]:
    """The columns shown on a screen `width` cells wide and the front's width: on a narrow
    screen the least needed columns go, so the rest stay on it."""
    keys = [label.lower() for label, _ in COLUMNS]
    sizes = {label.lower(): size + PADDING for label, size in COLUMNS}

    def room(shown: list[str]) -> int:
        return width - EDGES - sum(sizes[key] for key in shown)

    for key in DROPPED_FIRST:
        if room(keys) >= MIN_FRONT_WIDTH:
            break
        keys.remove(key)
    return keys, max(MIN_FRONT_WIDTH, room(keys))


def deck_cell(card: Card, marked: bool) -> Text:
    if marked:
        return Text(MARK, style="bold") + cell(clip(card.deck, DECK_WIDTH - len(MARK)))
    return cell(clip(card.deck, DECK_WIDTH))


def card_row(card: Card, front_width: int, marked: bool = False) -> dict[str, Text]:
    """The card's cells, by column key."""
    state = card.state
    return {
        "deck": deck_cell(card, marked),
        "front": cell(clip(card.front, front_width)),
        "due": Text(state.due.isoformat() if state.due else "new"),
        "ease": Text(f"{state.ease:.2f}", justify="right"),
        "ivl": Text(f"{state.interval}d", justify="right"),
        "lapses": Text(str(state.lapses), justify="right"),
        "susp": Text("yes" if card.suspended else ""),
    }


class SearchField(Input):
    """The search: down leaves it for the cards it found."""

    BINDINGS = [Binding("down", "screen.focus_results", "Results", id="browse.results")]


class BrowseScreen(Screen[None]):
    AUTO_FOCUS = "#browse-search"
    BINDINGS = [
        Binding("enter", "open_card", "Open card", id="browse.open"),
        Binding("space", "mark", "Mark", id="browse.mark"),
        Binding("delete", "delete", "Delete", id="browse.delete"),
        Binding("ctrl+n", "add_card", "Add card", id="browse.add"),
        Binding("slash", "focus_search", "Search", id="browse.search"),
        Binding("escape", "back", "Back", id="browse.back"),
    ]

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.cards: dict[int, Card] = {}  # the cards listed, by id
        self.marked: set[int] = set()

    def compose(self) -> ComposeResult:
        yield SearchField(
            placeholder='Search: words, "a phrase", tag:NAME, deck:"NAME", is:due|new|suspended',
            id="browse-search",
        )
        yield Static(id="browse-count")
        yield DataTable(id="browse-cards", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.search()

    def on_screen_resume(self) -> None:
        self.search()

    def on_resize(self) -> None:
        self.search()

    def search(self) -> None:
        count = self.query_one("#browse-count", Static)
        try:
            query = parse_query(self.query_one("#browse-search", Input).value)
            cards = self.services.cards.find(query)
        except UserError as exc:
            count.update(plain(exc.message).stylize("$text-error"))
            return
        table = self.query_one(DataTable)
        row = table.cursor_row
        shown, front_width = columns_for(self.size.width)
        if [key.value for key in table.columns] != shown:
            table.clear(columns=True)
            for label, _ in COLUMNS:
                if label.lower() in shown:
                    table.add_column(label, key=label.lower())
        else:
            table.clear()
        self.cards = {card.id: card for card in cards}
        self.marked &= set(self.cards)
        for card in cards:
            cells = card_row(card, front_width, card.id in self.marked)
            if card.suspended and "susp" not in shown:
                cells["due"] = Text("suspended")  # its column gone, the card still says so
            table.add_row(*(cells[key] for key in shown), key=str(card.id))
        if cards:
            table.move_cursor(row=min(row, len(cards) - 1))
        self._show_count()

    def _show_count(self) -> None:
        n = len(self.cards)
        count = f"{n} card{'s' if n != 1 else ''}"
        if n >= SEARCH_LIMIT:
            count = f"the first {SEARCH_LIMIT} cards; narrow the search to see others"
        if self.marked:
            count += f" · {len(self.marked)} marked (delete deletes them)"
        self.query_one("#browse-count", Static).update(Content(count))

    def current_card(self) -> Card | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.cards.get(int(key)) if key is not None else None

    @on(Input.Changed, "#browse-search")
    def _search_changed(self) -> None:
        self.search()
        self.refresh_bindings()  # down leads to the cards only when some were found

    @on(Input.Submitted, "#browse-search")
    def _search_submitted(self) -> None:
        self.query_one(DataTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.app.push_screen(CardScreen(self.services, int(event.row_key.value)))

    def action_open_card(self) -> None:
        card = self.current_card()
        if card is not None:
            self.app.push_screen(CardScreen(self.services, card.id))

    def action_mark(self) -> None:
        """Mark the card under the cursor (or unmark it), and go down to the next."""
        card = self.current_card()
        if card is None:
            return
        self.marked ^= {card.id}
        table = self.query_one(DataTable)
        table.update_cell(
            str(card.id), "deck", deck_cell(card, card.id in self.marked), update_width=True
        )
        table.action_cursor_down()
        self._show_count()

    def action_delete(self) -> None:
        chosen = [self.cards[i] for i in self.cards if i in self.marked]
        if not chosen:
            card = self.current_card()
            chosen = [card] if card is not None else []
        if chosen:
            delete_cards(self, self.services, chosen, then=self._deleted)

    def _deleted(self, deleted: Deleted) -> None:
        self.marked -= {card.id for card in deleted.cards}
        self.search()

    def action_add_card(self) -> None:
        from studyapp.tui.screens.add_card import AddCardScreen

        card = self.current_card()
        self.app.push_screen(AddCardScreen(self.services, card.deck if card else None))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        in_search = isinstance(self.focused, Input)
        if action == "focus_results":  # from the search field down into the cards found
            return in_search and bool(self.cards)
        # In the search field, space and delete are typing.
        return not (action in ("mark", "delete") and in_search)

    def action_focus_results(self) -> None:
        self.query_one(DataTable).focus()

    def action_focus_search(self) -> None:
        self.query_one("#browse-search", Input).focus()

    def action_back(self) -> None:
        self.app.pop_screen()
