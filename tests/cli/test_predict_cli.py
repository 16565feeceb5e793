"""`studyapp demo run ... --predict OPTION`: predict first, then see whether you were right.

Runs the torch-free fake catalogue; its echo demo asks where its line ends (value x steps +
seed: above 50 or not) and which of value and steps is larger.
"""

from __future__ import annotations

import json

import pytest

from studyapp.db import open_store
from studyapp.db.predictions import every
from studyapp.services.cards import CardService
from tests.backends import dump
from tests.cli.test_demo_cli import fakes, run  # noqa: F401  (the fixture is used by name)

Capture = pytest.CaptureFixture[str]


def stored(db: str) -> list[tuple[str | None, str, str | None, bool | None, int | None]]:
    store = open_store(db)
    try:
        with store.reading() as rows:
            return [(p.question_id, p.chosen, p.answer, p.correct, p.card_id) for p in every(rows)]
    finally:
        store.dispose()


@pytest.mark.usefixtures("fakes")
def test_predictions_by_text_and_by_number_are_graded_in_the_json(db: str, capsys: Capture) -> None:
    code, out, err = run(
        capsys,
        "demo", "run", "echo", "--set", "value=20", "--db", db, "--json",
        "--predict", "AT 50 or below", "--predict", "1",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    end, larger = result["predictions"]
    assert (end["answer"], end["predicted"], end["correct"]) == (
        "above 50",
        "at 50 or below",
        False,
    )
    assert end["why"] == "The line ends at 100."
    assert (larger["answer"], larger["predicted"], larger["correct"]) == ("the value",) * 2 + (
        True,
    )
    assert stored(db) == [
        ("end", "at 50 or below", "above 50", False, None),
        ("larger", "the value", "the value", True, None),
    ]


@pytest.mark.usefixtures("fakes")
def test_the_answer_follows_the_parameters(db: str, capsys: Capture) -> None:
    for value, answer in (("1", "at 50 or below"), ("11", "above 50")):
        code, out, _ = run(
            capsys, "demo", "run", "echo", "--set", f"value={value}", "--predict", "1",
            "--db", db, "--json",
        )  # fmt: skip
        assert code == 0
        (end, _) = json.loads(out)["predictions"]
        assert (end["answer"], end["correct"]) == (answer, answer == "above 50")


@pytest.mark.usefixtures("fakes")
def test_without_json_it_says_whether_you_were_right_before_the_result(
    db: str, capsys: Capture
) -> None:
    code, out, err = run(capsys, "demo", "run", "echo", "--predict", "above 50", "--db", db)
    assert code == 0, err
    assert out.startswith(
        "Where does the line end?\n"
        "  You predicted: above 50. Wrong: it was at 50 or below.\n"
        "  The line ends at 5.\n"
    )
    assert out.index("Wrong: it was") < out.index("Echo (echo), seed 0") < out.index("✓ the line")
    assert "Which is larger?" not in out  # only the question predicted is graded at the top


@pytest.mark.usefixtures("fakes")
def test_a_cached_result_grades_a_prediction_made_before_it_was_read(
    db: str, capsys: Capture
) -> None:
    assert run(capsys, "demo", "run", "echo", "--db", db)[0] == 0
    code, out, _ = run(capsys, "demo", "run", "echo", "--predict", "2", "--db", db, "--json")
    result = json.loads(out)
    assert code == 0 and result["cached"] is True
    assert (result["predictions"][0]["correct"], result["predictions"][1]["predicted"]) == (
        True,
        None,
    )
    assert stored(db) == [("end", "at 50 or below", "at 50 or below", True, None)]


@pytest.mark.usefixtures("fakes")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["echo", "--predict", "maybe"], "--predict for question 1 (end): 'maybe' is not one"),
        (["echo", "--predict", "1", "--predict", "4"], "(1 the value; 2 the steps; 3 neither)"),
        (["echo", "--predict", "0"], "give an option's text or its number"),
        (
            ["echo", *["--predict", "1"] * 3],
            "demo echo asks 2 questions, but --predict was given 3",
        ),
        (["slow", "--predict", "1"], "demo slow asks no prediction questions"),
    ],
)
def test_a_bad_prediction_is_one_line_exit_2_and_stores_nothing(
    db: str, capsys: Capture, args: list[str], message: str
) -> None:
    open_store(db).dispose()  # an existing collection, which must not change
    before = dump(db)
    code, out, err = run(capsys, "demo", "run", *args, "--db", db)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err, err
    assert dump(db) == before
    assert stored(db) == []


@pytest.mark.usefixtures("fakes")
def test_stats_count_predictions_per_demo_and_per_week(db: str, capsys: Capture) -> None:
    for value in ("1", "20"):  # "above 50" is wrong at value 1, right at value 20
        argv = ["demo", "run", "echo", "--set", f"value={value}", "--predict", "1"]
        assert run(capsys, *argv, "--db", db)[0] == 0
    code, out, err = run(capsys, "stats", "--json", "--db", db)
    assert code == 0, err
    predictions = json.loads(out)["predictions"]
    assert {k: predictions[k] for k in ("total", "correct", "rate", "ungraded")} == {
        "total": 2,
        "correct": 1,
        "rate": 0.5,
        "ungraded": 0,
    }
    assert predictions["per_demo"] == {"echo": {"total": 2, "correct": 1}}
    assert [(w["total"], w["correct"]) for w in predictions["per_week"]] == [(2, 1)]

    code, out, _ = run(capsys, "stats", "--db", db)
    assert "  predictions: 1 of 2 right (50.0%)\n" in out
    assert "  most often predicted wrong: echo (1 wrong of 2)\n" in out


@pytest.mark.usefixtures("fakes")
def test_stats_of_one_deck_count_only_predictions_on_its_cards(db: str, capsys: Capture) -> None:
    store = open_store(db)
    CardService(store).add("D", "front", "back")
    store.dispose()
    assert run(capsys, "demo", "run", "echo", "--predict", "1", "--db", db)[0] == 0
    code, out, _ = run(capsys, "stats", "--deck", "D", "--json", "--db", db)
    assert code == 0 and json.loads(out)["predictions"]["total"] == 0


@pytest.mark.usefixtures("fakes")
def test_a_collection_lost_during_the_run_says_the_prediction_was_saved(
    db: str, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The prediction is committed before the run; the server going away before it is
    graded must not be reported as 'nothing was saved'."""
    from studyapp.errors import CollectionError
    from studyapp.services.predictions import PredictionService

    def lost(*_: object) -> None:
        raise CollectionError("db: cannot reach the database server (gone); nothing was saved")

    monkeypatch.setattr(PredictionService, "grade", lost)
    code, out, err = run(capsys, "demo", "run", "echo", "--predict", "1", "--db", db)
    assert (code, out) == (2, "")
    assert err == (
        "studyapp: db: cannot reach the database server (gone) (your prediction was saved "
        "before the run, and stays ungraded)\n"
    )
    assert [(chosen, answer) for _, chosen, answer, _, _ in stored(db)] == [("above 50", None)]
