"""`studyapp init`, `decks` and `stats` as scripts use them: JSON out, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studyapp.cli import main
from studyapp.db import open_store
from studyapp.services.cards import CardService
from tests.backends import holds_anything, on_server, shown, sql


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the command line as a script would; usage errors exit through SystemExit."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_decks_json_lists_counts(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    cards = CardService(open_store(db))
    for i in range(3):
        cards.add("Optimizers", f"q{i}", "a")
    cards.add("CNN", "conv?", "cross-correlation")
    code, out, err = run(capsys, "decks", "--json", "--db", db)
    assert code == 0 and err == ""
    assert json.loads(out) == [
        {"name": "CNN", "total": 1, "new": 1, "due": 0, "learning": 0, "unseen": 1},
        {"name": "Optimizers", "total": 3, "new": 3, "due": 0, "learning": 0, "unseen": 3},
    ]
    code, out, _ = run(capsys, "decks", "--db", db)
    assert code == 0 and "Optimizers" in out and "All decks" in out


def test_headless_commands_that_write_create_the_collection_and_those_that_read_do_not(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = db if on_server(db) else str(tmp_path / "sub" / "new.db")
    code, out, err = run(capsys, "decks", "--json", "--db", target)
    assert code == 2 and out == ""
    if on_server(db):
        assert "holds no collection yet: `studyapp init` makes one there" in err
        assert ":***@" in err and db.split(":")[2].split("@")[0] not in err  # no password
    else:
        assert f"there is no collection at {target}" in err
        assert not Path(target).parent.exists()
    assert not holds_anything(target)

    deck = tmp_path / "deck.csv"
    deck.write_text("What is SGD?,Stochastic gradient descent\nWhat is Adam?,An optimizer\n")
    code, _, err = run(capsys, "import", str(deck), "--db", target)
    assert code == 0, err
    code, out, _ = run(capsys, "decks", "--json", "--db", target)
    assert code == 0 and json.loads(out)[0]["total"] == 2


def test_db_from_environment(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STUDYAPP_DB", db)
    CardService(open_store(db)).add("Env", "q", "a")
    code, out, _ = run(capsys, "decks", "--json")
    assert code == 0 and json.loads(out)[0]["name"] == "Env"


def test_stats_json_has_the_contract_fields(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    CardService(open_store(db)).add("D", "q", "a")
    code, out, _ = run(capsys, "stats", "--json", "--db", db)
    data = json.loads(out)
    assert code == 0
    assert {"reviews_per_day", "retention", "streak", "forecast"} <= set(data)
    assert len(data["forecast"]) == 30
    assert data["cards"] == data["unseen"] == data["new"] == 1  # never studied, as in `decks`
    code, out, _ = run(capsys, "stats", "--db", db)
    assert code == 0 and "retention" in out


def test_stats_bars_are_scaled_to_the_busiest_day(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import date, timedelta

    card = CardService(open_store(db)).add("D", "q", "a")
    week_ago = date.today() - timedelta(days=7)
    values = ", ".join(
        f"({card.id}, '2026-01-01 00:00:00', '{week_ago - timedelta(days=d)}', 4, 0, 'review',"
        " 250, 1, 1, 0, 250, 1, 1, 0)"
        for d in [0] * 2000 + [1] * 500
    )
    sql(
        db,
        "INSERT INTO reviews (card_id, at, study_day, rating, duration_ms, kind,"
        " ease_before, interval_before, repetitions_before, lapses_before,"
        " ease_after, interval_after, repetitions_after, lapses_after)"
        f" VALUES {values}",
    )
    code, out, _ = run(capsys, "stats", "--db", db)
    bars = {
        line.split()[0]: line.split()[-1]
        for line in out.splitlines()
        if line.strip()[:4].isdigit() and "#" in line
    }
    assert code == 0
    assert bars[week_ago.isoformat()] == "#" * 40
    assert bars[(week_ago - timedelta(days=1)).isoformat()] == "#" * 10


@pytest.mark.parametrize(
    "argv",
    [
        ["stats", "--deck", "Nope"],
        ["decks", "--bogus"],
        ["frobnicate"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, *argv, "--db", db)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_a_newer_collection_is_refused_on_the_command_line(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import text

    store = open_store(db)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'zzzz'"))
    store.dispose()
    code, _, err = run(capsys, "decks", "--db", db)
    assert code == 2
    assert shown(db) in err and "newer version" in err


@pytest.mark.parametrize(
    ("argv", "command", "stray"),
    [
        (["scheduler", "evaluate", "reviews.csv"], "studyapp scheduler evaluate", "reviews.csv"),
        (["decks", "--db", "c.db", "extra"], "studyapp decks", "extra"),
        (["--db", "c.db", "deck", "Optimizers", "x", "y"], "studyapp deck", "x y"),
    ],
)
def test_a_stray_argument_is_named_by_the_command_it_was_given_to(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    command: str,
    stray: str,
) -> None:
    # The command's own help lists what it takes (evaluate's: --revlog FILE).
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err == f"{command}: unrecognized arguments: {stray} (see `{command} --help`)\n"
    assert not Path("c.db").exists()


def test_a_stray_argument_reaches_the_terminal_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    # A file name found by a shell glob may hold a terminal control (here: set the title).
    code, _, err = run(capsys, "decks", "\x1b]0;pwned\x07")
    assert code == 2 and "\x1b" not in err and "\x07" not in err
    assert "unrecognized arguments: \\x1b]0;pwned\\x07" in err
