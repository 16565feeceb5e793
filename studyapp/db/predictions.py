"""The prediction log: what a learner expected a demo to show, and what the run answered.

A prediction is written before its run and graded after it, in two units of work. Reads are
plain SQL (`studyapp.db.reads`) and SQLAlchemy loads only for a write, so the review screen
can tell whether a card's demo was predicted wrong before the ORM has loaded. Times are
stored in UTC without a zone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from studyapp.db.reads import Rows
from studyapp.model import Prediction

if TYPE_CHECKING:
    from sqlalchemy import Insert, Update
    from sqlalchemy.orm import Session

_COLUMNS = (
    "p.id, p.card_id, p.demo_id, p.params, p.seed, p.question_id, p.question, p.chosen,"
    " p.answer, p.why, p.correct, p.at"
)
_OF_CARD = f"SELECT {_COLUMNS} FROM predictions AS p WHERE p.card_id = :card_id ORDER BY p.id"
_OF_DEMO = f"SELECT {_COLUMNS} FROM predictions AS p WHERE p.demo_id = :demo_id ORDER BY p.id"
_ALL = f"SELECT {_COLUMNS} FROM predictions AS p ORDER BY p.id"
_OF_DECK = (
    f"SELECT {_COLUMNS} FROM predictions AS p JOIN cards AS c ON c.id = p.card_id"
    " WHERE c.deck_id = :deck_id ORDER BY p.id"
)
_WITH_UIDS = (
    f"SELECT c.uid, {_COLUMNS} FROM predictions AS p LEFT JOIN cards AS c ON c.id = p.card_id"
    " {where} ORDER BY p.at, p.id"
)
_KEYS = "SELECT p.card_id, p.demo_id, p.question_id, p.at FROM predictions AS p"
_BY_IDS = f"SELECT {_COLUMNS} FROM predictions AS p WHERE p.id IN ({{ids}}) ORDER BY p.id"


@cache
def _insert() -> Insert:
    from sqlalchemy import insert

    from studyapp.db.models import PredictionRow

    return insert(PredictionRow.__table__)


@cache
def _grade() -> Update:
    from sqlalchemy import bindparam, update

    from studyapp.db.models import PredictionRow

    return (
        update(PredictionRow.__table__)
        .where(PredictionRow.id == bindparam("prediction_id"))
        .values(answer=bindparam("answer"), why=bindparam("why"), correct=bindparam("correct"))
    )


def _moment(value: datetime | str) -> datetime:
    """A stored time (ISO text from the sqlite3 driver, a datetime from others), aware UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC)


def prediction_from_row(row: Sequence[Any]) -> Prediction:
    """A prediction from a row of `_COLUMNS`."""
    pid, card_id, demo_id, params, seed, question_id, question, chosen = row[:8]
    answer, why, correct, at = row[8:12]
    return Prediction(
        id=pid,
        card_id=card_id,
        demo_id=demo_id,
        params=json.loads(params),
        seed=int(seed),
        question_id=question_id,
        question=question,
        chosen=chosen,
        answer=answer,
        why=why,
        correct=None if correct is None else bool(correct),
        at=_moment(at),
    )


def of_card(rows: Rows, card_id: int) -> list[Prediction]:
    """A card's predictions, oldest first."""
    return [prediction_from_row(r) for r in rows(_OF_CARD, {"card_id": card_id})]


def of_demo(rows: Rows, demo_id: str) -> list[Prediction]:
    """Every prediction about one demo (from any card or the command line), oldest first."""
    return [prediction_from_row(r) for r in rows(_OF_DEMO, {"demo_id": demo_id})]


def every(rows: Rows, deck_id: int | None = None) -> list[Prediction]:
    """All predictions, oldest first; with `deck_id`, those made on that deck's cards."""
    if deck_id is None:
        return [prediction_from_row(r) for r in rows(_ALL, {})]
    return [prediction_from_row(r) for r in rows(_OF_DECK, {"deck_id": deck_id})]


def with_card_uids(rows: Rows, deck_id: int | None = None) -> list[tuple[str | None, Prediction]]:
    """Predictions with the uid of their card (None: on no card), oldest first: all of them,
    or with `deck_id` those made on that deck's cards."""
    where = "WHERE c.deck_id = :deck_id" if deck_id is not None else ""
    found = rows(_WITH_UIDS.format(where=where), {"deck_id": deck_id})
    return [(row[0], prediction_from_row(row[1:])) for row in found]


def keys(rows: Rows) -> set[tuple[int | None, str, str, datetime]]:
    """What tells predictions apart: card, demo, question and time (aware UTC)."""
    return {(c, d, q, _moment(at)) for c, d, q, at in rows(_KEYS, {})}


def by_ids(rows: Rows, ids: Sequence[int]) -> list[Prediction]:
    if not ids:
        return []
    names = {f"id{i}": pid for i, pid in enumerate(ids)}
    sql = _BY_IDS.format(ids=", ".join(f":{name}" for name in names))
    return [prediction_from_row(r) for r in rows(sql, names)]


def prediction_values(
    card_id: int | None,
    demo_id: str,
    params: Mapping[str, Any],
    seed: int,
    question_id: str,
    question: str,
    chosen: str,
    at: datetime,
    answer: str | None = None,
    why: str | None = None,
    correct: bool | None = None,
) -> dict[str, Any]:
    """A prediction as plain column values (`at` aware or naive UTC)."""
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return {
        "card_id": card_id,
        "demo_id": demo_id,
        "params": json.dumps(dict(params), sort_keys=True),
        "seed": seed,
        "question_id": question_id,
        "question": question,
        "chosen": chosen,
        "answer": answer,
        "why": why,
        "correct": correct,
        "at": at,
    }


def insert_prediction(session: Session, values: Mapping[str, Any]) -> int:
    """Write one prediction; returns its id."""
    result = session.connection().execute(_insert(), dict(values))
    return int(result.inserted_primary_key[0])


def insert_predictions(session: Session, values: Sequence[Mapping[str, Any]]) -> None:
    """Write many predictions at once (a backup's)."""
    if values:
        session.connection().execute(_insert(), [dict(v) for v in values])


def grade_prediction(
    session: Session, prediction_id: int, answer: str, why: str, correct: bool
) -> None:
    session.connection().execute(
        _grade(), {"prediction_id": prediction_id, "answer": answer, "why": why, "correct": correct}
    )
