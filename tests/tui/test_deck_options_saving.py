"""Saving a deck's options runs off the UI thread: switching a deck with a long history to
FSRS can take a while, and the screen must say it is saving and keep answering keys."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from textual.widgets import Button, Input, Select

from studyapp.errors import UserError
from studyapp.services.decks import DeckService
from studyapp.tui.screens.deck_options import DeckOptionsScreen
from studyapp.tui.screens.home import HomeScreen
from tests.tui.conftest import settle, text_of


class SlowSave:
    """DeckService.update_settings that waits until released, noting the threads it ran on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail: Exception | None = None) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.threads: list[threading.Thread] = []
        self.fail = fail
        original = DeckService.update_settings

        def update_settings(service: DeckService, name: str, **changes: Any) -> Any:
            self.threads.append(threading.current_thread())
            self.started.set()
            assert self.release.wait(timeout=30)
            if self.fail is not None:
                raise self.fail
            return original(service, name, **changes)

        monkeypatch.setattr(DeckService, "update_settings", update_settings)


async def open_options(pilot: Any) -> DeckOptionsScreen:
    """The options of the deck Optimizers, opened from home."""
    await settle(pilot)
    pilot.app.screen.refresh_counts(select="Optimizers")
    await pilot.press("o")
    screen = pilot.app.screen
    assert isinstance(screen, DeckOptionsScreen)
    return screen


async def test_switching_to_fsrs_saves_in_a_worker_and_says_so(make_app, store, cards, monkeypatch):
    slow = SlowSave(monkeypatch)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_options(pilot)
        screen.query_one("#options-scheduler", Select).value = "fsrs"
        await pilot.press("ctrl+s")
        assert slow.started.wait(timeout=10)
        await pilot.pause()

        assert slow.threads[0] is not threading.main_thread()
        assert app.screen is screen
        assert "switching to FSRS gives each reviewed card a memory state" in text_of(
            app, "#options-status"
        )
        assert screen.query_one("#options-status").region.height > 0  # scrolled into view
        assert str(screen.query_one("#options-save", Button).label) == "Saving..."
        # Still answering keys: focus moves, a second save and Esc wait for this one.
        before = app.focused
        await pilot.press("tab")
        assert app.focused is not before
        await pilot.press("ctrl+s", "escape")
        await pilot.pause()
        assert app.screen is screen and len(slow.threads) == 1
        notes = [str(n.message) for n in app._notifications]
        assert "Still saving: this screen closes when it is done." in notes

        slow.release.set()
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        notes = [str(n.message) for n in app._notifications]
        assert any("Optimizers now schedules with FSRS" in n for n in notes)
    assert DeckService(store).get("Optimizers").settings.scheduler == "fsrs"


@pytest.mark.parametrize(
    ("failure", "shown"),
    [
        (UserError("the collection is locked by another studyapp"), "the collection is locked"),
        (RuntimeError("disk I/O error"), "Not saved: disk I/O error"),
    ],
)
async def test_a_failed_save_is_shown_and_the_screen_stays(
    make_app, store, cards, monkeypatch, failure, shown
):
    slow = SlowSave(monkeypatch, fail=failure)
    slow.release.set()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_options(pilot)
        screen.query_one("#options-new_per_day", Input).value = "7"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert shown in text_of(app, "#options-error")
        assert not screen.query_one("#options-status").display
        assert str(screen.query_one("#options-save", Button).label) == "Save (ctrl+s)"
        assert not screen.saving
    assert DeckService(store).get("Optimizers").settings.new_per_day == 20


async def test_a_rename_that_stood_before_the_rest_failed_is_not_tried_again(
    make_app, store, cards, monkeypatch
):
    slow = SlowSave(monkeypatch, fail=UserError("the collection is locked"))
    slow.release.set()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_options(pilot)
        screen.query_one("#options-name", Input).value = "Optimisers"
        screen.query_one("#options-new_per_day", Input).value = "7"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert text_of(app, "#options-error") == (
            "Renamed to Optimisers, but the other options were not saved: the collection is locked"
        )
        assert text_of(app, "#options-title") == "Deck options: Optimisers"

        slow.fail = None
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
    settings = DeckService(store).get("Optimisers").settings
    assert settings.new_per_day == 7


async def test_saving_one_option_keeps_the_others_changed_elsewhere(make_app, store, cards):
    """The form is open; another window switches the deck to FSRS and raises its review
    limit. Saving a new-card limit changes that alone; changing the review limit too is
    refused, saying why, and saves nothing."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_options(pilot)
        DeckService(store).update_settings("Optimizers", scheduler="fsrs", reviews_per_day=999)
        screen.query_one("#options-new_per_day", Input).value = "30"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        settings = DeckService(store).get("Optimizers").settings
        assert (settings.new_per_day, settings.reviews_per_day, settings.scheduler) == (
            30,
            999,
            "fsrs",
        )

        await settle(pilot)
        await pilot.press("o")  # the deck stays selected
        screen = app.screen
        assert isinstance(screen, DeckOptionsScreen)
        assert text_of(app, "#options-title") == "Deck options: Optimizers"
        DeckService(store).update_settings("Optimizers", reviews_per_day=500)
        screen.query_one("#options-reviews_per_day", Input).value = "100"
        screen.query_one("#options-new_per_day", Input).value = "10"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert "reviews a day changed since the options were opened" in text_of(
            app, "#options-error"
        )
    settings = DeckService(store).get("Optimizers").settings
    assert (settings.new_per_day, settings.reviews_per_day) == (30, 500)


async def test_a_setting_shown_rounded_is_kept_as_it_is_when_another_is_saved(
    make_app, store, cards
):
    """A retention of 0.875 (set on the command line) shows as 0.88; saving a new-card limit
    leaves it at 0.875."""
    DeckService(store).update_settings("Optimizers", scheduler="fsrs", desired_retention=0.875)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_options(pilot)
        assert screen.query_one("#options-desired_retention", Input).value == "0.88"
        screen.query_one("#options-new_per_day", Input).value = "9"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
    settings = DeckService(store).get("Optimizers").settings
    assert (settings.new_per_day, settings.desired_retention) == (9, 0.875)


async def test_escape_asks_before_it_throws_typed_options_away(make_app, store, cards):
    from studyapp.tui.screens.confirm import ConfirmScreen

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_options(pilot)
        await pilot.press("escape")  # nothing typed: it closes at once
        assert isinstance(app.screen, HomeScreen)

        screen = await open_options(pilot)
        screen.query_one("#options-new_per_day", Input).value = "7"
        await pilot.press("escape")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert app.screen is screen
        assert screen.query_one("#options-new_per_day", Input).value == "7"
        await pilot.press("escape", "y")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
    assert DeckService(store).get("Optimizers").settings.new_per_day != 7
