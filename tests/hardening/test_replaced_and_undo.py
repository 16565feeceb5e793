"""A second process: a collection replaced under an open session, and undo after others wrote.

`studyapp restore other.db` in another shell, or another file moved over the collection,
must not let an open review store its next rating on whatever card now has the same row
id: the session stops writing and says so in one line. And undo takes back only what its
own action changed: an import's edit of the card since survives, and a card another window
rated since is not put back under that window's feet; the card's state and its review log
agree at every step.
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from studyapp.db import checkpoints, open_store
from studyapp.db.store import copy_sqlite
from studyapp.errors import CollectionReplacedError, UserError
from studyapp.services.backups import BackupService
from studyapp.services.cards import CardService
from studyapp.services.library import LibraryService
from studyapp.services.study import StudySession
from tests.conftest import wait_until
from tests.hardening.conftest import make_collection, studyapp

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
REPLACED = "changed while studyapp had it open"


def clock() -> datetime:
    return NOW


def table(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as raw:
        rows = raw.execute(sql).fetchall()
    raw.close()
    return rows


def card_rows(db: Path) -> list[tuple[Any, ...]]:
    return table(db, "SELECT * FROM cards ORDER BY id")


def review_rows(db: Path) -> list[tuple[Any, ...]]:
    return table(db, "SELECT * FROM reviews ORDER BY id")


def kinds(db: Path) -> list[str]:
    return [kind for (kind,) in table(db, "SELECT kind FROM reviews ORDER BY id")]


def state_agrees_with_log(db: Path) -> None:
    """Each card's schedule is the `after` of its latest review that changed it (a same-day
    repeat changes nothing), or new, with none."""
    for card_id, ease, interval, reps, lapses, due in table(
        db, "SELECT id, ease_cents, interval, repetitions, lapses, due FROM cards"
    ):
        latest = table(
            db,
            "SELECT ease_after, interval_after, repetitions_after, lapses_after, due_after "
            f"FROM reviews WHERE card_id = {card_id} AND kind != 'drill' ORDER BY id DESC LIMIT 1",
        )
        expected = latest[0] if latest else (250, 0, 0, 0, None)
        assert (ease, interval, reps, lapses, due) == expected, f"card {card_id}"


# --- a collection replaced under an open session --------------------------------------------


@pytest.fixture
def collection(tmp_path: Path) -> Path:
    db = tmp_path / "c.db"
    make_collection(db, {"Mine": 3})
    return db


@pytest.fixture
def other(tmp_path: Path) -> Path:
    """Another collection, whose cards have the same row ids as the open one's."""
    db = tmp_path / "other.db"
    make_collection(db, {"Theirs": 3})
    return db


def test_a_review_open_during_a_restore_stops_writing(
    collection: Path, other: Path, tmp_path: Path
) -> None:
    store = open_store(str(collection))
    session = StudySession(store, None, clock)
    shown = session.current
    assert shown is not None

    done = studyapp("restore", other, "--db", collection)  # another shell
    assert done.returncode == 0, done.stderr
    restored_cards = card_rows(collection)

    with pytest.raises(CollectionReplacedError) as refused:
        session.answer(4)
    assert REPLACED in str(refused.value) and "\n" not in str(refused.value)
    with pytest.raises(CollectionReplacedError):
        CardService(store).update(shown.id, front="edited after the restore")
    assert card_rows(collection) == restored_cards, "no rating landed on their card"
    assert review_rows(collection) == []
    store.dispose()

    reopened = open_store(str(collection))  # opening it again is fine
    StudySession(reopened, None, clock).answer(4)
    assert len(review_rows(collection)) == 1
    reopened.dispose()


def test_restoring_an_older_backup_of_the_same_collection_is_noticed(
    collection: Path, tmp_path: Path
) -> None:
    store = open_store(str(collection))
    older = tmp_path / "older.db"
    copy_sqlite(collection, older)  # same collection, same id: only the generation differs
    session = StudySession(store, None, clock)
    session.answer(5)
    BackupService(open_store(str(collection))).restore(older)
    with pytest.raises(CollectionReplacedError):
        session.answer(5)
    assert review_rows(collection) == []
    store.dispose()


def test_a_file_moved_over_the_collection_is_noticed(
    collection: Path, other: Path, tmp_path: Path
) -> None:
    store = open_store(str(collection))
    session = StudySession(store, None, clock)
    assert session.current is not None
    os.replace(other, collection)  # `mv other.db c.db`: the open connections keep the old file
    for leftover in ("-wal", "-shm"):
        Path(f"{collection}{leftover}").unlink(missing_ok=True)
    with pytest.raises(CollectionReplacedError) as refused:
        session.answer(4)
    assert "another file was put in its place" in str(refused.value)
    store.dispose()
    assert review_rows(collection) == []


