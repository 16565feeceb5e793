"""Home: the decks with what today's review holds (new, due, learning), today's progress and
streak.

New and due are what a review started now would show, within each deck's daily limits, so
the numbers here are the numbers the review's header starts from; unseen counts every card
not yet studied.

One key starts a review of the selected deck (or of all decks); the others lead to browse,
stats, the predictions drill, import and export. Counts are read again whenever the screen
comes back into view, and every few seconds while a database server cannot be reached.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from studyapp.errors import NoSuchDeckError, UserError
from studyapp.model import DeckCounts
from studyapp.services.overview import Today
from studyapp.tui.context import Services
from studyapp.tui.messages import StartReview
from studyapp.tui.text import cell, clip

ALL_DECKS = "all"
KEYS_LINE = Content.assemble(
    ("p", "bold"),
    " predictions · ",
    ("o", "bold"),
    " deck options · ",
    ("c", "bold"),
    " new deck · ",
    ("i", "bold"),
    " import · ",
    ("x", "bold"),
    " export",
)  # `?` is in the footer
RETRY_S = 3.0  # how soon counts that could not be read are read again
COUNTS = ("New", "Due", "Learning", "Unseen", "Total")
MIN_NAME_WIDTH = 16  # a deck name is cut to fit beside the counts, never shorter than this
TABLE_EDGES = 2 + 2 + 2  # the table's margins, the name column's padding, a scrollbar


def today_line(reviewed: int, streak: int, due: int, new: int, learning: int) -> Content:
    days = "day" if streak == 1 else "days"
    return Content.assemble(
        ("Today ", "bold"),
        f"{reviewed} reviewed · streak {streak} {days} · ",
        (f"{due} due", "bold"),
        f" · {new} new · {learning} learning",
    )


class HomeScreen(Screen[None]):
    AUTO_FOCUS = "#home-decks"
    BINDINGS = [
        Binding("r,enter", "review_selected", "Review", id="home.review"),
        Binding("a", "review_all", "Review all", id="home.review_all"),
        Binding("n", "add_card", "Add card", id="home.add"),
        Binding("b", "app.open('browse')", "Browse", id="home.browse"),
        Binding("t", "app.open('stats')", "Stats", id="home.stats"),
        # Listed under the decks (KEYS_LINE) rather than in the footer, which 80 columns fill.
        Binding(
            "p", "app.open('predictions')", "Predictions drill", show=False, id="home.predictions"
        ),
        Binding("o", "deck_options", "Deck options", show=False, id="home.options"),
        Binding("c", "new_deck", "New deck", show=False, id="home.new_deck"),
        Binding("i", "app.open('import')", "Import", show=False, id="home.import"),
        Binding("x", "app.open('export')", "Export", show=False, id="home.export"),
        Binding("q", "app.quit", "Quit", id="home.quit"),
    ]

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self._rows: dict[str, str | None] = {}
        self._failure: str | None = None
        self._shown: tuple[list[DeckCounts], Today] | None = None  # the last counts read

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="home-today")
        yield DataTable(id="home-decks", cursor_type="row", zebra_stripes=True)
        yield Static(
            Content(
                "No cards yet. Press n to add a card, c to make a deck, or i to import one "
                "(CSV, Anki, JSON, Markdown)."
            ),
            id="home-empty",
        )
        yield Static(KEYS_LINE, id="home-keys")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._add_columns(self.query_one(DataTable))

    @staticmethod
    def _add_columns(table: DataTable[Any]) -> None:
        table.add_column("Deck", key="deck")
        for label in COUNTS:
            table.add_column(label, key=label.lower())

    def on_screen_resume(self) -> None:
        # Resumed on the first show and on every return from another screen; when the app
        # opens straight into a review, home is resumed under it and need not count yet.
        if self.app.screen is self:
            self.refresh_counts()

    def refresh_counts(self, select: str | None = None) -> None:
        """Read the counts again; the cursor stays on the deck it was on (or goes to
        `select`)."""
        try:
            counts, progress = self.services.overview()
        except UserError as exc:  # a server out of reach: the counts shown stay
            if exc.message != self._failure:  # said once, however often home comes back
                self.notify(exc.message, severity="error", markup=False)
            self._failure = exc.message
            if not self._rows:  # nothing read yet: not "no cards", but "cannot tell"
                self.query_one("#home-empty").display = False
                self.query_one("#home-today", Static).update(
                    Content("The collection cannot be read just now; trying again.")
                )
            self.set_timer(RETRY_S, self._retry)
            return
        self._failure = None
        self._shown = (counts, progress)
        self._show(counts, progress, select)

    def _show(self, counts: list[DeckCounts], progress: Today, select: str | None) -> None:
        table = self.query_one(DataTable)
        selected = table.cursor_row
        wanted = select or (self.selected_deck() if self._rows else None)
        names = [deck.name for deck in counts]
        if wanted in names:
            selected = names.index(wanted)
        table.clear(columns=True)  # a column keeps the width of its widest cell ever
        self._add_columns(table)
        self._rows = {}
        new = sum(c.new for c in counts)
        due = sum(c.due for c in counts)
        learning = sum(c.learning for c in counts)
        unseen = sum(c.unseen for c in counts)
        total = sum(c.total for c in counts)
        name_width = self._name_width((new, due, learning, unseen, total))
        for i, deck in enumerate(counts):
            key = f"deck-{i}"
            self._rows[key] = deck.name
            table.add_row(
                cell(clip(deck.name, name_width)),
                *_numbers(deck.new, deck.due, deck.learning, deck.unseen, deck.total),
                key=key,
            )
        if counts:
            self._rows[ALL_DECKS] = None
            table.add_row(
                Text("All decks", style="bold"),
                *_numbers(new, due, learning, unseen, total),
                key=ALL_DECKS,
            )
            table.move_cursor(row=min(selected, table.row_count - 1))
        table.display = bool(counts)
        self.query_one("#home-empty").display = not counts
        self.query_one("#home-today", Static).update(
            today_line(progress.reviewed, progress.streak, due, new, learning)
        )

    def _name_width(self, totals: tuple[int, ...]) -> int:
        """How much of a deck's name fits beside the counts (the totals are the widest):
        a long name is cut, so the counts stay on screen at any width."""
        counts = sum(
            max(len(label), len(f"{n}")) + 2 for label, n in zip(COUNTS, totals, strict=True)
        )
        return max(MIN_NAME_WIDTH, self.size.width - counts - TABLE_EDGES)

    def on_resize(self) -> None:
        if self._shown is not None:
            self._show(*self._shown, None)  # the names cut to the new width; no new read

    def _retry(self) -> None:
        if self._failure is not None and self.app.screen is self:
            self.refresh_counts()

    def selected_deck(self) -> str | None:
        table = self.query_one(DataTable)
        if not self._rows:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self._rows.get(key or ALL_DECKS)

    def action_review_selected(self) -> None:
        if self._rows:
            self.post_message(StartReview(self.selected_deck()))

    def action_review_all(self) -> None:
        if self._rows:
            self.post_message(StartReview(None))

    def action_add_card(self) -> None:
        from studyapp.tui.screens.add_card import AddCardScreen

        self.app.push_screen(AddCardScreen(self.services, self.selected_deck()))

    def action_deck_options(self) -> None:
        deck = self.selected_deck()
        if deck is None:
            message = (
                "Pick a deck in the list: options are per deck."
                if self._rows
                else ("There is no deck yet: c makes one.")
            )
            self.notify(message, markup=False)
            return
        self._open_options(deck)

    def action_new_deck(self) -> None:
        self._open_options(None)

    def _open_options(self, deck: str | None) -> None:
        from studyapp.tui.screens.deck_options import DeckOptionsScreen

        try:
            screen = DeckOptionsScreen(self.services, deck)
        except NoSuchDeckError as exc:
            self.app.deck_gone(exc)  # type: ignore[attr-defined]
            return
        except UserError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        self.app.push_screen(screen, callback=self._options_closed)

    def _options_closed(self, deck: str | None) -> None:
        if deck is not None:
            self.refresh_counts(select=deck)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.post_message(StartReview(self._rows.get(event.row_key.value or ALL_DECKS)))


def _numbers(*values: int) -> list[Text]:
    return [Text(str(v), justify="right") for v in values]
