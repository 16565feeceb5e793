"""Writing and removing cards and decks in the app: add a card (previewed, with a demo),
delete cards after a confirmation, a deck's options, and preferences kept between runs."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import DataTable, Input, Select, TextArea

from studyapp.db import Store
from studyapp.model import DemoLink
from studyapp.services.cards import CardService
from studyapp.services.decks import DeckService
from studyapp.services.preferences import Preferences, default_path
from studyapp.tui.screens.add_card import AddCardScreen
from studyapp.tui.screens.browse import BrowseScreen
from studyapp.tui.screens.card_detail import CardScreen
from studyapp.tui.screens.confirm import ConfirmScreen
from studyapp.tui.screens.deck_options import DeckOptionsScreen
from studyapp.tui.screens.exporting import ExportScreen
from studyapp.tui.screens.home import HomeScreen
from studyapp.tui.widgets.card_view import CardView
from tests.tui.conftest import settle, text_of
from tests.tui.test_home_browse import rows

BUNDLED_NAME = "Class Thirteen: Optimizers"


def fronts(store: Store, deck: str) -> list[str]:
    return [card.front for card in CardService(store).search(deck=deck)]


# --- adding a card --------------------------------------------------------------------------


async def test_add_a_card_with_a_demo_previewed_then_saved(make_app, store, cards):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("down", "n")  # the selected deck is Optimizers
        screen = app.screen
        assert isinstance(screen, AddCardScreen)
        assert screen.query_one("#add-deck", Input).value == "Optimizers"
        assert screen.focused is screen.query_one("#add-front")
        await pilot.press(*"What does [b]bias[/b] correction fix?")
        await pilot.press("tab", *"Moments that start at zero.")
        screen.query_one("#add-tags", Input).value = "adam, moments"
        screen.query_one("#add-demo", Select).value = "adam_vs_sgd"
        await settle(pilot)
        steps = screen.query_one("#param-rows").query(Input)[4]
        assert steps.param.name == "steps" and steps.value == "400"
        steps.value = "200"
        await settle(pilot)

        preview = screen.query_one("#add-card", CardView)
        assert (str(preview.border_title), str(preview.border_subtitle)) == (
            "Optimizers · new card",
            "tags: adam moments · demo: adam_vs_sgd",
        )
        # Shown as typed, never as markup.
        assert text_of(app, "#add-card #card-front") == "What does [b]bias[/b] correction fix?"
        assert text_of(app, "#add-card #card-back") == "Moments that start at zero."
        demo = text_of(app, "#add-demo-line")
        assert "Demo: Adam vs SGD vs momentum (adam_vs_sgd)." in demo
        assert "steps=200" in demo and "lr_adam=0.1" in demo

        await pilot.press("ctrl+s")
        await settle(pilot)
        added = CardService(store).search("bias")[0]
        assert (added.deck, added.back, added.tags) == (
            "Optimizers",
            "Moments that start at zero.",
            ("adam", "moments"),
        )
        assert added.demo == DemoLink("adam_vs_sgd", {"steps": 200})  # only what differs
        # Ready for the next card: sides cleared, deck, tags and demo kept.
        assert screen.query_one("#add-front", TextArea).text == ""
        assert screen.query_one("#add-tags", Input).value == "adam, moments"
        assert screen.query_one("#add-demo", Select).value == "adam_vs_sgd"
        assert screen.focused is screen.query_one("#add-front")

        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)
        assert rows(app.screen.query_one(DataTable))[1][0:2] == ["Optimizers", "4"]
    assert Preferences().get("add_deck") == "Optimizers"


async def test_a_new_deck_name_makes_the_deck_and_bad_input_is_said(make_app, store, cards):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        screen = app.screen
        await pilot.press("ctrl+s")
        assert text_of(app, "#add-error") == "a card needs a front"
        screen.query_one("#add-deck", Input).value = "Fresh: new deck"
        screen.query_one("#add-front", TextArea).text = "What is a residual connection?"
        screen.query_one("#add-demo", Select).value = "dropout_on_off"
        await settle(pilot)
        screen.query_one("#param-rows").query(Input)[0].value = "7"  # p is at most 0.9
        await settle(pilot)
        assert "must be between" in text_of(app, "#add-demo-line")
        await pilot.press("ctrl+s")
        assert "must be between" in text_of(app, "#add-error")
        assert [d.name for d in DeckService(store).list()] == ["Basics", "Optimizers"]

        screen.query_one("#add-demo", Select).value = ""
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert fronts(store, "Fresh: new deck") == ["What is a residual connection?"]


async def test_trying_the_demo_runs_it_with_the_parameters_typed(make_app, runner, cards):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        screen = app.screen
        assert screen.check_action("try_demo", ()) is False  # no demo picked yet
        screen.query_one("#add-demo", Select).value = "adam_vs_sgd"
        await settle(pilot)
        screen.query_one("#param-rows").query(Input)[4].value = "100"
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert runner.calls[-1][0] == "adam_vs_sgd" and runner.calls[-1][1]["steps"] == 100
        assert "Adam gets the loss down" in text_of(app, "#demo-headline")
        # r would type into the form, whose values are the run's: no key is offered for either.
        assert text_of(app, "#demo-status") == "Seed 0, ran in 1.5 s, with the card's parameters."
        assert not screen.query("#add-demo-panel ParamForm")  # one form: the card's


async def test_a_value_changed_after_trying_the_demo_is_the_one_saved(make_app, store, cards):
    """The demo tried runs the form's values; a value changed after the try is what the card
    keeps (the panel's record of the run it showed does not count)."""
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n", *"What does a longer run show?")
        screen = app.screen
        screen.query_one("#add-demo", Select).value = "adam_vs_sgd"
        await settle(pilot)
        steps = screen.query_one("#param-rows").query(Input)[4]
        steps.value = "100"
        await pilot.press("ctrl+t")
        await settle(pilot)
        steps.value = "200"
        await pilot.press("ctrl+s")
        await settle(pilot)
    added = CardService(store).search("longer run")[0]
    assert added.demo == DemoLink("adam_vs_sgd", {"steps": 200})


async def test_closing_with_a_card_half_typed_asks_first(make_app, store, cards):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n", *"half a question")
        await pilot.press("escape")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert isinstance(app.screen, AddCardScreen)
        await pilot.press("escape", "y")
        assert isinstance(app.screen, HomeScreen)
    assert CardService(store).search("half") == []


# --- deleting cards -------------------------------------------------------------------------


async def test_browse_deletes_the_marked_cards_after_asking(make_app, store, cards, db_backups):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("b", *"deck:optimizers", "enter")
        screen = app.screen
        assert isinstance(screen, BrowseScreen)
        await pilot.press("space", "space")
        assert "2 marked" in text_of(app, "#browse-count")
        assert rows(screen.query_one(DataTable))[0][0].startswith("✓ ")

        await pilot.press("delete")
        assert isinstance(app.screen, ConfirmScreen)
        assert "2 cards of Optimizers" in text_of(app, "#confirm-body")
        await pilot.press("enter")  # the focus is on Cancel: Enter changes nothing
        await settle(pilot)
        assert len(fronts(store, "Optimizers")) == 3 and db_backups() == []

        await pilot.press("delete", "y")
        await settle(pilot)
        assert fronts(store, "Optimizers") == [cards[2].front]
        assert len(db_backups()) == 1
        assert [r[1] for r in rows(screen.query_one(DataTable))] == [cards[2].front]
        assert "1 card" in text_of(app, "#browse-count")


async def test_a_card_deletes_itself_with_its_history(make_app, store, cards):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("r", "space", "4", "q")  # one review of Basics' first card
        with store.reading() as read:
            assert read("SELECT count(*) FROM reviews", {}) == [(1,)]
        await pilot.press("b", *"epoch", "enter", "enter")
        assert isinstance(app.screen, CardScreen)
        await pilot.press("delete")
        assert "What is an epoch?\n(Basics)" in text_of(app, "#confirm-body")
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
    assert fronts(store, "Basics") == ["What is a minibatch?"]
    with store.reading() as read:
        assert read("SELECT count(*) FROM reviews", {}) == [(0,)]


# --- decks ----------------------------------------------------------------------------------


async def test_deck_options_rename_and_set_limits(make_app, store, cards):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("down", "o")
        screen = app.screen
        assert isinstance(screen, DeckOptionsScreen)
        assert "3 cards: 3 new, 0 due today" in text_of(app, "#options-counts")
        screen.query_one("#options-name", Input).value = BUNDLED_NAME
        screen.query_one("#options-new_per_day", Input).value = "lots"
        await pilot.press("ctrl+s")
        assert "new cards a day must be a whole number" in text_of(app, "#options-error")
        assert [d.name for d in DeckService(store).list()] == ["Basics", "Optimizers"]

        screen.query_one("#options-new_per_day", Input).value = "5"
        screen.query_one("#options-day_start_hour", Input).value = "0"
        assert screen.query_one("#options-desired_retention", Input).value == "0.90"
        screen.query_one("#options-scheduler", Select).value = "fsrs"
        screen.query_one("#options-desired_retention", Input).value = "0.5"
        await pilot.press("ctrl+s")
        assert "desired retention is a probability from 0.70 to 0.97, not 0.5" in text_of(
            app, "#options-error"
        )
        assert DeckService(store).get("Optimizers").settings.scheduler == "sm2"

        screen.query_one("#options-desired_retention", Input).value = "0.85"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        table = app.screen.query_one(DataTable)
        assert rows(table)[table.cursor_row][0] == BUNDLED_NAME  # the cursor follows it
        notes = [str(n.message) for n in app._notifications]
        assert any(f"{BUNDLED_NAME} now schedules with FSRS (0 reviewed cards" in n for n in notes)
    settings = DeckService(store).get(BUNDLED_NAME).settings
    assert (settings.new_per_day, settings.day_start_hour) == (5, 0)
    assert (settings.scheduler, settings.desired_retention) == ("fsrs", 0.85)


async def test_a_new_deck_and_a_deleted_deck(make_app, store, cards, db_backups):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, DeckOptionsScreen) and screen.is_new
        screen.query_one("#options-name", Input).value = "Basics"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert text_of(app, "#options-error") == "there is already a deck named 'Basics'"
        screen.query_one("#options-name", Input).value = "Papers"
        screen.query_one("#options-reviews_per_day", Input).value = "50"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert DeckService(store).get("Papers").settings.reviews_per_day == 50

        await pilot.press("up", "up", "o", "ctrl+delete")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Delete Basics with its 2 cards" in text_of(app, "#confirm-body")
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert [r[0] for r in rows(app.screen.query_one(DataTable))] == [
            "Optimizers",
            "Papers",
            "All decks",
        ]
    assert len(db_backups()) == 1


