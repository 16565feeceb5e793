"""Content keys worked out on a second thread while a file of new cards is written: the
same keys as one by one, and cards alike but for spacing or letter case are still found,
however late in the file, with the import then matched card by card as before."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from studyapp.db import Store
from studyapp.db.repository import content_key
from studyapp.model import Card
from studyapp.services import draft_mapping
from studyapp.services.cards import CardService
from studyapp.services.later_keys import KeysCollide, LaterKeys
from studyapp.services.library import LibraryService
from studyapp.services.query import CardQuery
from studyapp.sqlite_rows import bound_limit_of, insert_columns
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


def test_an_insert_reads_each_statement_s_keys_as_they_come() -> None:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, front TEXT, key TEXT)")
    columns = [FRONTS, LaterKeys(FRONTS, BACKS, held=set())]
    statement = "INSERT INTO t (front, key) VALUES (?, ?)"
    insert_columns(connection.execute, statement, columns, bound_limit_of(connection))
    stored = connection.execute("SELECT front, key FROM t ORDER BY id").fetchall()
    assert stored == list(zip(FRONTS, map(content_key, FRONTS, BACKS), strict=True))


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
