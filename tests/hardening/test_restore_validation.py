"""`studyapp restore` takes only a file whose every row the app can read.

A crafted or damaged file (only the schema table, an hour of 99, a due date that is not a
date, demo parameters that are not JSON, a rating of 9, a card of a deck that does not exist,
a trigger...) is refused in one line naming the file and the first bad table, row and
column, and the collection keeps every byte: nothing is saved aside, nothing is replaced.
"""

from __future__ import annotations

import hashlib
import json
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
from tests.cli.test_demo_cli import fakes  # noqa: F401  (the fixture is used by name)
from tests.cli.test_demo_cli import run as demo_run
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
        "table cards, row 1, column front: b'\\x1b[2J' is not non-empty text",
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


GRADED = (
    "INSERT INTO predictions VALUES (1, NULL, 'adam_vs_sgd', '{{}}', 0, {question_id}, 'Q?',"
    " 'Adam', {answer}, NULL, {correct}, '2026-01-01 00:00:00.000000')"
)
LONG_NAME = "'D' || replace(hex(zeroblob(100)), '00', 'xx')"  # 201 characters
# Values the JSON backup's import refuses (or that no command could read back) are refused
# as well: whatever the app exports, it imports again.
IMPORT_REFUSES: dict[str, tuple[tuple[str, ...], str]] = {
    "a deck name that is not UTF-8": (
        ("UPDATE decks SET name = CAST(x'44ff' AS TEXT)",),
        "table decks, row 1, column name: b'D\\xff' is not text: it is not UTF-8",
    ),
    "a front that is not UTF-8": (
        ("UPDATE cards SET front = CAST(x'44ff' AS TEXT) WHERE id = 2",),
        "table cards, row 2, column front: b'D\\xff' is not text: it is not UTF-8",
    ),
    "a lone surrogate's bytes in a back": (
        ("UPDATE cards SET back = CAST(x'41eda080' AS TEXT) WHERE id = 3",),
        "table cards, row 3, column back: b'A\\xed\\xa0\\x80' is not text: it is not UTF-8",
    ),
    "a review time that is not UTF-8": (
        ("UPDATE reviews SET at = CAST(x'32ff' AS TEXT)",),
        "table reviews, row 1, column at: b'2\\xff' is not text: it is not UTF-8",
    ),
    "a kind of review that is not UTF-8": (
        ("UPDATE reviews SET kind = CAST(x'ff' AS TEXT)",),
        "table reviews, row 1, column kind: b'\\xff' is not one of 'new'",
    ),
    "a deck name with a newline": (
        ("UPDATE decks SET name = 'D' || char(10) || 'E'",),
        "table decks, row 1, column name: 'D\\nE' is not a deck name: a deck name cannot hold"
        " a control character",
    ),
    "a deck name with an escape": (
        ("UPDATE decks SET name = 'D' || char(27) || '[2J'",),
        "table decks, row 1, column name: 'D\\x1b[2J' is not a deck name",
    ),
    "a deck name past 200 characters": (
        (f"UPDATE decks SET name = {LONG_NAME}",),
        "is not a deck name: a deck name has at most 200 characters; this one has 201",
    ),
    "half of a card's memory state": (
        ("UPDATE cards SET stability = 3.5, difficulty = NULL WHERE id = 2",),
        "table cards, row 2, column stability: 3.5 is not part of a whole memory state: "
        "stability and difficulty are both given or both null",
    ),
    "half of a review's memory state": (
        ("UPDATE reviews SET stability_after = NULL, difficulty_after = 5.0",),
        "table reviews, row 1, column stability_after: None is not part of a whole memory state",
    ),
    "a deck name with a space at its end": (
        ("UPDATE decks SET name = 'D '",),
        "table decks, row 1, column name: 'D ' is not a deck name: it has spaces at one end",
    ),
    "a card id with a newline": (
        ("UPDATE cards SET uid = 'a' || char(10) || 'b' WHERE id = 2",),
        "table cards, row 2, column uid: 'a\\nb' is not a card id: a card id is 1 to 128",
    ),
    "a NUL in a front": (
        ("UPDATE cards SET front = CAST(x'610062' AS TEXT) WHERE id = 1",),
        "table cards, row 1, column front: 'a\\x00b' is not text: it holds a NUL character",
    ),
    "a NUL in a deck's description": (
        ("UPDATE decks SET description = CAST(x'0062' AS TEXT)",),
        "table decks, row 1, column description: '\\x00b' is not text: it holds a NUL",
    ),
    "a front that is only a no-break space": (
        ("UPDATE cards SET front = char(160) WHERE id = 2",),
        "table cards, row 2, column front: '\\xa0' is not non-empty text: it is empty",
    ),
    "an ease past the scheduler's ceiling": (
        ("UPDATE cards SET ease_cents = 2147483647 WHERE id = 1",),
        "table cards, row 1, column ease_cents: 2147483647 is not an ease in hundredths from 130"
        " to 100000",
    ),
    "repetitions past the scheduler's ceiling": (
        ("UPDATE cards SET repetitions = 2147483647 WHERE id = 2",),
        "table cards, row 2, column repetitions: 2147483647 is not a whole number from 0 to"
        " 1000000",
    ),
    "lapses after a review past the ceiling": (
        ("UPDATE reviews SET lapses_after = 1000001",),
        "table reviews, row 1, column lapses_after: 1000001 is not a whole number from 0 to",
    ),
    "an ease before a review past the ceiling": (
        ("UPDATE reviews SET ease_before = 100001",),
        "table reviews, row 1, column ease_before: 100001 is not an ease in hundredths",
    ),
    "a daily limit of new cards past 100,000": (
        ("UPDATE decks SET new_per_day = 2147483647",),
        "table decks, row 1, column new_per_day: 2147483647 is not a whole number from 0 to 100000",
    ),
    "a daily limit of reviews past 100,000": (
        ("UPDATE decks SET reviews_per_day = 100001",),
        "table decks, row 1, column reviews_per_day: 100001 is not a whole number from 0 to",
    ),
    "a review that took more than a day": (
        ("UPDATE reviews SET duration_ms = 2147483647",),
        "table reviews, row 1, column duration_ms: 2147483647 is not a whole number from 0 to"
        " 86400000",
    ),
    "demo parameters that are not a finite number": (
        ("UPDATE cards SET demo_params = '{\"steps\": NaN}' WHERE demo_id IS NOT NULL",),
        "table cards, row 4, column demo_params: '{\"steps\": NaN}' is not a JSON object of demo"
        " parameters: demo parameter 'steps' is nan, not a finite number",
    ),
    "a demo id of two words": (
        ("UPDATE cards SET demo_id = 'adam vs sgd' WHERE demo_id IS NOT NULL",),
        "table cards, row 4, column demo_id: 'adam vs sgd' is not a demo id: demo id",
    ),
    "a prediction graded without an answer": (
        (GRADED.format(question_id="'q'", answer="NULL", correct=1),),
        "table predictions, row 1, column correct: 1 is not the grade of its answer: 'answer'"
        " and 'correct' are both given (a graded run) or both null",
    ),
    "a prediction with an answer but no grade": (
        (GRADED.format(question_id="'q'", answer="'Adam'", correct="NULL"),),
        "table predictions, row 1, column correct: None is not the grade of its answer",
    ),
    "a right prediction graded wrong": (
        (GRADED.format(question_id="'q'", answer="'Adam'", correct=0),),
        "table predictions, row 1, column correct: 0 is not the grade of its answer: 'correct'"
        " is false, but the prediction is the answer",
    ),
    "a question id past 64 characters": (
        (GRADED.format(question_id="hex(zeroblob(33))", answer="'Adam'", correct=1),),
        "table predictions, row 1, column question_id: '00000000000000000000000000000000000000…"
        " is not a question id: 'question_id' must be 1 to 64 characters",
    ),
    "a bundled deck renamed to a name with a newline": (
        (
            "INSERT INTO bundled_changes VALUES"
            " ('renamed_deck', 'Class Thirteen', 'New' || char(10) || 'name')",
        ),
        "table bundled_changes, row 1, column current: 'New\\nname' is not a deck name",
    ),
    "a deleted bundled deck with a name too long": (
        (f"INSERT INTO bundled_changes VALUES ('deleted_deck', {LONG_NAME}, NULL)",),
        "table bundled_changes, row 1, column bundled: 'Dxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…"
        " is not a bundled card id or deck name: a deck name has at most 200 characters",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_restore_refuses_a_file_with_a_value_the_app_cannot_read(
    db_path: Path, candidate: Path, capsys: Capture, case: str
) -> None:
    statements, reason = CASES[case]
    change(candidate, *statements)
    refused_cleanly(db_path, candidate, capsys, reason)


@pytest.mark.parametrize("case", IMPORT_REFUSES)
def test_restore_refuses_a_value_the_json_import_refuses(
    db_path: Path, candidate: Path, capsys: Capture, case: str
) -> None:
    statements, reason = IMPORT_REFUSES[case]
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


@pytest.mark.usefixtures("fakes")
def test_a_collection_the_app_made_is_restored_and_exports_and_imports_again(
    db_path: Path, tmp_path: Path, capsys: Capture
) -> None:
    """Nothing the app itself keeps is refused: the bundled deck after `init`, reviews, an
    FSRS deck, graded and ungraded predictions of a demo run, an import with `::` in deck
    names and two decks one backup names apart by letter case, times with and without
    fractional seconds, null optional columns."""
    assert run_cli(capsys, "init", "--db", db_path)[0] == 0
    backup_json = tmp_path / "in.json"
    backup_json.write_text(
        json.dumps(
            {
                "version": 1,
                "decks": [
                    {"name": "Anki::Sub deck", "cards": [{"id": "n1", "front": "é", "back": ""}]},
                    {"name": "Zeta Case", "cards": [{"id": "z1", "front": "upper", "back": "a"}]},
                    {"name": "zeta CASE", "cards": [{"id": "z2", "front": "lower", "back": "b"}]},
                ],
            }
        )
    )
    assert run_cli(capsys, "import", backup_json, "--db", db_path)[0] == 0
    store = open_store(str(db_path))
    for deck in ("Zeta Case", "Class Thirteen: Optimizers"):
        session = StudySession(store, deck)
        for rating in (2, 4, 5):
            if session.current is not None:
                session.answer(rating)
    store.dispose()
    status, _, err = run_cli(
        capsys, "deck", "Class Thirteen: Optimizers", "--scheduler", "fsrs", "--db", db_path
    )
    assert status == 0, err
    for predict in (("--predict", "1"), ()):
        status, _, err = demo_run(capsys, "demo", "run", "echo", *predict, "--db", str(db_path))
        assert status == 0, err
    with sqlite3.connect(db_path) as conn:  # an ungraded prediction, a time without fraction
        conn.execute(
            "INSERT INTO predictions (card_id, demo_id, params, seed, question_id, question,"
            " chosen, answer, why, correct, at) SELECT card_id, demo_id, params, seed + 1,"
            " question_id, question, chosen, NULL, NULL, NULL, substr(at, 1, 19)"
            " FROM predictions LIMIT 1"
        )
        assert conn.execute("SELECT count(*) FROM predictions").fetchone()[0] >= 2
        assert conn.execute("SELECT count(*) FROM cards WHERE stability IS NULL").fetchone()[0]
    candidate = tmp_path / "candidate.db"
    assert run_cli(capsys, "backup", "--output", candidate, "--db", db_path)[0] == 0
    target = tmp_path / "restored" / "c.db"
    status, _, err = run_cli(capsys, "restore", candidate, "--db", target)
    assert status == 0, err
    exported = tmp_path / "out.json"
    (tmp_path / "decks").mkdir()
    for command in (
        ("export", "--format", "json", "--output", exported),
        ("export", "--format", "md", "--output", tmp_path / "decks"),
        ("import", exported, "--db", tmp_path / "again.db"),
    ):
        status, _, err = run_cli(capsys, *command, *(() if "--db" in command else ("--db", target)))
        assert status == 0, err