async def test_options_on_all_decks_says_to_pick_one(make_app, cards):
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "o")
        assert isinstance(app.screen, HomeScreen)
        notes = [n.message for n in app._notifications]
        assert "Pick a deck in the list: options are per deck." in notes


# --- preferences ----------------------------------------------------------------------------


async def test_the_theme_is_kept_from_one_run_to_the_next(make_app, cards):
    async with make_app().run_test() as pilot:
        await settle(pilot)
        pilot.app.theme = "textual-light"
        await settle(pilot)
    assert json.loads(default_path().read_text())["theme"] == "textual-light"
    async with make_app().run_test() as pilot:
        await settle(pilot)
        assert pilot.app.theme == "textual-light"


async def test_a_broken_preferences_file_is_said_and_the_defaults_used(make_app, cards):
    default_path().parent.mkdir(parents=True)
    default_path().write_text('{"theme": "textual-light",')
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark"
        notes = [n.message for n in app._notifications]
        assert any("settings.json is not valid JSON" in note for note in notes)
        app.theme = "nord"
        await settle(pilot)
    assert json.loads(default_path().read_text()) == {"theme": "nord"}


async def test_a_theme_that_is_gone_is_said(make_app, cards):
    Preferences().set("theme", "no-such-theme")
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        notes = [n.message for n in app._notifications]
        assert any("'no-such-theme' you chose last time is not available" in n for n in notes)


