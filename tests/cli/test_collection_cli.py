"""`studyapp init`, `decks` and `stats` as scripts use them: JSON out, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studyapp.cli import main
from studyapp.db import open_store
from studyapp.services.cards import CardService


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the command line as a script would; usage errors exit through SystemExit."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_decks_json_lists_counts(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cards = CardService(open_store(str(db_path)))
    for i in range(3):
        cards.add("Optimizers", f"q{i}", "a")
    cards.add("CNN", "conv?", "cross-correlation")
    code, out, err = run(capsys, "decks", "--json", "--db", str(db_path))
    assert code == 0 and err == ""
    assert json.loads(out) == [
        {"name": "CNN", "total": 1, "new": 1, "due": 0, "learning": 0, "unseen": 1},
        {"name": "Optimizers", "total": 3, "new": 3, "due": 0, "learning": 0, "unseen": 3},
    ]
    code, out, _ = run(capsys, "decks", "--db", str(db_path))
    assert code == 0 and "Optimizers" in out and "All decks" in out


def test_headless_commands_that_write_create_the_collection_and_those_that_read_do_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "sub" / "new.db"
    code, out, err = run(capsys, "decks", "--json", "--db", str(target))
    assert code == 2 and out == "" and f"there is no collection at {target}" in err
    assert not target.parent.exists()

    deck = tmp_path / "deck.csv"
    deck.write_text("What is SGD?,Stochastic gradient descent\nWhat is Adam?,An optimizer\n")
    code, _, err = run(capsys, "import", str(deck), "--db", str(target))
    assert code == 0, err
    code, out, _ = run(capsys, "decks", "--json", "--db", str(target))
    assert code == 0 and json.loads(out)[0]["total"] == 2


def test_db_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "env.db"
    monkeypatch.setenv("STUDYAPP_DB", str(target))
    CardService(open_store(str(target))).add("Env", "q", "a")
    code, out, _ = run(capsys, "decks", "--json")
    assert code == 0 and json.loads(out)[0]["name"] == "Env"


def test_stats_json_has_the_contract_fields(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    CardService(open_store(str(db_path))).add("D", "q", "a")
    code, out, _ = run(capsys, "stats", "--json", "--db", str(db_path))
    data = json.loads(out)
    assert code == 0
    assert {"reviews_per_day", "retention", "streak", "forecast"} <= set(data)
    assert len(data["forecast"]) == 30
    code, out, _ = run(capsys, "stats", "--db", str(db_path))
    assert code == 0 and "retention" in out


def test_stats_bars_are_scaled_to_the_busiest_day(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3
    from datetime import date, timedelta

    card = CardService(open_store(str(db_path))).add("D", "q", "a")
    week_ago = date.today() - timedelta(days=7)
    with sqlite3.connect(db_path) as conn:
        conn.executemany(
            "INSERT INTO reviews (card_id, at, study_day, rating, duration_ms, kind,"
            " ease_before, interval_before, repetitions_before, lapses_before,"
            " ease_after, interval_after, repetitions_after, lapses_after)"
            " VALUES (?, '2026-01-01 00:00:00', ?, 4, 0, 'review', 250, 1, 1, 0, 250, 1, 1, 0)",
            [(card.id, (week_ago - timedelta(days=d)).isoformat()) for d in [0] * 2000 + [1] * 500],
        )
    code, out, _ = run(capsys, "stats", "--db", str(db_path))
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
    argv: list[str], db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, *argv, "--db", str(db_path))
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_a_newer_collection_is_refused_on_the_command_line(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import text

    store = open_store(str(db_path))
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'zzzz'"))
    store.dispose()
    code, _, err = run(capsys, "decks", "--db", str(db_path))
    assert code == 2
    assert str(db_path) in err and "newer version" in err
