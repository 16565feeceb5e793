"""Help lists every key of the screen it was opened on; the palette runs the same actions."""

from __future__ import annotations

from textual.widgets import DataTable, Footer

from studyapp.tui.commands import ScreenCommands
from studyapp.tui.screens.browse import BrowseScreen
from studyapp.tui.screens.help import HelpScreen
from studyapp.tui.screens.home import HomeScreen
from studyapp.tui.screens.review import ReviewScreen
from tests.tui.conftest import review_count, settle


def help_rows(app) -> dict[str, str]:
    table = app.screen.query_one(DataTable)
    cells = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
    return {does: keys for keys, does in cells}


async def test_help_on_review_lists_its_keys_including_undo(make_app, cards):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        rows = help_rows(app)
        assert rows["Undo"] == "u / ^z"
        assert rows["Show answer"] == "space / ⏎"
        assert rows["Rate 1 Not at all"] == "1" and rows["Rate 5 Perfectly"] == "5"
        for does in ("Edit", "Suspend", "Bury", "Demo", "Re-run demo, new seed", "Home", "Quit"):
            assert does in rows
        await pilot.press("escape")
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("4")  # help closed; a rating before the reveal still does nothing
        assert review_count(app.services.store) == 0


async def test_help_follows_the_screen(make_app, cards):
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        rows = help_rows(app)
        assert {"Review", "Review all", "Browse", "Stats", "Import", "Export"} <= set(rows)
        assert "Undo" not in rows
        await pilot.press("question_mark")
        assert isinstance(app.screen, HomeScreen)


async def test_the_palette_offers_the_screens_actions_and_places(make_app, cards):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("space")
        provider = ScreenCommands(app.screen)
        hits = [hit async for hit in provider.discover()]
        titles = [hit.text for hit in hits]
        assert "Rate 4 Mostly" in titles and "Browse cards" in titles
        assert "Show answer" not in titles  # already revealed: not on offer

        rate = next(hit for hit in hits if hit.text == "Rate 4 Mostly")
        await rate.command()
        assert review_count(app.services.store) == 1

        found = [hit async for hit in provider.search("browse")]
        await found[0].command()
        await pilot.pause()
        assert isinstance(app.screen, BrowseScreen)


async def test_ctrl_p_opens_the_command_palette(make_app, cards):
    from textual.command import CommandPalette

    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)


async def test_ctrl_q_quits_from_any_screen(make_app, runner, cards):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0
    assert not runner.closed  # the caller's runner is the caller's to close


async def test_quitting_while_a_demo_runs_cancels_it(make_app, cards):
    from tests.tui.conftest import FakeRunner
    from tests.tui.test_demo_panel import open_running_demo

    runner = FakeRunner(block=True)
    app = make_app(start="review", deck="Optimizers", runner=runner)
    async with app.run_test() as pilot:
        await open_running_demo(pilot, runner)
        await pilot.press("ctrl+q")
    assert runner.cancelled.is_set()


async def test_light_and_dark_themes_both_render(make_app, cards):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test() as pilot:
        await settle(pilot)
        shots = {}
        for theme in ("textual-light", "textual-dark"):
            app.theme = theme
            await pilot.pause()
            shots[theme] = app.export_screenshot()
            assert "What does Adam add to SGD with momentum?" in shots[theme].replace("&#160;", " ")
        assert shots["textual-light"] != shots["textual-dark"]


def footer_keys(app) -> list[str]:
    """What the footer of the screen on top says its keys do."""
    footer = app.screen.query_one(Footer)
    return [key.description for key in footer.query("FooterKey")]


async def test_a_question_over_a_screen_shows_its_own_keys_in_the_footer(make_app, cards):
    """Under the card editor, the help and the delete question, the footer names the keys
    that work there, not the review's or browse's keys, which would type into a field."""
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        keys = footer_keys(app)
        assert "Save" in keys and "Cancel" in keys
        assert "Suspend" not in keys and "Bury" not in keys
        await pilot.press("escape", "question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert footer_keys(app)[0] == "Close help" and "Undo" not in footer_keys(app)
        await pilot.press("escape", "q", "b", "enter", "delete")
        await pilot.pause()
        keys = footer_keys(app)
        assert keys[:2] == ["Yes", "No"] and "Edit" not in keys
