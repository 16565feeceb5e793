"""Predictions travel in the JSON backup: exported with the cards they were made on, restored
onto those cards, never twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.postgres import Server
from studyapp.db import Store, open_store
from studyapp.demo_api import DemoResult, get_spec
from studyapp.demo_api.result import PredictionResult
from studyapp.errors import UserError
from studyapp.model import DemoLink, Prediction
from studyapp.services.backups import BackupService
from studyapp.services.cards import CardService
from studyapp.services.library import LibraryService
from studyapp.services.predictions import PredictionService
from studyapp.services.study import StudySession
from tests.services.conftest import FakeClock

ECHO = get_spec("echo", "tests.fake_demos")
END, LARGER = ECHO.questions
PARAMS = {"value": 1.0, "steps": 5}


def answered(seed: int, end: str) -> DemoResult:
    return DemoResult(
        "echo",
        dict(PARAMS),
        seed,
        0.1,
        predictions=[PredictionResult(END.id, END.text, END.options, end, f"ends {end}")],
    )


def populated(store: Store, clock: FakeClock) -> None:
    """Two decks, a review, and predictions: graded right and wrong, ungraded, on no card."""
    cards = CardService(store, clock)
    first = cards.add("A", "front a", "back a", demo=DemoLink("echo", {"steps": 5})).id
    second = cards.add("B", "front b", "back b", demo=DemoLink("echo")).id
    StudySession(store, "A", clock).answer(4)
    predictions = PredictionService(store, clock)
    ids = predictions.record(first, "echo", PARAMS, 0, [(END, "above 50"), (LARGER, "neither")])
    predictions.grade(ids[:1], answered(0, "at 50 or below"))
    clock.advance(minutes=3)
    ids = predictions.record(second, "echo", PARAMS, 4, [(END, "at 50 or below")])
    predictions.grade(ids, answered(4, "at 50 or below"))
    clock.advance(minutes=3)
    predictions.record(None, "echo", PARAMS, 7, [(END, "above 50")])


def every(store: Store) -> list[tuple[str | None, Prediction]]:
    from studyapp.db.predictions import with_card_uids

    with store.reading() as rows:
        return with_card_uids(rows)


def same(made: list[tuple[str | None, Prediction]]) -> list[tuple[object, ...]]:
    """What a prediction is, without the ids the collection gave it."""
    return [(uid, p.demo_id, p.params, p.seed, p.question_id, p.chosen, p.answer, p.why,
             p.correct, p.at) for uid, p in made]  # fmt: skip


def test_the_backup_restores_every_prediction_byte_for_byte(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    populated(store, clock)
    data = LibraryService(store, clock).export("json")
    document = json.loads(data)
    assert [p["correct"] for p in document["predictions"]] == [False, None, True, None]
    assert document["predictions"][0] == {
        "card": document["decks"][0]["cards"][0]["id"],
        "demo": "echo",
        "params": PARAMS,
        "seed": 0,
        "question_id": "end",
        "question": END.text,
        "predicted": "above 50",
        "answer": "at 50 or below",
        "why": "ends at 50 or below",
        "correct": False,
        "at": "2026-03-02T08:00:00+00:00",
    }
    backup = tmp_path / "backup.json"
    backup.write_bytes(data)

    fresh = open_store(str(tmp_path / "fresh.db"))
    LibraryService(fresh, clock).import_files([backup])
    assert same(every(fresh)) == same(every(store))
    assert LibraryService(fresh, clock).export("json") == data

    report = LibraryService(fresh, clock).import_files([backup])  # again: nothing new
    assert report.added == 0 and report.skipped == []
    assert LibraryService(fresh, clock).export("json") == data
    fresh.dispose()


def test_a_deck_export_carries_the_predictions_on_its_cards_only(
    store: Store, clock: FakeClock
) -> None:
    populated(store, clock)
    document = json.loads(LibraryService(store, clock).export("json", "B"))
    assert [(p["seed"], p["predicted"]) for p in document["predictions"]] == [(4, "at 50 or below")]


def test_a_collection_without_predictions_writes_the_backup_as_before(
    store: Store, clock: FakeClock
) -> None:
    CardService(store, clock).add("A", "front", "back")
    assert "predictions" not in json.loads(LibraryService(store, clock).export("json"))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"card": "nope"}, "prediction 1: 'card' 'nope' is no card of this backup"),
        ({"correct": True}, "prediction 1: 'correct' is true, but the prediction is not the"),
        ({"answer": None}, "prediction 1: 'answer' and 'correct' are both given"),
        ({"seed": -1}, "prediction 1: 'seed' must be from 0 to 4294967295, not -1"),
        ({"at": "2026-03-02T08:00:00"}, "prediction 1: 'at' must carry its time zone"),
        ({"predicted": " "}, "prediction 1: 'predicted' is empty"),
        ({"params": [1]}, "prediction 1: 'params' must be an object, not a list"),
        ({"demo": "two words"}, "prediction 1: demo id 'two words' is not a single word"),
    ],
)
def test_a_bad_prediction_in_a_backup_is_named_and_nothing_is_imported(
    store: Store, clock: FakeClock, tmp_path: Path, change: dict[str, object], reason: str
) -> None:
    populated(store, clock)
    document = json.loads(LibraryService(store, clock).export("json"))
    document["predictions"][0].update(change)
    backup = tmp_path / "b.json"
    backup.write_text(json.dumps(document), encoding="utf-8")
    fresh = open_store(str(tmp_path / "fresh.db"))
    with pytest.raises(UserError) as caught:
        LibraryService(fresh, clock).import_files([backup])
    assert caught.value.message.startswith(f"{backup}, {reason}"), caught.value.message
    assert every(fresh) == [] and CardService(fresh).search() == []
    fresh.dispose()


def test_a_server_backup_carries_the_predictions_and_a_restore_puts_them_back(
    pg_server: Server, clock: FakeClock, tmp_path: Path
) -> None:
    store = open_store(pg_server.create_database())
    try:
        populated(store, clock)
        service = BackupService(store)
        made = service.backup(tmp_path)
        before = same(every(store))
        assert len(json.loads(made.read_text())["predictions"]) == len(before) == 4

        PredictionService(store, clock).record(None, "echo", PARAMS, 9, [(END, "above 50")])
        first_card = every(store)[0][1].card_id
        assert first_card is not None
        CardService(store, clock).set_suspended(first_card, True)

        service.restore(made)
        assert same(every(store)) == before  # the one made since is gone, none doubled
        assert LibraryService(store, clock).export("json") == made.read_bytes()
    finally:
        store.dispose()
