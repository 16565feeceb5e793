"""`studyapp` and `studyapp review`: which screen opens, unknown decks, and no torch in the TUI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from studyapp.cli import main
from studyapp.cli import tui as tui_cli
from studyapp.db import open_store
from studyapp.services.cards import CardService
from studyapp.services.decks import DeckService
from studyapp.tui.app import StudyApp


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str | None]]:
    """Record which screen the app would open instead of taking over the terminal."""
    calls: list[tuple[str, str | None]] = []

    def fake_run(self: StudyApp, *args: object, **kwargs: object) -> None:
        calls.append((self.start, self.start_deck))

    monkeypatch.setattr(StudyApp, "run", fake_run)
    monkeypatch.setattr(tui_cli, "_check_terminal", lambda: None)  # the tests have none
    return calls


@pytest.fixture
def collection(tmp_path: Path) -> str:
    path = tmp_path / "c.db"
    store = open_store(str(path))
    CardService(store).add("Basics", "What is an epoch?", "One pass over the data.")
    store.dispose()
    return str(path)


def test_no_command_opens_home(opened, collection):
    assert main(["--db", collection]) == 0
    assert opened == [("home", None)]


def test_review_opens_the_review_of_a_deck(opened, collection):
    assert main(["review", "--deck", "Basics", "--db", collection]) == 0
    assert main(["review", "--db", collection]) == 0
    assert opened == [("review", "Basics"), ("review", None)]


def test_an_unknown_deck_is_one_line_and_exit_2(opened, collection, capsys):
    assert main(["review", "--deck", "Nope", "--db", collection]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Nope" in err
    assert opened == []


def test_a_new_collection_gets_the_bundled_deck(opened, tmp_path):
    pytest.importorskip("studyapp.services.library")
    path = str(tmp_path / "new.db")
    assert main(["--db", path]) == 0
    store = open_store(path)
    try:
        assert sum(c.total for c in DeckService(store).counts()) > 0
    finally:
        store.dispose()


TUI_WITHOUT_TORCH = """
import asyncio, sys
from studyapp.cli import main  # the command line, with the TUI's handlers registered
from studyapp.db import open_store
from studyapp.model import DemoLink
from studyapp.services.cards import CardService
from studyapp.tui.app import create_app

store = open_store(sys.argv[1])
CardService(store).add("D", "front", "back", demo=DemoLink("adam_vs_sgd"))
app = create_app(store, start="review")  # the real demo runner, not started

async def study():
    async with app.run_test() as pilot:
        await pilot.press("space", "4", "question_mark", "escape")

asyncio.run(study())
print("torch" in sys.modules)
"""


def test_the_tui_process_does_not_import_torch(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", TUI_WITHOUT_TORCH, str(tmp_path / "c.db")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


async def test_what_start_up_did_to_the_bundled_deck_is_shown_once_the_app_is_up(
    make_app,
) -> None:
    news = "Bundled deck: 2 cards updated."
    app = make_app(notice=news)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert [n.message for n in app._notifications] == [news]
