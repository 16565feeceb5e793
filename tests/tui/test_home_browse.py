"""Home (decks and today's counts) and browse (search, open, edit, suspend, history)."""

from __future__ import annotations

from textual.widgets import DataTable, Footer, Input, TextArea

from studyapp.services.cards import CardService
from studyapp.services.decks import DeckService
from studyapp.tui.screens.browse import BrowseScreen
from studyapp.tui.screens.card_detail import CardScreen
from studyapp.tui.screens.card_editor import CardEditor
from studyapp.tui.screens.home import HomeScreen
from studyapp.tui.screens.review import ReviewScreen
from tests.tui.conftest import LITERAL_FRONT, fixed_clock, settle, text_of


def rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_home_lists_decks_with_counts_and_starts_reviews(make_app, cards):
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        table = app.screen.query_one(DataTable)
        assert rows(table) == [
            ["Basics", "2", "0", "0", "2", "2"],
            ["Optimizers", "3", "0", "0", "3", "3"],
            ["All decks", "5", "0", "0", "5", "5"],
        ]
        assert "0 reviewed" in text_of(app, "#home-today")

        await pilot.press("down", "r")
        assert isinstance(app.screen, ReviewScreen) and app.screen.deck == "Optimizers"
        await pilot.press("space", "4", "q")
        assert isinstance(app.screen, HomeScreen)
        assert rows(table)[1] == ["Optimizers", "2", "0", "0", "2", "3"]
        assert "1 reviewed" in text_of(app, "#home-today")

        await pilot.press("down", "enter")
        assert isinstance(app.screen, ReviewScreen) and app.screen.deck is None


LONG_DECK = "Deep Learning::Part II Modern Practical Deep Networks::Chapter 8 Optimization"


async def test_a_long_deck_name_is_cut_so_the_counts_stay_on_screen(make_app, store, cards):
    DeckService(store).rename("Basics", LONG_DECK)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        assert table.virtual_size.width <= table.size.width  # nothing off to the side
        name, *numbers = rows(table)[0]
        assert numbers == ["2", "0", "0", "2", "2"]
        assert name.endswith("…") and LONG_DECK.startswith(name[:-1]) and len(name) > 30
        await pilot.press("enter")  # the whole name is still the deck's
        assert isinstance(app.screen, ReviewScreen) and app.screen.deck == LONG_DECK
        await pilot.press("q")
        await pilot.resize_terminal(140, 24)
        await settle(pilot)
        assert rows(table)[0][0] == LONG_DECK  # room for all of it now
        await pilot.resize_terminal(60, 24)
        await settle(pilot)
        assert table.virtual_size.width <= table.size.width
        assert rows(table)[0][1:] == ["2", "0", "0", "2", "2"]


async def test_a_long_name_in_wide_characters_is_cut_by_the_cells_it_takes(make_app, store, cards):
    """A CJK character takes two cells: cut by characters, such a name ran past the edge."""
    wide = "深層学習::第二部 現代的な実用的深層ネットワーク::第八章 深層モデルの訓練のための最適化"
    DeckService(store).rename("Basics", wide)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        assert table.virtual_size.width <= table.size.width
        (name, *numbers), *_ = (row for row in rows(table) if row[0].startswith("深"))
        assert numbers == ["2", "0", "0", "2", "2"]
        assert name.endswith("…") and wide.startswith(name[:-1])


async def test_q_backs_out_of_a_review_and_quits_from_home(make_app, cards):
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("a")
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("q")
        assert isinstance(app.screen, HomeScreen) and app.is_running
        await pilot.press("q")
        await settle(pilot)
        assert not app.is_running


async def test_an_empty_collection_says_how_to_get_cards(make_app):
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        assert "Press n to add a card, c to make a deck, or i to import one" in text_of(
            app, "#home-empty"
        )
        await pilot.press("r", "a")
        assert isinstance(app.screen, HomeScreen)


async def test_browse_searches_by_text_and_tag(make_app, cards):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        screen = app.screen
        assert isinstance(screen, BrowseScreen)
        table = screen.query_one(DataTable)
        assert table.row_count == 5
        assert LITERAL_FRONT in [r[1] for r in rows(table)]  # shown as typed, in full at 100

        await pilot.press(*"tag:adam")
        assert [r[1] for r in rows(table)] == [cards[0].front]
        screen.query_one(Input).value = "epoch"
        await pilot.pause()
        assert [r[1] for r in rows(table)] == ["What is an epoch?"]
        assert rows(table)[0][2] == "new"
        assert "1 card" in text_of(app, "#browse-count")


async def test_browse_on_a_narrow_screen_drops_columns_instead_of_running_off_it(
    make_app, store, cards
):
    """Below 80 columns the least needed columns go (lapses first); a suspended card still
    says so in its Due column once Susp has gone."""
    service = CardService(store, fixed_clock)
    service.set_suspended(cards[0].id, True)
    app = make_app()
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        table = app.screen.query_one(DataTable)
        labels = [str(column.label) for column in table.columns.values()]
        assert labels == ["Deck", "Front", "Due", "Ease", "Ivl", "Lapses", "Susp"]
        for width, kept in ((72, 6), (64, 5), (56, 4), (50, 3)):
            await pilot.resize_terminal(width, 24)
            await settle(pilot)
            assert len(table.columns) == kept
            assert table.virtual_size.width <= table.size.width  # nothing off to the side
        assert [str(column.label) for column in table.columns.values()] == ["Deck", "Front", "Due"]
        assert "suspended" in [row[2] for row in rows(table)]
        await pilot.resize_terminal(100, 24)
        await settle(pilot)
        assert len(table.columns) == 7 and "yes" in [row[6] for row in rows(table)]


async def test_down_from_the_search_goes_to_the_cards_found(make_app, cards):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("b", *"what")
        screen = app.screen
        table = screen.query_one(DataTable)
        assert screen.focused is screen.query_one(Input)
        footer = [key.description for key in screen.query_one(Footer).query("FooterKey")]
        assert footer[0] == "Results"
        await pilot.press("down", "space")  # into the list, then mark the first card
        assert screen.focused is table
        assert "1 marked" in text_of(app, "#browse-count")
        assert screen.query_one(Input).value == "what"

        await pilot.press("slash", *"zzz")
        assert table.row_count == 0
        assert not screen.check_action("focus_results", ())  # nothing to go down to
        await pilot.press("down")
        assert screen.focused is screen.query_one(Input)


async def test_open_a_card_edit_it_suspend_it_and_see_its_history(make_app, store, cards):
    service = CardService(store, fixed_clock)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("r", "space", "4", "q")  # Basics: one review of "What is an epoch?"
        await pilot.press("b", *"epoch", "enter", "enter")
        screen = app.screen
        assert isinstance(screen, CardScreen)
        history = rows(screen.query_one(DataTable))
        assert history[0][:3] == ["2025-03-10", "4 Mostly", "new"]
        assert "due 2025-03-11" in text_of(app, "#card-state")

        await pilot.press("s")
        assert service.detail(cards[3].id).card.suspended
        assert "SUSPENDED" in text_of(app, "#card-state")
        await pilot.press("s")
        assert not service.detail(cards[3].id).card.suspended

        await pilot.press("e")
        assert isinstance(app.screen, CardEditor)
        app.screen.query_one("#editor-back", TextArea).text = "One full pass over the data."
        await pilot.press("ctrl+s")
        assert service.detail(cards[3].id).card.back == "One full pass over the data."
        assert text_of(app, "#card-back") == "One full pass over the data."

        await pilot.press("escape")
        assert isinstance(app.screen, BrowseScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)
