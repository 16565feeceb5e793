"""What `Store.prepare` does for a learner's session: the first rating finds its statements
compiled, and the write-ahead log is checkpointed in pauses instead of inside a rating."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine.interfaces import CacheStats

from studyapp.db import Store, open_store
from studyapp.db import checkpoints as checkpoints_module
from studyapp.db.location import read_only_uri
from studyapp.services.scheduler import SchedulerService
from studyapp.services.study import StudySession
from tests.conftest import wait_until
from tests.services.conftest import add_cards

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    opened = open_store(str(db_path))
    add_cards(opened, "D", 40)
    opened.dispose()  # as the app finds it: a collection on disk, nothing loaded yet
    reopened = open_store(str(db_path))
    yield reopened
    reopened.dispose()


def _in_the_file_itself(path: Path, sql: str) -> Any:
    """A value read from the collection file alone, as if its write-ahead log were lost."""
    conn = sqlite3.connect(read_only_uri(path, immutable=True), uri=True)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


@pytest.mark.parametrize("scheduler", ["sm2", "fsrs"])
def test_the_first_rating_after_prepare_compiles_no_statement(store: Store, scheduler: str) -> None:
    SchedulerService(store, lambda: NOW).set_scheduler("D", scheduler)
    store.dispose()  # the app's next start: nothing compiled yet
    store.prepare()
    misses: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        context = _args[-2]
        if context.cache_hit is CacheStats.CACHE_MISS:
            misses.append(statement)

    event.listen(store.engine, "before_cursor_execute", note)
    session = StudySession(store, "D", lambda: NOW)
    session.answer(4)
    session.answer(1)
    assert misses == []


def test_prepare_leaves_the_collection_as_it_was(store: Store, db_path: Path) -> None:
    def contents() -> tuple[list[Any], list[Any]]:
        with sqlite3.connect(db_path) as conn:
            cards = conn.execute("SELECT * FROM cards ORDER BY id").fetchall()
            reviews = conn.execute("SELECT * FROM reviews ORDER BY id").fetchall()
        return cards, reviews

    before = contents()
    store.prepare()
    assert contents() == before


def test_a_rating_is_durable_at_once_and_reaches_the_file_in_the_next_pause(
    store: Store, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoints_module, "IDLE_S", 0.2)
    store.prepare()
    session = StudySession(store, "D", lambda: NOW)
    for done, rating in enumerate((4, 5, 3), start=1):
        session.answer(rating)
        with sqlite3.connect(db_path) as other:  # committed, for every other reader
            assert other.execute("SELECT count(*) FROM reviews").fetchone()[0] == done
    count = "SELECT count(*) FROM reviews"
    assert wait_until(lambda: _in_the_file_itself(db_path, count) == 3)


def test_a_pause_after_a_rating_empties_the_log(
    store: Store, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing stays in the log beside the file once the learner pauses: a file put in the
    collection's place would be read with it (see studyapp.db.checkpoints)."""
    monkeypatch.setattr(checkpoints_module, "IDLE_S", 0.05)
    store.prepare()
    session = StudySession(store, "D", lambda: NOW)
    log = Path(f"{db_path}-wal")
    for done in (1, 2):
        session.answer(4)
        assert log.stat().st_size > 0
        count = "SELECT count(*) FROM reviews"
        assert wait_until(lambda: log.stat().st_size == 0)
        assert _in_the_file_itself(db_path, count) == done


def test_the_log_is_checkpointed_even_when_writes_never_pause(
    store: Store, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoints_module, "IDLE_S", 3600.0)
    monkeypatch.setattr(checkpoints_module, "MAX_ROWS", 20)  # ten ratings
    store.prepare()
    session = StudySession(store, "D", lambda: NOW)
    for _ in range(12):
        session.answer(5)
    count = "SELECT count(*) FROM reviews"
    assert wait_until(lambda: _in_the_file_itself(db_path, count) >= 10)


def test_commits_after_prepare_do_not_checkpoint_and_closing_does(
    store: Store, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoints_module, "IDLE_S", 3600.0)
    with store.engine.connect() as conn:  # made before prepare: replaced by one without
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    store.prepare()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    session = StudySession(store, "D", lambda: NOW)
    session.answer(4)
    assert _in_the_file_itself(db_path, "SELECT count(*) FROM reviews") == 0
    store.dispose()
    assert _in_the_file_itself(db_path, "SELECT count(*) FROM reviews") == 1
    assert not [t for t in threading.enumerate() if t.name == "studyapp-checkpoints"]


def test_a_read_only_store_prepares_without_writing(db_path: Path) -> None:
    store = open_store(str(db_path))
    add_cards(store, "D", 2)
    store.dispose()
    reader = open_store(str(db_path), read_only=True)
    reader.prepare()
    assert not [t for t in threading.enumerate() if t.name == "studyapp-checkpoints"]
    reader.dispose()
