"""Import (preview, then confirm) and export from inside the app, with the CLI's report."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from textual.widgets import DataTable, Input, Select

from studyapp.tui.screens.exporting import ExportScreen, suggested_path
from studyapp.tui.screens.home import HomeScreen
from studyapp.tui.screens.importing import ImportScreen
from tests.tui.conftest import settle, text_of


async def test_import_previews_then_imports_what_the_preview_showed(make_app, library, tmp_path):
    deck_file = tmp_path / "deck.csv"
    deck_file.write_text("front,back\n")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        screen.query_one("#import-path", Input).value = str(deck_file)
        screen.query_one("#import-deck", Input).value = "Mine"

        await pilot.press("ctrl+s")
        assert library.imports == []
        assert "Preview first" in text_of(app, "#import-report")

        await pilot.press("ctrl+r")
        await settle(pilot)
        assert library.imports == [([deck_file], None, "Mine", True)]
        report = text_of(app, "#import-report")
        assert "Preview (dry run): nothing was changed." in report
        assert "added 2  updated 0  unchanged 1  skipped 1" in report
        assert "line 4: the back is empty" in report

        await pilot.press("ctrl+s")
        await settle(pilot)
        assert library.imports[-1] == ([deck_file], None, "Mine", False)
        assert text_of(app, "#import-report").startswith("Imported.")


async def test_import_names_a_missing_file(make_app, library, tmp_path):
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("i", *str(tmp_path / "nope.csv"), "enter")
        await settle(pilot)
        assert library.imports == []
        assert text_of(app, "#import-report").strip() == f"{tmp_path}/nope.csv: no such file"


async def test_import_names_a_folder_as_a_folder(make_app, library, tmp_path):
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("i", *str(tmp_path), "enter")
        await settle(pilot)
        assert library.imports == []
        assert text_of(app, "#import-report").strip() == (
            f"{tmp_path}: is a folder, not a file to import"
        )


async def test_import_names_a_fifo_for_what_it_is_and_does_not_wait_on_it(
    make_app, library, tmp_path
):
    """The command line's words, not "there is no file there"; opening a FIFO would wait
    for a writer that never comes."""
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("i", *str(fifo), "enter")
        await settle(pilot)
        assert library.imports == []
        assert text_of(app, "#import-report").strip() == (
            f"{fifo}: is a FIFO (named pipe), not a file to import"
        )


async def test_import_shows_a_users_error_and_keeps_running(make_app, library, tmp_path):
    from studyapp.errors import UserError

    def refuse(*args, **kwargs):
        raise UserError("deck.csv, line 3: unclosed quote")

    library.import_files = refuse
    deck_file = tmp_path / "deck.csv"
    deck_file.write_text('"a,b\n')
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("i")
        app.screen.query_one("#import-path", Input).value = str(deck_file)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert text_of(app, "#import-report") == "deck.csv, line 3: unclosed quote"
        assert isinstance(app.screen, ImportScreen)


async def test_export_writes_the_file_and_says_where(make_app, library, tmp_path, cards):
    target = tmp_path / "out" / "basics.csv"
    target.parent.mkdir()
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        assert screen.query_one("#export-path", Input).value.endswith("studyapp-all-decks.json")
        screen.query_one("#export-format", Select).value = "csv"
        screen.query_one("#export-deck", Select).value = 1
        await pilot.pause()
        assert screen.query_one("#export-path", Input).value.endswith("studyapp-Basics.csv")

        screen.query_one("#export-path", Input).value = str(target)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert library.exports == [("csv", "Basics")]
        assert target.read_bytes() == b"front,back\n"
        assert text_of(app, "#export-result") == f"Wrote 11 bytes to {target}"


async def test_export_to_a_missing_folder_is_one_sentence(make_app, tmp_path):
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("x")
        target = tmp_path / "missing" / "all.json"
        app.screen.query_one("#export-path", Input).value = str(target)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert text_of(app, "#export-result").startswith(f"cannot write {target}:")


async def test_export_to_a_path_ending_in_a_slash_makes_that_folder(
    make_app, library, tmp_path, cards
):
    """ "exports/" names a folder: it is made and the file goes in it, named after the deck;
    no file called "exports" is written."""
    folder = tmp_path / "exports"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        screen = app.screen
        screen.query_one("#export-format", Select).value = "csv"
        screen.query_one("#export-deck", Select).value = 1
        screen.query_one("#export-path", Input).value = f"{folder}/"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert folder.is_dir()
        assert [p.name for p in folder.iterdir()] == ["basics.csv"]
        assert text_of(app, "#export-result") == f"Wrote 1 file (11 bytes) to {folder}: basics.csv"


def test_suggested_names_are_safe_file_names():
    assert suggested_path(Path("/x"), "Deep Learning / ch. 3", "md") == Path(
        "/x/studyapp-Deep-Learning-ch.-3.md"
    )
    assert suggested_path(Path("/x"), None, "json") == Path("/x/studyapp-all-decks.json")


async def test_a_real_round_trip_through_the_library(make_app, store, cards, tmp_path):
    """With the real library: export every deck as JSON, then import a CSV into a new deck."""
    backup = tmp_path / "backup.json"
    deck_file = tmp_path / "new.csv"
    deck_file.write_text("What is dropout?,Randomly zeroing units while training.\n")
    app = make_app(library=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        app.screen.query_one("#export-path", Input).value = str(backup)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert '"What is an epoch?"' in backup.read_text()

        await pilot.press("escape", "i")
        app.screen.query_one("#import-path", Input).value = str(deck_file)
        app.screen.query_one("#import-deck", Input).value = "Regularization"
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "added 1" in text_of(app, "#import-report")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert text_of(app, "#import-report").startswith("Imported.")
        await pilot.press("escape")
        names = [str(app.screen.query_one(DataTable).get_row_at(i)[0]) for i in range(3)]
        assert names == ["Basics", "Optimizers", "Regularization"]


async def test_a_path_too_long_to_show_still_shows_why_it_was_refused(make_app, library, tmp_path):
    typed = str(tmp_path / ("x" * 100_000))
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("i")
        app.screen.query_one("#import-path", Input).value = typed
        await pilot.press("enter")
        await settle(pilot)
        shown = text_of(app, "#import-report").strip()
    assert library.imports == []
    assert shown.startswith(str(tmp_path)) and shown.endswith("(File name too long)")
    assert len(shown) < 1000


async def test_escape_while_an_import_runs_stays_to_show_whether_it_landed(
    make_app, library, tmp_path
):
    """Escape used to leave at once: the import went on unseen, and home kept the counts
    from before it. The screen now stays, says why, and shows the result when it comes."""
    release = threading.Event()
    importing = library.import_files

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        if not kwargs.get("dry_run"):
            release.wait(10)
        return importing(*args, **kwargs)

    library.import_files = slow
    deck_file = tmp_path / "deck.csv"
    deck_file.write_text("q,a\n")
    app = make_app()
    async with app.run_test(notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("i")
        screen = app.screen
        screen.query_one("#import-path", Input).value = str(deck_file)
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("ctrl+s", "escape")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("ctrl+r", "escape")  # a preview asked for meanwhile starts nothing
        await pilot.pause()
        assert app.screen is screen
        toasts = [str(t.message) for t in app._notifications]
        assert "The import is still running; it cannot be stopped part way." in toasts[-1]
        release.set()
        await settle(pilot)
        for _ in range(50):
            if text_of(app, "#import-report").startswith("Imported."):
                break
            await pilot.pause(0.05)
        assert text_of(app, "#import-report").startswith("Imported.")
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)


async def test_a_path_pasted_with_a_tab_or_escapes_keeps_its_other_characters(
    make_app, library, tmp_path
):
    """The field refuses control characters, and Textual refused such a paste whole: the
    field stayed empty without a word. A paste now drops them and keeps the rest."""
    from textual import events

    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("i")
        field = app.screen.query_one("#import-path", Input)
        field.focus()
        field.post_message(events.Paste("/tmp/my\tdeck\x1b[0m.csv\nsecond line"))
        await pilot.pause()
        assert field.value == "/tmp/mydeck[0m.csv"
