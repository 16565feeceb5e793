"""`studyapp restore` takes only a file whose every row the app can read.

A crafted or damaged file (only the schema table, an hour of 99, a due date that is not a
date, demo parameters that are not JSON, a rating of 9, a card of a deck that does not exist,
a trigger...) is refused in one line naming the file and the first bad table, row and
column, and the collection keeps every byte: nothing is saved aside, nothing is replaced.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from studyapp.db import open_store
from studyapp.db.schema import HEAD, REVISIONS
from studyapp.db.store import backup_folder
from studyapp.model import DemoLink
from studyapp.services.cards import CardService
from studyapp.services.study import StudySession
from tests.hardening.conftest import make_collection, one_line, run_cli

Capture = pytest.CaptureFixture[str]
Sql = Callable[[sqlite3.Connection], object]


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def candidate(db_path: Path, tmp_path: Path, capsys: Capture) -> Path:
    """A good backup of a collection with a deck, cards, a demo link and a review."""
    make_collection(db_path, {"D": 3})
    store = open_store(str(db_path))
    CardService(store).add("D", "front", "back", demo=DemoLink("adam_vs_sgd", {"steps": 5}))
    StudySession(store, "D").answer(4)
    store.dispose()
    path = tmp_path / "candidate.db"
    status, _, err = run_cli(capsys, "backup", "--output", path, "--db", db_path)
    assert status == 0, err
    return path


def change(path: Path, *statements: str) -> None:
    with sqlite3.connect(path) as conn:
        for statement in statements:
            conn.execute(statement)


PREDICTION = (
    "INSERT INTO predictions VALUES (1, {card}, 'adam_vs_sgd', '{{}}', {seed}, 'q', 'Q?',"
    " 'Adam', 'Adam', 'why', {correct}, '2026-01-01 00:00:00.000000')"
)
CASES: dict[str, tuple[tuple[str, ...], str]] = {
    "an hour of 99": (
        ("UPDATE decks SET day_start_hour = 99",),
        "table decks, row 1, column day_start_hour: 99 is not an hour from 0 to 23",
    ),
    "a negative daily limit": (
        ("UPDATE decks SET new_per_day = -1",),
        "table decks, row 1, column new_per_day: -1 is not a whole number from 0 to",
    ),
    "a limit past 32 bits": (
        ("UPDATE decks SET reviews_per_day = 100000000000000000",),
        "table decks, row 1, column reviews_per_day: 100000000000000000 is not a whole number",
    ),
    "text for a number": (
        ("UPDATE decks SET new_per_day = 'twenty'",),
        "table decks, row 1, column new_per_day: 'twenty' is not a whole number",
    ),
    "a due date that is not a date": (
        ("UPDATE cards SET due = 'not-a-date' WHERE id = 2",),
        "table cards, row 2, column due: 'not-a-date' is not a date (YYYY-MM-DD)",
    ),
    "the 30th of February": (
        ("UPDATE cards SET due = '2025-02-30' WHERE id = 3",),
        "table cards, row 3, column due: '2025-02-30' is not a date",
    ),
    "the last day there is": (
        ("UPDATE cards SET buried_until = '9999-12-31' WHERE id = 1",),
        "table cards, row 1, column buried_until: '9999-12-31' is not a date",
    ),
    "demo parameters that are not JSON": (
        ("UPDATE cards SET demo_params = '{not json' WHERE demo_id IS NOT NULL",),
        "table cards, row 4, column demo_params: '{not json' is not a JSON object",
    ),
    "demo parameters that are a list": (
        ("UPDATE cards SET demo_params = '[1, 2]' WHERE demo_id IS NOT NULL",),
        "table cards, row 4, column demo_params: '[1, 2]' is not a JSON object",
    ),
    "an ease below the floor": (
        ("UPDATE cards SET ease_cents = 5 WHERE id = 1",),
        "table cards, row 1, column ease_cents: 5 is not an ease in hundredths from 130",
    ),
    "a negative interval": (
        ("UPDATE cards SET interval = -1 WHERE id = 1",),
        "table cards, row 1, column interval: -1 is not an interval from 0 to 36500 days",
    ),
    "negative lapses": (
        ("UPDATE cards SET lapses = -3 WHERE id = 2",),
        "table cards, row 2, column lapses: -3 is not a whole number from 0",
    ),
    "suspended neither true nor false": (
        ("UPDATE cards SET suspended = 2 WHERE id = 1",),
        "table cards, row 1, column suspended: 2 is not 0 or 1",
    ),
    "a front that is bytes": (
        ("UPDATE cards SET front = X'1b5b324a' WHERE id = 1",),
        "table cards, row 1, column front: b'\\x1b[2J' is not text",
    ),
    "a card of no deck": (
        ("UPDATE cards SET deck_id = 99 WHERE id = 2",),
        "table cards, row 2, column deck_id: 99 is no row of table decks",
    ),
    "a rating of 9": (
        ("UPDATE reviews SET rating = 9",),
        "table reviews, row 1, column rating: 9 is not a rating from 1 to 5",
    ),
    "a review at no time": (
        ("UPDATE reviews SET at = 'yesterday'",),
        "table reviews, row 1, column at: 'yesterday' is not a date and time",
    ),
    "a review time with a zone": (
        ("UPDATE reviews SET at = '2025-01-01 10:00:00+02:00'",),
        "table reviews, row 1, column at: '2025-01-01 10:00:00+02:00' is not a date and time",
    ),
    "an unknown kind of review": (
        ("UPDATE reviews SET kind = 'forged'",),
        "table reviews, row 1, column kind: 'forged' is not one of 'new', 'review'",
    ),
    "a negative duration": (
        ("UPDATE reviews SET duration_ms = -5",),
        "table reviews, row 1, column duration_ms: -5 is not a whole number from 0",
    ),
    "a prediction graded neither right nor wrong": (
        (PREDICTION.format(card="NULL", seed=0, correct=2),),
        "table predictions, row 1, column correct: 2 is not 0 or 1",
    ),
    "a prediction with a seed past 32 bits": (
        (PREDICTION.format(card=4, seed=2**32, correct=1),),
        "table predictions, row 1, column seed: 4294967296 is not a whole number from 0",
    ),
    "a prediction of no card": (
        (PREDICTION.format(card=99, seed=0, correct=1),),
        "table predictions, row 1, column card_id: 99 is no row of table cards",
    ),
    "an unknown change to the bundled deck": (
        ("INSERT INTO bundled_changes VALUES ('lost_card', 'ct-001', NULL)",),
        "table bundled_changes, row 1, column kind: 'lost_card' is not one of 'deleted_card'",
    ),
    "a bundled deck renamed to nothing": (
        ("INSERT INTO bundled_changes VALUES ('renamed_deck', 'Class Thirteen', ' ')",),
        "table bundled_changes, row 1, column current: ' ' is not non-empty text",
    ),
    "a trigger": (
        ("CREATE TRIGGER wipe AFTER INSERT ON reviews BEGIN DELETE FROM cards; END",),
        "it holds a trigger 'wipe', which a collection never has",
    ),
    "a view": (
        ("CREATE VIEW v AS SELECT * FROM cards",),
        "it holds a view 'v', which a collection never has",
    ),
    "a table of its own": (
        ("CREATE TABLE extra (x)",),
        "it holds a table 'extra' that is not part of a collection",
    ),
    "a column of its own": (
        ("ALTER TABLE cards ADD COLUMN extra TEXT",),
        "table cards has a column 'extra' it should not",
    ),
    "a table missing": (
        ("DROP TABLE demo_results",),
        "it has no table 'demo_results'",
    ),
    "a second schema revision": (
        ("INSERT INTO alembic_version VALUES ('0001')",),
        "it names 2 schema revisions, not one",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_restore_refuses_a_file_with_a_value_the_app_cannot_read(
    db_path: Path, candidate: Path, capsys: Capture, case: str
) -> None:
    statements, reason = CASES[case]
    change(candidate, *statements)
    refused_cleanly(db_path, candidate, capsys, reason)


def refused_cleanly(db: Path, candidate: Path, capsys: Capture, reason: str) -> None:
    before = md5(db)
    status, out, err = run_cli(capsys, "restore", candidate, "--db", db)
    assert status == 2 and out == ""
    line = one_line(err)
    assert line.startswith(f"studyapp: {candidate} ") and reason in line, line
    assert md5(db) == before
    assert not backup_folder(db).exists()  # nothing was saved aside: nothing was replaced
    assert sorted(p.name for p in db.parent.iterdir() if p.name.startswith(".")) == []
    status, out, err = run_cli(capsys, "decks", "--db", db)  # the collection still reads
    assert status == 0 and "D " in out, err


def test_restore_refuses_a_file_holding_only_the_schema_revision(
    db_path: Path, tmp_path: Path, capsys: Capture
) -> None:
    make_collection(db_path, {"D": 2})
    for revision in (HEAD, REVISIONS[0]):
        only = tmp_path / f"only-{revision}.db"
        change(
            only,
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
            f"INSERT INTO alembic_version VALUES ('{revision}')",
        )
        # At the current revision the missing tables are named; at an older one, the
        # upgrade that cannot find them says so.
        refused_cleanly(db_path, only, capsys, "table" if revision == HEAD else "schema")


def test_restore_refuses_a_damaged_file(db_path: Path, candidate: Path, capsys: Capture) -> None:
    data = bytearray(candidate.read_bytes())
    page = 4096
    data[3 * page : 4 * page] = b"\xff" * page  # a page of one of the tables, overwritten
    candidate.write_bytes(bytes(data))
    refused_cleanly(db_path, candidate, capsys, "")


def test_after_a_good_restore_every_command_reads_the_collection(
    db_path: Path, candidate: Path, tmp_path: Path, capsys: Capture
) -> None:
    fresh = tmp_path / "elsewhere" / "c.db"
    for target in (db_path, fresh):
        status, _, err = run_cli(capsys, "restore", candidate, "--db", target)
        assert status == 0, err
        for command, shows in (
            (("decks",), "All decks"),
            (("stats",), "cards: 4"),
            (("export", "--format", "json", "--output", "-"), '"adam_vs_sgd"'),
        ):
            status, out, err = run_cli(capsys, *command, "--db", target)
            assert status == 0 and shows in out, err
        with sqlite3.connect(target) as conn:
            assert conn.execute("SELECT count(*) FROM reviews").fetchone() == (1,)
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
