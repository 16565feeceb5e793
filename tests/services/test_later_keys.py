"""Content keys worked out on a second thread while a file of new cards is written: the
same keys as one by one, and cards alike but for spacing or letter case are still found,
however late in the file, with the import then matched card by card as before."""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from studyapp.db import Store
from studyapp.db.repository import content_key
from studyapp.errors import UserError
from studyapp.model import Card
from studyapp.services import draft_mapping, later_keys
from studyapp.services.cards import CardService
from studyapp.services.later_keys import KeysCollide, LaterKeys
from studyapp.services.library import LibraryService
from studyapp.services.query import CardQuery
from studyapp.sqlite_rows import insert_columns
from tests.services.conftest import FakeClock

FRONTS = [f"Question {i}: what  is   {i}?" if i % 3 else f"q{i}" for i in range(1_234)]
BACKS = [f"Answer {i}" if i % 2 else f" Ä{i}\tß " for i in range(1_234)]


def test_the_keys_are_those_worked_out_one_by_one() -> None:
    keys = LaterKeys(FRONTS, BACKS, held=set())
    expected = list(map(content_key, FRONTS, BACKS))
    assert keys[1_000:1_010] == expected[1_000:1_010]
    assert keys[-1] == expected[-1] and keys[3] == expected[3]
    assert list(keys) == expected and len(keys) == len(expected)


def test_two_cards_alike_but_for_spacing_and_case_collide_on_reading() -> None:
    fronts = [*FRONTS, "QUESTION 1: What is 1?"]
    backs = [*BACKS, "answer   1"]
    keys = LaterKeys(fronts, backs, held=set())
    with pytest.raises(KeysCollide):
        keys.all()
    with pytest.raises(KeysCollide):
        keys[len(fronts) - 1]


def test_a_key_the_deck_holds_collides() -> None:
    held = {content_key("held front", "held back")}
    keys = LaterKeys([*FRONTS, "HELD  front"], [*BACKS, "held back"], held=held)
    with pytest.raises(KeysCollide):
        list(keys)


class _Recorded(list[str]):
    """A column that notes which slices of it were read."""

    def __init__(self, values: list[str]) -> None:
        super().__init__(values)
        self.read: list[tuple[int, int]] = []

    def __getitem__(self, index):  # type: ignore[no-untyped-def, override]
        if isinstance(index, slice):
            self.read.append((index.start, index.stop))
        return super().__getitem__(index)


def test_an_insert_reads_each_statement_s_keys_when_it_runs_it() -> None:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, front TEXT, key TEXT)")
    keys = _Recorded(list(map(content_key, FRONTS, BACKS)))
    ran: list[int] = []

    def execute(sql: str, values: tuple[object, ...]) -> object:
        ran.append(len(keys.read))  # slices read by the time each statement runs
        return connection.execute(sql, values)

    insert_columns(execute, "INSERT INTO t (front, key)", [FRONTS, keys], 1_000_000)
    assert keys.read == [(0, 1_000), (1_000, 1_234)] and ran == [1, 2]
    stored = connection.execute("SELECT front, key FROM t ORDER BY id").fetchall()
    assert stored == list(zip(FRONTS, keys, strict=True))


def test_the_switch_interval_is_restored_once_the_keys_are_worked_out() -> None:
    before = sys.getswitchinterval()
    keys = LaterKeys(FRONTS, BACKS, held=set())
    keys.all()
    keys.thread.join(timeout=60)
    assert sys.getswitchinterval() == before


def test_keys_no_one_will_read_stop_being_worked_out() -> None:
    before = sys.getswitchinterval()
    many = FRONTS * 200  # a quarter of a million keys: seconds of work
    keys = LaterKeys(many, BACKS * 200, held=set())
    keys.stop()
    keys.thread.join(timeout=60)
    assert not keys.thread.is_alive() and sys.getswitchinterval() == before
    assert len(keys._keys) < len(many)


def test_a_failure_working_out_the_keys_reaches_whoever_reads_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(front: str, back: str) -> str:
        raise MemoryError

    monkeypatch.setattr(later_keys.repo, "content_key", broken)
    keys = LaterKeys(FRONTS, BACKS, held=set())
    with pytest.raises(RuntimeError, match="content keys") as failed:
        keys[0]
    assert isinstance(failed.value.__cause__, MemoryError)


class _Counted(LaterKeys):
    made = 0

    def __init__(self, *args: object, **kwargs: object) -> None:
        type(self).made += 1
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Counted]]:
    _Counted.made = 0
    monkeypatch.setattr(draft_mapping, "LaterKeys", _Counted)
    yield _Counted