def test_a_file_moved_over_an_open_review_is_not_touched_by_its_log(
    collection: Path, other: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mv other.db c.db` while the app has c.db open, a moment after a rating. The log
    beside c.db is found by its name: whatever the app left in it, the next program to open
    c.db would read as c.db's, and copy into it on closing. The app empties it in the pause
    after each rating, so the file put in its place stays as it was."""
    monkeypatch.setattr(checkpoints, "IDLE_S", 0.1)
    theirs = card_rows(other)
    store = open_store(str(collection))
    store.prepare()  # as the app does: checkpoints in the pauses between ratings
    session = StudySession(store, None, clock)
    for rating in (4, 5, 3):
        session.answer(rating)
    assert wait_until(lambda: _log_size(collection) == 0)
    os.replace(other, collection)

    with sqlite3.connect(collection) as newcomer:  # `studyapp decks` in another shell
        assert newcomer.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert newcomer.execute("SELECT count(*) FROM reviews").fetchone() == (0,)
    newcomer.close()
    with pytest.raises(CollectionReplacedError):
        session.answer(4)
    store.dispose()
    assert table(collection, "PRAGMA integrity_check") == [("ok",)]
    assert card_rows(collection) == theirs and review_rows(collection) == []


def _log_size(db: Path) -> int:
    log = Path(f"{db}-wal")
    return log.stat().st_size if log.exists() else 0


def test_a_new_collection_has_an_identity_and_keeps_it(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    store = open_store(str(db))
    CardService(store).add("D", "q", "a")  # writes go on: its own stamp is no replacement
    (first,) = table(db, "SELECT value FROM collection_info WHERE key = 'collection_id'")
    store.dispose()
    again = open_store(str(db))
    CardService(again).add("D", "q2", "a2")
    again.dispose()
    assert table(db, "SELECT value FROM collection_info WHERE key = 'collection_id'") == [first]
    assert len(first[0]) == 32


# --- undo after others wrote ----------------------------------------------------------------


def test_undo_keeps_an_imported_edit_and_takes_back_only_the_schedule(
    collection: Path, tmp_path: Path
) -> None:
    store = open_store(str(collection))
    session = StudySession(store, None, clock)
    card = session.current
    assert card is not None
    session.answer(5)

    edit = {
        "version": 1,
        "decks": [
            {
                "name": "Mine",
                "cards": [{"id": card.uid, "front": card.front, "tags": ["edited", "by-import"]}],
            }
        ],
    }
    source = tmp_path / "edit.json"
    source.write_text(json.dumps(edit))
    elsewhere = open_store(str(collection))  # `studyapp import` in another shell
    report = LibraryService(elsewhere).import_files([source])
    assert report.updated == 1
    elsewhere.dispose()

    session.undo()
    after = CardService(store).detail(card.id)
    assert after.card.tags == ("edited", "by-import"), "the import's edit survives"
    assert after.card.state == card.state and after.history == []
    state_agrees_with_log(collection)
    store.dispose()


def test_two_windows_undo_without_the_state_and_the_log_disagreeing(collection: Path) -> None:
    """A rates a card, B rates it again (a same-day repeat, which refers to the state A's
    rating left): A's undo would leave a new card with a repeat in its log, counted new and
    learning at once and shown twice, so it is refused; B's undo takes back its repeat."""
    first, second = open_store(str(collection)), open_store(str(collection))
    a = StudySession(first, None, clock)
    b = StudySession(second, None, clock)
    card = a.current
    assert card is not None and b.current is not None and b.current.id == card.id
    before = card_rows(collection)

    a.answer(5)
    rated = card_rows(collection)
    b.answer(3)  # the same card, rated in the other window: a same-day repeat
    state_agrees_with_log(collection)
    assert kinds(collection) == ["new", "drill"]

    with pytest.raises(UserError) as refused:
        a.undo()
    assert "the card was rated again since, in another window" in str(refused.value)
    assert kinds(collection) == ["new", "drill"] and card_rows(collection) == rated

    b.undo()  # B's undo takes back only its repeat
    state_agrees_with_log(collection)
    assert kinds(collection) == ["new"] and card_rows(collection) == rated
    assert card_rows(collection) != before
    first.dispose()
    second.dispose()


def test_undo_refused_when_another_window_rated_the_card_again_on_a_later_day(
    collection: Path,
) -> None:
    """A session left open overnight: the card it failed is due the next day, and another
    window rates it then. The first window's undo would throw that rating's schedule away."""
    first, second = open_store(str(collection)), open_store(str(collection))
    a = StudySession(first, None, clock)
    card = a.current
    assert card is not None
    a.answer(1)
    b = StudySession(second, None, lambda: NOW + timedelta(days=1))
    assert card.id in [item.card_id for item in b._queue]
    while b.current is not None and b.current.id != card.id:
        b.answer(5)
    b.answer(4)
    state_agrees_with_log(collection)
    rows = len(review_rows(collection))

    with pytest.raises(UserError) as refused:
        a.undo()
    assert str(refused.value) == (
        "cannot undo: the card was rated again since, in another window; that rating stands, "
        "and undo goes on to the action before this one"
    )
    state_agrees_with_log(collection)
    assert len(review_rows(collection)) == rows
    assert not a.can_undo, "a refused undo is dropped; the action before it is next"
    first.dispose()
    second.dispose()


def test_undo_refuses_when_the_card_was_suspended_or_unsuspended_since(collection: Path) -> None:
    store = open_store(str(collection))
    session = StudySession(store, None, clock)
    card = session.current
    assert card is not None
    session.answer(5)
    elsewhere = open_store(str(collection))
    CardService(elsewhere).set_suspended(card.id, True)
    with pytest.raises(UserError, match="cannot undo: the card was suspended since"):
        session.undo()
    assert len(review_rows(collection)) == 1

    shown = session.current
    assert shown is not None
    session.suspend()
    CardService(elsewhere).set_suspended(shown.id, False)
    with pytest.raises(UserError, match="cannot undo: it was unsuspended since"):
        session.undo()
    state_agrees_with_log(collection)
    elsewhere.dispose()
    store.dispose()


def test_undo_after_a_restore_is_refused_like_any_write(collection: Path, tmp_path: Path) -> None:
    store = open_store(str(collection))
    session = StudySession(store, None, clock)
    session.answer(5)
    older = tmp_path / "older.db"
    copy_sqlite(collection, older)
    with pytest.raises(CollectionReplacedError):
        BackupService(open_store(str(collection))).restore(older)
        session.undo()
    store.dispose()


# --- a card deleted on screen, its row id given to a card added since -------------------------


def replaced_by_a_new_card(db: Path, card_id: int) -> int:
    """Delete the card from another window, then add one: SQLite gives the new card the row
    id the deleted one had (the largest)."""
    elsewhere = CardService(open_store(str(db)))
    elsewhere.delete([card_id])
    added = elsewhere.add("Mine", "a card added since", "never shown").id
    elsewhere.store.dispose()
    assert added == card_id, "the row id is given again: what this test is about"
    return added


@pytest.mark.parametrize("action", ["rate", "suspend", "bury"])
def test_a_card_deleted_on_screen_is_not_confused_with_one_added_since(
    tmp_path: Path, action: str
) -> None:
    db = tmp_path / "c.db"
    make_collection(db, {"Mine": 1})
    store = open_store(str(db))
    session = StudySession(store, None, clock)
    shown = session.current
    assert shown is not None
    new = replaced_by_a_new_card(db, shown.id)
    before = card_rows(db)

    with pytest.raises(UserError, match="this card was deleted while it was on screen"):
        {"rate": lambda: session.answer(4), "suspend": session.suspend, "bury": session.bury}[
            action
        ]()
    assert card_rows(db) == before and review_rows(db) == []
    assert table(db, f"SELECT front, repetitions FROM cards WHERE id = {new}") == [
        ("a card added since", 0)
    ]
    store.dispose()


def test_undo_does_not_take_back_another_window_rating_a_card_added_since(tmp_path: Path) -> None:
    """A rates its card; the card is deleted and another added (same row id); B rates that
    one, and its review gets the row id A's had. A's undo must leave B's rating alone."""
    db = tmp_path / "c.db"
    make_collection(db, {"Mine": 1})
    first, second = open_store(str(db)), open_store(str(db))
    a = StudySession(first, None, clock)
    shown = a.current
    assert shown is not None
    a.answer(4)
    replaced_by_a_new_card(db, shown.id)
    b = StudySession(second, None, clock)
    assert b.current is not None and b.current.front == "a card added since"
    b.answer(4)
    rated = (card_rows(db), review_rows(db))
    assert [row[0] for row in rated[1]] == [1], "B's review has the row id A's had"

    with pytest.raises(UserError, match="cannot undo: the card was deleted since"):
        a.undo()
    assert (card_rows(db), review_rows(db)) == rated
    state_agrees_with_log(db)
    first.dispose()
    second.dispose()


def test_a_screen_acting_on_a_card_deleted_since_leaves_the_new_card_alone(tmp_path: Path) -> None:
    """Browse or the card's page still show a card that was deleted, and its row id went to a
    card added since: deleting, suspending or editing what is on screen changes nothing."""
    db = tmp_path / "c.db"
    make_collection(db, {"Mine": 1})
    store = open_store(str(db))
    cards = CardService(store)
    (shown,) = cards.search(limit=1)
    replaced_by_a_new_card(db, shown.id)
    before = card_rows(db)
    with pytest.raises(UserError, match="was deleted since it was shown"):
        cards.delete([shown.id], shown=[shown])
    with pytest.raises(UserError, match=f"there is no card with id {shown.id}"):
        cards.set_suspended(shown.id, True, uid=shown.uid)
    with pytest.raises(UserError, match="deleted since it was opened"):
        cards.update(shown.id, front="edited", shown=shown)
    assert card_rows(db) == before
    store.dispose()