# --- export ---------------------------------------------------------------------------------


async def export_in_app(pilot, fmt: str, path: Path) -> ExportScreen:  # type: ignore[no-untyped-def]
    """Open the export screen, pick `fmt`, type `path` and press ctrl+s."""
    await settle(pilot)
    await pilot.press("x")
    screen = pilot.app.screen
    assert isinstance(screen, ExportScreen)
    screen.query_one("#export-format", Select).value = fmt
    await pilot.pause()
    screen.query_one("#export-path", Input).value = str(path)
    await pilot.press("ctrl+s")
    await settle(pilot)
    return screen


async def test_all_decks_as_markdown_go_into_a_folder_typed_in_the_app(
    make_app, store, cards, tmp_path
):
    folder = tmp_path / "decks"
    app = make_app(library=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        screen.query_one("#export-format", Select).value = "md"
        await pilot.pause()
        assert "one .md file per deck" in str(screen.query_one("#export-path-label").render())
        screen.query_one("#export-path", Input).value = str(folder)
        await pilot.press("ctrl+s")
        await settle(pilot)
        result = text_of(app, "#export-result")
        assert "--" not in result  # no command-line flags
        assert result.startswith("Wrote 2 files (") and "basics.md, optimizers.md" in result
    assert sorted(p.name for p in folder.iterdir()) == ["basics.md", "optimizers.md"]
    assert (folder / "basics.md").read_text().startswith("# Basics\n")
    assert Preferences().get("export_format") == "md"
    assert Path(Preferences().get("export_folder")) == tmp_path.resolve()


async def test_a_backup_written_into_a_folder_is_suggested_there_next_time(
    make_app, store, cards, tmp_path
):
    folder = tmp_path / "exports"
    folder.mkdir()
    app = make_app(library=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await export_in_app(pilot, "json", folder)
        assert [p.name for p in folder.iterdir()] == ["collection.json"]
        await pilot.press("escape", "x")
        await settle(pilot)
        suggested = app.screen.query_one("#export-path", Input).value
    assert Path(Preferences().get("export_folder")) == folder.resolve()
    assert Path(suggested).parent == folder.resolve()


async def test_an_export_over_a_file_that_is_there_asks_first(make_app, store, cards, tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("my notes")
    app = make_app(library=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await export_in_app(pilot, "json", target)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert target.read_text() == "my notes"
        assert text_of(app, "#export-result") == f"Nothing was written: {target} is as it was."
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert text_of(app, "#export-result").startswith("Wrote ")
    assert target.read_text().startswith("{")


async def test_a_card_deleted_from_browse_over_the_review_leaves_the_review(make_app, store, cards):
    app = make_app(start="review", deck="Basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        shown = app.screen.session.current
        await app.run_action("open('browse')")  # the palette's "Browse cards"
        await settle(pilot)
        app.screen.query_one(Input).value = f'"{shown.front}"'
        await pilot.press("enter", "delete", "y")
        await settle(pilot)
        await pilot.press("escape")
        assert app.screen.session.current.front != shown.front
        await pilot.press("space", "4")
        await settle(pilot)
        assert not [n for n in app._notifications if n.severity == "error"]
    assert len(CardService(store).search(deck="Basics")) == 1