def _csv(folder: Path, name: str, rows: list[tuple[str, str]]) -> Path:
    path = folder / name
    lines = ["front,back", *(f'"{f}","{b}"' for f, b in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


NEW = [(f"Card {i}", f"back {i}") for i in range(2_500)]


def _deck(store: Store, clock: FakeClock) -> list[Card]:
    return CardService(store, clock).find(CardQuery(decks=("Deck",)), limit=None)


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_card_alike_another_late_in_a_file_of_new_cards_is_reported_not_added(
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    counted: type[_Counted],
    dry_run: bool,
) -> None:
    library = LibraryService(store, clock)
    path = _csv(tmp_path, "new.csv", [*NEW, ("CARD   7", "Back 7")])
    report = library.import_files([path], deck="Deck", dry_run=dry_run)
    assert (report.added, report.updated, report.unchanged) == (2_500, 0, 0)
    assert [(s.where, s.reason) for s in report.skipped] == [("line 2502", "same card as line 9")]
    assert len(_deck(store, clock)) == (0 if dry_run else 2_500)
    if store.engine.dialect.name == "sqlite":
        assert counted.made == 1  # taken as all new cards, then matched card by card


def test_a_card_its_deck_holds_under_another_spelling_is_not_added_again(
    store: Store, clock: FakeClock, tmp_path: Path, counted: type[_Counted]
) -> None:
    cards = CardService(store, clock)
    cards.add("Deck", "What does Adam keep?", "Two moments")
    library = LibraryService(store, clock)
    path = _csv(tmp_path, "new.csv", [*NEW, ("what does  ADAM keep?", "two moments")])
    report = library.import_files([path], deck="Deck")
    assert (report.added, report.updated, report.unchanged, report.skipped) == (2_500, 0, 1, [])
    assert len(_deck(store, clock)) == 2_501
    if store.engine.dialect.name == "sqlite":
        assert counted.made == 1


def test_a_second_file_matches_the_new_cards_of_the_first_by_their_keys(
    store: Store, clock: FakeClock, tmp_path: Path, counted: type[_Counted]
) -> None:
    library = LibraryService(store, clock)
    first = _csv(tmp_path, "first.csv", NEW)
    second = _csv(tmp_path, "second.csv", [("card  2499", "BACK 2499"), ("Another", "card")])
    report = library.import_files([first, second], deck="Deck")
    assert (report.added, report.unchanged) == (2_501, 0)
    assert [(s.where, s.reason) for s in report.skipped] == [
        (f"{second}, line 2", f"same card as {first}, line 2501")
    ]
    assert len(_deck(store, clock)) == 2_501
    if store.engine.dialect.name == "sqlite":
        assert counted.made == 2  # each file taken as new cards; the second's keys collide


def test_a_file_of_new_cards_without_cards_alike_is_written_whole_and_in_order(
    store: Store, clock: FakeClock, tmp_path: Path, counted: type[_Counted]
) -> None:
    library = LibraryService(store, clock)
    report = library.import_files([_csv(tmp_path, "new.csv", NEW)], deck="Deck")
    assert (report.added, report.skipped) == (2_500, [])
    held = _deck(store, clock)
    assert sorted((c.position, c.front, c.back) for c in held) == [
        (i + 1, front, back) for i, (front, back) in enumerate(NEW)
    ]
    again = library.import_files([_csv(tmp_path, "new.csv", NEW)], deck="Deck")
    assert (again.added, again.unchanged) == (0, 2_500)
    if store.engine.dialect.name == "sqlite":
        assert counted.made == 1  # the second import matched the cards by their fronts


def test_keys_read_by_index_and_slice_as_a_list_reads_them() -> None:
    keys = LaterKeys(FRONTS, BACKS, held=set())
    expected = list(map(content_key, FRONTS, BACKS))
    for index in (0, 999, -1, -1_234):
        assert keys[index] == expected[index]
    for part in (slice(-10, None), slice(5, 1), slice(None, None, -7), slice(3, -3, 250)):
        assert keys[part] == expected[part]
    with pytest.raises(IndexError):
        keys[1_234]


@pytest.mark.sqlite_only  # keys are worked out alongside the insert on SQLite only
def test_cards_alike_found_after_some_were_written_are_rolled_back_and_matched(
    store: Store,
    clock: FakeClock,
    tmp_path: Path,
    counted: type[_Counted],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The keys come slowly, so the insert has written cards when the last ones collide."""
    quick = later_keys.repo.content_key
    calls = iter(range(10**9))

    def slow(front: str, back: str) -> str:
        if next(calls) > 2_000:
            time.sleep(0.001)
        return quick(front, back)

    monkeypatch.setattr(later_keys.repo, "content_key", slow)
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", _noted(statements))
    library = LibraryService(store, clock)
    path = _csv(tmp_path, "new.csv", [*NEW, ("CARD   7", "Back 7")])
    report = library.import_files([path], deck="Deck")
    assert (report.added, [(s.where, s.reason) for s in report.skipped]) == (
        2_500,
        [("line 2502", "same card as line 9")],
    )
    assert len(_deck(store, clock)) == 2_500
    written = [i for i, sql in enumerate(statements) if sql.startswith("INSERT INTO cards")]
    rollback = next(i for i, sql in enumerate(statements) if sql.startswith("ROLLBACK TO"))
    assert written[0] < rollback < written[-1]  # some written before, the rest after
    assert counted.made == 1


def _noted(statements: list[str]):  # type: ignore[no-untyped-def]
    def note(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    return note


def test_a_deck_name_problem_is_reported_where_it_was_before(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    """Named after a file that cannot name a deck: with cards alike, at the first card's
    line (they went card by card before the keys were worked out alongside); without,
    at the file."""
    library = LibraryService(store, clock)
    alike = tmp_path / "a\tb.csv"
    alike.write_text("Hello,World\nhello,  world\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"a\tb\.csv, line 1: the file's name is the deck"):
        library.import_files([alike])
    apart = tmp_path / "c\td.csv"
    apart.write_text("Hello,World\nBye,Now\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"c\td\.csv: the file's name is the deck"):
        library.import_files([apart])
