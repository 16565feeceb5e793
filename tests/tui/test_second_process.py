"""The review while another shell restores a backup, imports an edit, or rates the same card."""

from __future__ import annotations

import json
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
    app = make_app(start="review", deck="Basics")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        other_window = StudySession(store, "Basics", lambda: NOW)
        assert other_window.current.id == app.screen.session.current.id
        await pilot.press("space", "5")
        await settle(pilot)
        other_window.answer(4)  # the same card, rated in the other window
        await pilot.press("u")
        await settle(pilot)
        toasts = [str(t.message) for t in app._notifications]
        assert toasts[-1] == (
            "cannot undo: the card was rated again since, in another window (undo there first)"
        )
        await settle(pilot)
        assert not app.screen.session.can_undo
        (undo_key,) = [key for key in app.screen.query("FooterKey") if key.action == "undo"]
        assert undo_key.has_class("-disabled"), "the footer shows nothing is left to undo"
    assert review_count(store) == 2
