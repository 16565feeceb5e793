"""Escape sequences in card text, deck names, reports and messages never reach the terminal.

A collection is filled with text that would act on a terminal (write the clipboard, wipe the
screen, set the window title, start a C1 control sequence); every screen and widget that
can show it is visited, and what the screen would send to the terminal is checked for any
control character: each is shown as `\\x1b` instead.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from textual.widgets import Input, Select, TextArea

from studyapp.db import Store
from studyapp.errors import UserError
from studyapp.formats import Skipped
from studyapp.model import Card, DemoLink
from studyapp.services.cards import CardService
from studyapp.services.study import StudySession
from studyapp.terminal import visible
from studyapp.tui.app import StudyApp
from studyapp.tui.screens.browse import BrowseScreen
from studyapp.tui.screens.card_detail import CardScreen
from studyapp.tui.screens.card_editor import CardEditor
from studyapp.tui.screens.exporting import ExportScreen
from studyapp.tui.screens.home import HomeScreen
from studyapp.tui.screens.importing import ImportScreen
from studyapp.tui.screens.review import ReviewScreen
from studyapp.tui.screens.stats import StatsScreen
from tests.tui.conftest import NOW, FakeReport, canned_result, fixed_clock, settle

CLIPBOARD = "\x1b]52;c;cHduZWQ=\x1b\\"  # OSC 52: write "pwned" to the clipboard
WIPE = "\x1b[2J"
TITLE = "\x1b]0;pwned\x07\x1b]2;pwned\x07"  # OSC 0 and OSC 2: the window title
C1_CSI = "\x9b2J"  # U+009B is CSI on its own in many terminals
HOSTILE = CLIPBOARD + WIPE + TITLE + C1_CSI
DECK = f"Deck {HOSTILE}"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def sent_to_terminal(app: StudyApp) -> str:
    """The text of every segment the current screen would draw (notifications included)."""
    update = app.screen._compositor.render_full_update()
    return "".join(segment.text for strip in update.strips for segment in strip)


def assert_nothing_leaks(app: StudyApp, *expected: str) -> None:
    shown = sent_to_terminal(app)
    assert not CONTROL.findall(shown), f"control characters on {type(app.screen).__name__}"
    for text in expected:
        assert text in shown, f"{text!r} is not on {type(app.screen).__name__}"


def rename_deck_behind_the_app(store: Store, name: str) -> None:
    """Give the only deck a name the app refuses today, as a collection from an older version
    (or a crafted collection file that was restored) can hold."""
    with store.engine.begin() as connection:
        connection.execute(sqlalchemy.text("UPDATE decks SET name = :name"), {"name": name})


@pytest.fixture
def hostile(store: Store) -> list[Card]:
    service = CardService(store, fixed_clock)
    first = service.add(
        "Deck",
        f"Front {CLIPBOARD} {WIPE}",
        f"Back {TITLE} {C1_CSI}",
        tags=(f"tag{WIPE}",),
        source=f"source {CLIPBOARD}",
        demo=DemoLink("adam_vs_sgd", {"steps": 200}),
    )
    second = service.add("Deck", f"Second {HOSTILE}", "plain back")
    rename_deck_behind_the_app(store, DECK)
    return [replace(first, deck=DECK), replace(second, deck=DECK)]


class HostileLibrary:
    """An import whose report quotes a hostile file, and an export that fails quoting it."""

    def import_files(self, paths: Any, format: Any = None, deck: Any = None, dry_run: bool = False):
        return FakeReport(
            "csv", DECK, 1, 0, 0, [Skipped(f"line {WIPE}", f"reason {CLIPBOARD}")], [TITLE]
        )

    def export(self, format: str, deck: str | None = None) -> bytes:
        raise UserError(f"cannot export {deck}: {C1_CSI}")


async def test_home_shows_a_hostile_deck_name_visibly(make_app, hostile):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert_nothing_leaks(app, "Deck \\x1b]52;c;cHduZWQ=")


async def test_review_shows_front_back_and_meta_visibly(make_app, hostile, runner):
    runner.cache[("adam_vs_sgd", 0)] = _hostile_result()
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert_nothing_leaks(app, "Front \\x1b]52;c;cHduZWQ=\\x1b\\ \\x1b[2J", "tag\\x1b[2J")
        await pilot.press("space")
        assert_nothing_leaks(app, "Back \\x1b]0;pwned\\x07", "\\x9b2J")
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("x")  # no prediction: the result shows with the run's answer
        await settle(pilot)
        assert_nothing_leaks(app, "takeaway \\x1b[2J", "why \\x1b[2J")


async def test_browse_card_detail_and_editor_show_it_visibly(make_app, hostile):
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
        assert_nothing_leaks(app, "Front \\x1b]52")
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CardScreen)
        assert_nothing_leaks(app, "source \\x1b]52", "Back \\x1b]0;pwned")
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, CardEditor)
        assert_nothing_leaks(app, "Front \\x1b]52", "shown as \\xNN")


async def test_the_editor_keeps_the_exact_text_of_a_side_left_alone(make_app, store, hostile):
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        app.push_screen(CardScreen(app.services, hostile[0].id))
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, CardEditor)
        back = editor.query_one("#editor-back", TextArea)
        back.text = "a new back"
        await pilot.press("ctrl+s")
        await settle(pilot)
    saved = CardService(store).detail(hostile[0].id).card
    assert saved.front == hostile[0].front  # left as shown: the exact text stays
    assert saved.tags == hostile[0].tags
    assert saved.back == "a new back"


async def test_import_report_export_error_and_notifications_show_it_visibly(
    make_app, hostile, tmp_path: Path
):
    deck_file = tmp_path / "deck.csv"
    deck_file.write_text("front,back\n")
    app = make_app(library=HostileLibrary())
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, ImportScreen)
        app.screen.query_one("#import-path", Input).value = str(deck_file)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert_nothing_leaks(app, "line \\x1b[2J: reason \\x1b]52", "\\x1b]0;pwned\\x07")
        await pilot.press("escape", "x")
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        app.screen.query_one("#export-deck", Select).value = 1
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert_nothing_leaks(app, "\\x9b2J")
        app.screen.query_one("#export-deck", Select).focus()
        await pilot.press("enter")  # the list of decks opens
        await pilot.pause()
        assert_nothing_leaks(app, "Deck \\x1b]52")
        app.notify(f"{WIPE}{C1_CSI}", title=TITLE, markup=False)
        await settle(pilot)
        assert_nothing_leaks(app, "\\x1b[2J\\x9b2J", "\\x1b]0;pwned")


async def test_stats_and_the_command_palette_show_it_visibly(make_app, store, hostile):
    StudySession(store, None, lambda: NOW).answer(4, duration_ms=1000)
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, StatsScreen)
        app.screen.query_one(Select).focus()
        await pilot.press("enter")  # the list of decks opens (a narrow one: the name wraps)
        await pilot.pause()
        assert_nothing_leaks(app, "\\x1b]52;c;cHduZWQ=")
        await pilot.press("escape", "n")
        await settle(pilot)
        assert_nothing_leaks(app)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert_nothing_leaks(app)


def _hostile_result():
    result = canned_result("adam_vs_sgd", {"steps": 200}, 0)
    answers = [replace(p, why=f"why {WIPE}") for p in result.predictions]
    return replace(result, takeaway=f"takeaway {WIPE}", setup=f"setup {TITLE}", predictions=answers)


def test_visible_escapes_every_control_but_newline_and_tab():
    assert visible(HOSTILE + "\n\t") == (
        "\\x1b]52;c;cHduZWQ=\\x1b\\\\x1b[2J\\x1b]0;pwned\\x07\\x1b]2;pwned\\x07\\x9b2J\n\t"
    )
    every = "".join(map(chr, range(0xA0)))
    assert not CONTROL.search(visible(every).replace("\n", "").replace("\t", ""))
    assert visible("[bold]w[i] ünïcode") == "[bold]w[i] ünïcode"


def test_visible_shows_bidi_overrides_that_would_show_text_other_than_it_is():
    """U+202E makes "eurt" read as "true" where the terminal honours it; right-to-left text
    and its marks are shown as they are."""
    assert visible("the answer is \u202eeurt\u202c") == "the answer is \\u202eeurt\\u202c"
    assert visible("\u2066a\u2067b\u2068c\u2069\u202a\u202b\u202d") == (
        "\\u2066a\\u2067b\\u2068c\\u2069\\u202a\\u202b\\u202d"
    )
    assert visible("שלום \u200f עולם \u200e") == "שלום \u200f עולם \u200e"


async def test_an_export_suggested_in_a_folder_named_with_escapes_shows_it_and_writes_there(
    make_app, store, hostile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The path the export screen suggests comes from the folder the app was started in;
    a field draws its value raw, so it shows the name visibly, and left as shown it is
    still that folder the export goes to."""
    from studyapp.services.library import LibraryService

    folder = tmp_path / f"cwd {TITLE}"
    folder.mkdir()
    monkeypatch.chdir(folder)
    app = make_app(library=LibraryService(store, fixed_clock))
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        field = app.screen.query_one("#export-path", Input)
        assert field.value.startswith(f"{tmp_path}/cwd \\x1b]0;pwned\\x07")
        assert_nothing_leaks(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert_nothing_leaks(app, "Wrote")
        assert [p.suffix for p in folder.iterdir()] == [".json"]

        field.value = ""
        field.focus()
        field.insert_text_at_cursor(f"pasted {WIPE}")  # a paste holding escapes is refused
        assert field.value == ""


async def test_a_notification_is_never_read_as_markup(make_app):
    """Messages quote paths and files: `[/b]` in a collection's path once crashed the app."""
    app = make_app()
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await settle(pilot)
        app.notify("not saved: /home/a[/b]/c [@click=app.quit]x[/] [bold]y", severity="error")
        await settle(pilot)
        assert_nothing_leaks(app, "a[/b]/c [@click=app.quit]x[/] [bold]y")
        assert app.is_running
