"""`studyapp deck NAME --scheduler`, `scheduler optimize` and `scheduler evaluate` as scripts
use them: JSON out, one-line errors, nothing changed on bad input."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from studyapp.cli import main
from studyapp.db import open_store
from studyapp.services.cards import CardService
from studyapp.services.decks import DeckService
from tests.services.learners import simulate


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_a_deck_switches_scheduler_and_retention(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    CardService(open_store(str(db_path))).add("Optimizers", "Adam?", "moments")
    db = ("--db", str(db_path))
    code, out, err = run(capsys, "deck", "Optimizers", "--scheduler", "fsrs", "--json", *db)
    assert code == 0 and err == ""
    data = json.loads(out)
    settings = data["settings"]
    assert (settings["scheduler"], settings["desired_retention"], data["switched"]) == (
        "fsrs",
        0.9,
        True,
    )
    code, out, _ = run(capsys, "deck", "Optimizers", "--desired-retention", "0.85", *db)
    assert code == 0 and "0.85" in out
    code, out, _ = run(capsys, "deck", "Optimizers", *db)
    assert code == 0 and "FSRS" in out and "0.85" in out
    code, out, _ = run(capsys, "deck", "Optimizers", "--scheduler", "sm2", *db)
    assert code == 0 and "SM-2" in out
    assert DeckService(open_store(str(db_path))).get("Optimizers").settings.scheduler == "sm2"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--desired-retention", "0.5"), "desired retention is a probability from 0.70 to 0.97"),
        (("--desired-retention", "nan"), "desired retention"),
        (("--scheduler", "anki"), "invalid choice"),
    ],
)
def test_bad_deck_settings_are_one_line_and_change_nothing(
    db_path: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    CardService(open_store(str(db_path))).add("D", "q", "a")
    code, out, err = run(capsys, "deck", "D", *argv, "--db", str(db_path))
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1
    settings = DeckService(open_store(str(db_path))).get("D").settings
    assert (settings.scheduler, settings.desired_retention) == ("sm2", 0.9)
    code, _, err = run(capsys, "deck", "Nope", "--scheduler", "fsrs", "--db", str(db_path))
    assert code == 2 and "no deck named 'Nope'" in err


def write_revlog(path: Path, cards: int, days: int, seed: int) -> int:
    """A review log in the fsrs package's CSV layout, from a simulated learner; returns
    how many rows it has."""
    buttons = {1: 1, 2: 1, 3: 2, 4: 3, 5: 4}
    rows = 0
    with path.open("w", newline="") as file:
        out = csv.writer(file)
        out.writerow(["card_id", "review_rating", "review_time", "review_duration"])
        for card, reviews in simulate(cards, days, seed).items():
            for day, rating in reviews:
                at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
                out.writerow([card, buttons[rating], at.isoformat(), 4000])
                # A same-day repeat after a failure, as a learning step would be.
                if rating < 3:
                    repeat = (at + timedelta(minutes=10)).isoformat()
                    out.writerow([card, 3, repeat, 3000])
                    rows += 1
                rows += 1
    return rows


def test_evaluate_reads_a_csv_review_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "revlog.csv"
    write_revlog(log, cards=30, days=60, seed=5)
    code, out, err = run(capsys, "scheduler", "evaluate", "--revlog", str(log), "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert set(data) == {"cards", "reviews", "models"}
    assert set(data["models"]) == {"sm2", "fsrs_default", "fsrs_fitted"}
    for scores in data["models"].values():
        assert set(scores) == {"log_loss", "rmse_bins", "auc"}
        assert 0 < scores["log_loss"] < 2 and 0 <= scores["rmse_bins"] < 1
    # Too few reviews to fit: the fitted model is the default one, and the text says so.
    assert data["models"]["fsrs_fitted"] == data["models"]["fsrs_default"]
    assert 0 < data["cards"] <= 30 and data["reviews"] >= data["cards"]
    code, out, _ = run(capsys, "scheduler", "evaluate", "--revlog", str(log))
    assert code == 0 and "RMSE(bins)" in out and "fewer than the 512" in out


def test_a_bad_review_log_names_the_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "revlog.csv"
    log.write_text("card_id,review_rating,review_time\n1,3,2024-01-01T10:00:00+00:00\n1,7,x\n")
    code, out, err = run(capsys, "scheduler", "evaluate", "--revlog", str(log))
    assert code == 2 and out == ""
    assert f"{log}, line 3: review_rating must be 1 to 4, not 7" in err
    log.write_text("card,rating\n1,3\n")
    code, _, err = run(capsys, "scheduler", "evaluate", "--revlog", str(log))
    assert code == 2 and "needs the columns card_id, review_rating, review_time" in err


def test_optimize_says_plainly_when_there_are_too_few_reviews(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    CardService(open_store(str(db_path))).add("D", "q", "a")
    code, out, err = run(capsys, "scheduler", "optimize", "--deck", "D", "--db", str(db_path))
    assert code == 0 and err == ""
    assert "FSRS needs at least 512" in out and "stay as they are" in out
    code, out, _ = run(capsys, "scheduler", "optimize", "--json", "--db", str(db_path))
    assert json.loads(out)["fitted"] is False
    code, _, err = run(capsys, "scheduler", "evaluate", "--deck", "D", "--db", str(db_path))
    assert code == 2 and "nothing to evaluate" in err
