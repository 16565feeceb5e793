"""`studyapp add`, `delete`, `cards` and `deck` as scripts use them: JSON out, one-line
errors with exit status 2, and a collection left exactly as it was on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studyapp.db import open_store
from studyapp.db.store import list_backups
from studyapp.services.cards import CardService
from studyapp.services.library import LibraryService
from studyapp.services.study import StudySession
from tests.cli.test_collection_cli import run

Capture = pytest.CaptureFixture[str]
BUNDLED_NAME = "Class Thirteen: Optimizers"


@pytest.fixture
def db(db_path: Path) -> Path:
    """A collection with a deck named like a bundled one (spaces and a colon), two cards,
    one of them reviewed, and a second deck."""
    store = open_store(str(db_path))
    cards = CardService(store)
    cards.add(BUNDLED_NAME, "What is Adam?", "An optimizer.", tags=("adam",))
    cards.add(BUNDLED_NAME, "What is momentum?", "A running mean of gradients.")
    cards.add("Basics", "What is an epoch?", "One pass over the data.")
    StudySession(store, BUNDLED_NAME).answer(4)
    store.dispose()
    return db_path


def state(db: Path) -> bytes:
    """The whole collection as its lossless backup, to tell that nothing changed."""
    store = open_store(str(db))
    try:
        return LibraryService(store).export("json")
    finally:
        store.dispose()


def cards_json(capsys: Capture, db: Path, *query: str) -> list[dict]:
    code, out, err = run(capsys, "cards", *query, "--json", "--db", str(db))
    assert code == 0, err
    return json.loads(out)


# --- add ------------------------------------------------------------------------------------


def test_add_prints_the_new_cards_id_and_uid_and_keeps_every_field(db: Path, capsys: Capture):
    code, out, err = run(
        capsys,
        "add",
        "--deck",
        "Basics",
        "--front",
        "What does w[i] <- w[i] - lr * g do?",
        "--back",
        "A step\nof SGD.",
        "--tags",
        "sgd, update rule",
        "--demo",
        "adam_vs_sgd steps=200 lr_adam=0.01",
        "--json",
        "--db",
        str(db),
    )
    assert code == 0 and err == ""
    added = json.loads(out)
    assert set(added) == {"id", "uid", "deck"} and added["deck"] == "Basics"
    found = cards_json(capsys, db, "w[i]")
    assert [c["id"] for c in found] == [added["uid"]]
    assert found[0]["back"] == "A step\nof SGD."
    assert found[0]["tags"] == ["sgd", "update_rule"]
    assert found[0]["demo"] == {"id": "adam_vs_sgd", "params": {"lr_adam": 0.01, "steps": 200}}
    assert found[0]["state"]["due"] is None

    code, out, _ = run(
        capsys, "add", "--deck", "New one", "--front", "q", "--back", "a", "--db", str(db)
    )
    assert code == 0 and out.startswith("Added card ") and "to the new deck 'New one'" in out


def test_add_says_when_the_deck_already_holds_the_same_front(db: Path, capsys: Capture):
    code, _, err = run(
        capsys,
        "add",
        "--deck",
        BUNDLED_NAME,
        "--front",
        "what is  ADAM?",
        "--back",
        "x",
        "--db",
        str(db),
    )
    assert code == 0 and "already held a card with this front" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--deck", " ", "--front", "q", "--back", "a"], "a deck needs a name"),
        (["--deck", "a\tb", "--front", "q", "--back", "a"], "cannot hold a control character"),
        (["--deck", "D", "--front", "  ", "--back", "a"], "a card needs a front"),
        (["--deck", "D", "--front", "q\udcff", "--back", "a"], "(the front given) is not UTF-8"),
        (["--deck", "D", "--front", "q", "--back", "a", "--demo", "nope"], "no demo 'nope'"),
        (
            ["--deck", "D", "--front", "q", "--back", "a", "--demo", "adam_vs_sgd steps=0"],
            "parameter 'steps' must be between",
        ),
        (
            ["--deck", "D", "--front", "q", "--back", "a", "--demo", "adam_vs_sgd steps"],
            "a demo link is the demo's id, then KEY=VALUE overrides",
        ),
        (["--deck", "D", "--front", "q", "--back", "a", "--demo", " "], "--demo is empty"),
        (["--deck", "D", "--front", "q"], "the following arguments are required: --back"),
    ],
)
def test_bad_input_to_add_is_one_line_and_changes_nothing(
    db: Path, capsys: Capture, args: list[str], message: str
):
    before = state(db)
    code, out, err = run(capsys, "add", *args, "--db", str(db))
    assert (code, out) == (2, "")
    assert message in err and len(err.strip().splitlines()) == 1
    assert state(db) == before


# --- delete ---------------------------------------------------------------------------------


def test_delete_takes_ids_and_uids_with_their_history_after_a_backup(db: Path, capsys: Capture):
    epoch, adam, momentum = cards_json(capsys, db, "what")
    assert adam["reviews"]  # rated once in the fixture
    code, out, _ = run(capsys, "cards", "--db", str(db))
    number = next(line.split()[0] for line in out.splitlines() if "epoch" in line)

    code, out, err = run(
        capsys, "delete", adam["id"], number, adam["id"], "--json", "--db", str(db)
    )
    assert code == 0, err
    report = json.loads(out)
    assert [c["uid"] for c in report["deleted"]] == [adam["id"], epoch["id"]]
    assert report["deleted"][1] == {
        "id": int(number),
        "uid": epoch["id"],
        "deck": "Basics",
        "front": "What is an epoch?",
    }
    assert report["reviews"] == 1
    assert Path(report["backup"]).exists() and list_backups(db) == [Path(report["backup"])]
    assert [c["id"] for c in cards_json(capsys, db)] == [momentum["id"]]
    store = open_store(str(db))
    with store.reading() as rows:
        assert rows("SELECT count(*) FROM reviews", {}) == [(0,)]
    store.dispose()


def test_delete_refuses_every_card_when_one_is_unknown(db: Path, capsys: Capture):
    adam = cards_json(capsys, db, "adam")[0]
    before = state(db)
    code, out, err = run(capsys, "delete", adam["id"], "nope", "12345", "--db", str(db))
    assert (code, out) == (2, "")
    assert "no card has the id or uid 'nope', '12345'; nothing was deleted" in err
    assert state(db) == before and list_backups(db) == []


def test_delete_names_a_card_number_no_card_can_have(db: Path, capsys: Capture):
    before = state(db)
    code, out, err = run(capsys, "delete", "²", "9" * 30, "--db", str(db))
    assert (code, out) == (2, "")
    assert f"no card has the id or uid '²', '{'9' * 30}'; nothing was deleted" in err
    assert state(db) == before


def test_delete_refuses_a_number_that_is_one_cards_id_and_anothers_uid(
    db_path: Path, capsys: Capture, tmp_path: Path
):
    deck = tmp_path / "deck.md"
    deck.write_text("# Numbered\n\n## 1\n\nq\n\n---\n\na\n", encoding="utf-8")
    store = open_store(str(db_path))
    CardService(store).add("D", "first", "card")  # id 1
    LibraryService(store).import_files([deck])  # uid "1", id 2
    store.dispose()
    code, _, err = run(capsys, "delete", "1", "--db", str(db_path))
    assert code == 2 and "'1' is the id of card" in err and "nothing was deleted" in err


# --- cards ----------------------------------------------------------------------------------


def test_cards_finds_a_deck_by_a_name_with_spaces_quoted_in_the_shell(db: Path, capsys: Capture):
    # `studyapp cards deck:"Class Thirteen: Optimizers"` reaches the command as one word.
    found = cards_json(capsys, db, f"deck:{BUNDLED_NAME}")
    assert [c["front"] for c in found] == ["What is Adam?", "What is momentum?"]
    assert cards_json(capsys, db, f'deck:"{BUNDLED_NAME}"', "tag:adam")[0]["front"] == (
        "What is Adam?"
    )
    new = [c["front"] for c in cards_json(capsys, db, "is:new")]
    assert new == ["What is an epoch?", "What is momentum?"]


def test_cards_json_is_the_backups_card_with_its_deck(db: Path, capsys: Capture, tmp_path: Path):
    found = cards_json(capsys, db)
    backup = json.loads(state(db))
    expected = [
        {"id": card["id"], "deck": deck["name"], **card}
        for deck in backup["decks"]
        for card in deck["cards"]
    ]
    assert found == expected
    assert list(found[0]) == [
        "id",
        "deck",
        "front",
        "back",
        "tags",
        "source",
        "demo",
        "suspended",
        "state",
        "memory",
        "reviews",
    ]


def test_cards_prints_a_table_for_a_person(db: Path, capsys: Capture):
    code, out, _ = run(capsys, "cards", "deck:basics", "--db", str(db))
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["Id", "Uid", "Deck", "Due", "Front"]
    assert "What is an epoch?" in lines[2] and "new" in lines[2] and lines[-1] == "1 card"
    code, out, _ = run(capsys, "cards", "nothing-like-this", "--db", str(db))
    assert (code, out) == (0, "No cards match.\n")


def test_cards_reads_only(tmp_path: Path, capsys: Capture):
    missing = tmp_path / "missing.db"
    code, out, err = run(capsys, "cards", "--db", str(missing))
    assert (code, out) == (2, "") and "there is no collection" in err and not missing.exists()
    code, out, err = run(capsys, "deck", "D", "--db", str(missing))
    assert (code, out) == (2, "") and not missing.exists()


def test_a_bad_query_is_one_line(db: Path, capsys: Capture):
    code, out, err = run(capsys, "cards", "is:lately", "--db", str(db))
    assert (code, out) == (2, "") and "is:lately is not a search" in err


# --- deck -----------------------------------------------------------------------------------


def deck_json(capsys: Capture, db: Path, *args: str) -> dict:
    code, out, err = run(capsys, "deck", *args, "--json", "--db", str(db))
    assert code == 0, err
    return json.loads(out)


def test_deck_shows_its_options_and_counts(db: Path, capsys: Capture):
    shown = deck_json(capsys, db, BUNDLED_NAME)
    assert shown == {
        "name": BUNDLED_NAME,
        "total": 2,
        "new": 1,
        "due": 0,
        "learning": 0,
        "unseen": 1,
        "suspended": 0,
        "description": "",
        "settings": {
            "new_per_day": 20,
            "reviews_per_day": 200,
            "day_start_hour": 4,
            "scheduler": "sm2",
            "desired_retention": 0.9,
        },
        "fsrs_parameters": "default",
    }
    code, out, _ = run(capsys, "deck", BUNDLED_NAME, "--db", str(db))
    assert code == 0 and out.splitlines()[0] == f"Deck '{BUNDLED_NAME}'"
    assert "2 cards: 1 new, 0 due today" in out and "--day-start-hour, 0 to 23" in out
    assert "Scheduler              SM-2   (--scheduler, sm2 or fsrs)" in out
    assert "Desired retention      0.90   (--desired-retention, 0.70 to 0.97)" in out


def test_deck_create_rename_set_options_and_delete(db: Path, capsys: Capture):
    made = deck_json(capsys, db, "Papers", "--create", "--new-per-day", "5")
    assert made["total"] == 0 and made["settings"]["new_per_day"] == 5

    renamed = deck_json(capsys, db, "Papers", "--rename", "Papers I read", "--day-start-hour", "0")
    assert renamed["name"] == "Papers I read" and renamed["settings"] == {
        "new_per_day": 5,
        "reviews_per_day": 200,
        "day_start_hour": 0,
        "scheduler": "sm2",
        "desired_retention": 0.9,
    }
    changed = deck_json(capsys, db, BUNDLED_NAME, "--reviews-per-day", "1_000")
    assert changed["settings"]["reviews_per_day"] == 1000 and changed["total"] == 2

    # Limits and the scheduler together, in one command: the reviewed card gets its memory.
    fsrs = deck_json(
        capsys,
        db,
        BUNDLED_NAME,
        "--new-per-day",
        "3",
        "--scheduler",
        "fsrs",
        "--desired-retention",
        "0.8",
    )
    assert (fsrs["settings"]["new_per_day"], fsrs["settings"]["scheduler"]) == (3, "fsrs")
    assert fsrs["settings"]["desired_retention"] == 0.8
    assert (fsrs["switched"], fsrs["memory_from_log"]) == (True, 1)
    code, out, _ = run(capsys, "deck", BUNDLED_NAME, "--scheduler", "sm2", "--db", str(db))
    assert code == 0 and "now schedules with SM-2" in out and "Scheduler              SM-2" in out

    deleted = deck_json(capsys, db, BUNDLED_NAME, "--delete")
    assert deleted["deleted"] == BUNDLED_NAME and (deleted["cards"], deleted["reviews"]) == (2, 1)
    assert Path(deleted["backup"]).exists()
    code, out, _ = run(capsys, "decks", "--json", "--db", str(db))
    assert [d["name"] for d in json.loads(out)] == ["Basics", "Papers I read"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Nope"], "there is no deck named 'Nope'"),
        (["Nope", "--new-per-day", "3"], "there is no deck named 'Nope'"),
        (["Nope", "--delete"], "there is no deck named 'Nope'"),
        (["Basics", "--create"], "there is already a deck named 'Basics'"),
        (["Basics", "--rename", BUNDLED_NAME], f"there is already a deck named '{BUNDLED_NAME}'"),
        (["Basics", "--rename", "x\x1b[2J"], "cannot hold a control character"),
        (["Basics", "--rename", " "], "a deck needs a name"),
        (["Basics", "--new-per-day", "-1"], "--new-per-day: new_per_day must be from 0 to 100,000"),
        (["Basics", "--new-per-day", "9" * 400], "new_per_day must be from 0 to 100,000"),
        (["Basics", "--desired-retention", "9" * 400], "desired retention is a probability"),
        (
            ["Basics", "--reviews-per-day", "lots"],
            "--reviews-per-day: reviews a day must be a whole",
        ),
        (["Basics", "--day-start-hour", "24"], "the day starts at an hour from 0 to 23, not 24"),
        (["Basics", "--delete", "--new-per-day", "3"], "--delete takes no other option"),
        (["Basics", "--delete", "--create"], "not allowed with argument"),
        (["New", "--create", "--day-start-hour", "25"], "from 0 to 23, not 25"),
        (["Basics", "--scheduler", "anki"], "invalid choice: 'anki'"),
        (
            ["Basics", "--new-per-day", "3", "--desired-retention", "0.99"],
            "--desired-retention: desired retention is a probability from 0.70 to 0.97, not 0.99",
        ),
        (["Basics", "--desired-retention", "most"], "desired retention must be a number"),
        (["New", "--create", "--scheduler", "fsrs", "--desired-retention", "inf"], "not inf"),
    ],
)
def test_bad_input_to_deck_is_one_line_and_changes_nothing(
    db: Path, capsys: Capture, args: list[str], message: str
):
    before = state(db)
    code, out, err = run(capsys, "deck", *args, "--db", str(db))
    assert (code, out) == (2, "")
    assert message in err and len(err.strip().splitlines()) == 1
    assert state(db) == before and list_backups(db) == []


def test_a_bundled_card_deleted_on_the_command_line_stays_deleted_after_init(
    db_path: Path, capsys: Capture
):
    code, out, err = run(capsys, "init", "--db", str(db_path))
    assert code == 0, err
    total = sum(
        d["total"] for d in json.loads(run(capsys, "decks", "--json", "--db", str(db_path))[1])
    )
    code, _, err = run(capsys, "delete", "ct-001", "--db", str(db_path))
    assert code == 0, err
    code, out, _ = run(capsys, "init", "--db", str(db_path))
    stays = "1 bundled card you deleted stays deleted"
    assert f"{total - 1} cards (0 added from the bundled deck; {stays})" in out
    assert cards_json(capsys, db_path, "deck:Class*", "ct-001") == []
