"""The review while another shell restores a backup, imports an edit, or rates the same card."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from studyapp.services.cards import CardService
from studyapp.services.study import StudySession
from tests.backends import on_server, sql
from tests.hardening.conftest import make_collection, studyapp
from tests.tui.conftest import NOW, review_count, settle


async def test_a_restore_from_another_shell_stops_the_review_writing(
    make_app, store, cards, db: str, tmp_path: Path
):
    other = tmp_path / "other.db"
    make_collection(other, {"Theirs": 5})
    if on_server(db):  # a server restores its JSON backup
        backup, other = other, tmp_path / "other.json"
        exported = studyapp("export", "--format", "json", "--output", other, "--db", backup)
        assert exported.returncode == 0, exported.stderr
    app = make_app(start="review", deck="Basics")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        done = studyapp("restore", other, "--db", db)
        assert done.returncode == 0, done.stderr
        await pilot.press("space", "4")
        await settle(pilot)
        toasts = [str(t.message) for t in app._notifications]
        assert len(toasts) == 1 and "changed while studyapp had it open" in toasts[0]
        assert "\n" not in toasts[0]
        await pilot.press("e", "ctrl+s")  # an edit is refused the same way
        await settle(pilot)
        assert app.is_running
    landed = sql(db, "SELECT card_id, rating FROM reviews")
    assert landed == [], "no rating landed on a card of the restored collection"


async def test_undo_in_the_review_keeps_an_edit_imported_meanwhile(
    make_app, store, cards, db: str, tmp_path: Path
):
    app = make_app(start="review", deck="Basics")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        card = app.screen.session.current
        await pilot.press("space", "5")
        await settle(pilot)
        edit = {
            "version": 1,
            "decks": [{"name": "Basics", "cards": [{"id": card.uid, "front": card.front,
                                                    "back": card.back, "tags": ["imported"]}]}],
        }  # fmt: skip
        source = tmp_path / "edit.json"
        source.write_text(json.dumps(edit))
        done = studyapp("import", source, "--db", db)
        assert done.returncode == 0, done.stderr
        await pilot.press("u")
        await settle(pilot)
        assert app.screen.session.current.id == card.id
    after = CardService(store).detail(card.id)
    assert after.card.tags == ("imported",) and after.history == []
    assert review_count(store) == 0


async def test_undo_refused_after_another_window_rated_the_card_says_why(make_app, store, cards):
    """The review left open overnight: the card it failed is due the next day, and another
    window rates it then; taking back the first rating would throw that one's schedule away."""
    app = make_app(start="review", deck="Basics")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        card = app.screen.session.current
        await pilot.press("space", "1")
        await settle(pilot)
        next_day = StudySession(store, "Basics", lambda: NOW + timedelta(days=1))
        while next_day.current.id != card.id:
            next_day.answer(5)
        next_day.answer(4)  # the same card, rated in the other window the next day
        rated = review_count(store)
        await pilot.press("u")
        await settle(pilot)
        toasts = [str(t.message) for t in app._notifications]
        assert toasts[-1] == (
            "cannot undo: the card was rated again since, in another window; that rating stands, "
            "and undo goes on to the action before this one"
        )
        await settle(pilot)
        assert not app.screen.session.can_undo
        (undo_key,) = [key for key in app.screen.query("FooterKey") if key.action == "undo"]
        assert undo_key.has_class("-disabled"), "the footer shows nothing is left to undo"
    assert review_count(store) == rated


async def test_undo_refuses_once_another_window_repeated_the_card(make_app, store, cards):
    """Both windows had the card on screen: the other window's rating is a same-day repeat
    of this window's result. Taking this one back would leave a new card with a repeat in
    its log (counted new and learning at once), so undo says why it cannot."""
    app = make_app(start="review", deck="Basics")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        other_window = StudySession(store, "Basics", lambda: NOW)
        card = app.screen.session.current
        assert other_window.current.id == card.id
        await pilot.press("space", "5")
        await settle(pilot)
        rated = CardService(store).detail(card.id).card.state
        assert other_window.answer(4).review.kind == "drill"
        await pilot.press("u")
        await settle(pilot)
        said = [str(t.message) for t in app._notifications if "cannot undo" in str(t.message)]
        assert said and "rated again since, in another window" in said[0]
        assert app.is_running
    after = CardService(store).detail(card.id)
    assert after.card.state == rated
    assert [review.kind for review in after.history] == ["new", "drill"]


def assert_said_gone(app, home) -> None:  # type: ignore[no-untyped-def]
    """Home is back on screen, has said the deck Zed is gone, and no longer lists it."""
    assert app.screen is home
    toasts = [str(t.message) for t in app._notifications]
    assert toasts[-1] == (
        "The deck 'Zed' is no longer in the collection: it was deleted or renamed elsewhere."
    )
    assert "Zed" not in home._rows.values()


@asynccontextmanager
async def home_on_zed(make_app, store):  # type: ignore[no-untyped-def]
    """The app on its home screen with the deck Zed (one card) selected: (app, pilot, home)."""
    from studyapp.tui.screens.home import HomeScreen

    CardService(store).add("Zed", "front", "back")
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        home.refresh_counts(select="Zed")
        assert home.selected_deck() == "Zed"
        yield app, pilot, home


async def test_a_deck_deleted_from_another_shell_is_said_gone_and_leaves_the_list(
    make_app, store, cards
):
    from studyapp.services.decks import DeckService

    async with home_on_zed(make_app, store) as (app, pilot, home):
        for key in ("o", "r"):
            home.refresh_counts(select="Zed")
            assert home.selected_deck() == "Zed"
            DeckService(store).delete("Zed")
            await pilot.press(key)
            await settle(pilot)
            assert_said_gone(app, home)
            CardService(store).add("Zed", "front", "back")  # for the next key


async def test_options_saved_for_a_deck_deleted_meanwhile_close_and_say_it_is_gone(
    make_app, store, cards
):
    from studyapp.services.decks import DeckService
    from studyapp.tui.screens.deck_options import DeckOptionsScreen
    from studyapp.tui.screens.home import HomeScreen

    async with home_on_zed(make_app, store) as (app, pilot, home):
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, DeckOptionsScreen)
        DeckService(store).delete("Zed")
        await pilot.press("ctrl+s")
        await settle(pilot)
        for _ in range(40):  # the save runs in a worker
            if isinstance(app.screen, HomeScreen):
                break
            await pilot.pause(0.05)
        assert_said_gone(app, home)
