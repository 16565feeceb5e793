"""Predict, then run: a learner's predictions of demo outcomes, graded by the runs themselves.

A prediction is committed before its run can be seen (written to the collection before the
run starts, or at least before its result is shown, a cached one included) and is never
changed after, except to be graded: the run's own answer to the question, worked out from its
numbers (`DemoResult.predictions`), says whether it was right. A run that fails or is
cancelled grades nothing; its prediction stays in the log, ungraded. Skipping a question
records nothing: a skip is not a prediction, and counting it would only blur the accuracy.

A question whose latest graded prediction was wrong is due for the predictions drill, which
runs the demo again with a new seed, and every second time with one knob moved within its
bounds, asking before each run, until the prediction comes out right.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from studyapp.clock import Clock, system_clock
from studyapp.db import Store
from studyapp.db import predictions as log
from studyapp.db.store import rows_in
from studyapp.demo_api import DemoResult, DemoSpec, Question, UnknownDemoError, get_spec
from studyapp.demo_api.registry import DEMO_PACKAGE
from studyapp.errors import UserError
from studyapp.model import Prediction
from studyapp.scheduling import DEFAULT_DAY_START_HOUR, study_day

MAX_SEED = 2**31 - 1  # the drill's seeds, as the app's other new seeds
# Kinds of knob the drill may move: never the whole-number ones, which are sizes (steps,
# width, points) that set what a run costs, never where it runs, never one that only
# changes the plot.
MOVABLE_KINDS = ("float", "bool", "choice")
FIXED_KNOBS = ("device",)
DRAWS = 20  # tries at a value that differs from the current one once shown


@dataclass(frozen=True)
class DemoTally:
    """How one demo's predictions went."""

    demo_id: str
    total: int
    correct: int

    @property
    def wrong(self) -> int:
        return self.total - self.correct


@dataclass(frozen=True)
class WeekTally:
    """Predictions graded in one study week (`week` is its Monday)."""

    week: date
    total: int
    correct: int

    @property
    def rate(self) -> float:
        return self.correct / self.total


@dataclass(frozen=True)
class PredictionStats:
    """Graded predictions: how many, how many right, per demo and per week."""

    total: int = 0
    correct: int = 0
    ungraded: int = 0
    per_demo: Mapping[str, DemoTally] = field(default_factory=dict)
    per_week: Sequence[WeekTally] = ()

    @property
    def rate(self) -> float | None:
        return self.correct / self.total if self.total else None

    def most_wrong(self, limit: int = 5) -> list[DemoTally]:
        """The demos predicted wrong most often (and, of those alike, least often right)."""
        wrong = [t for t in self.per_demo.values() if t.wrong]
        wrong.sort(key=lambda t: (-t.wrong, t.correct / t.total, t.demo_id))
        return wrong[:limit]

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "correct": self.correct,
            "rate": round(self.rate, 4) if self.rate is not None else None,
            "ungraded": self.ungraded,
            "per_demo": {
                demo: {"total": t.total, "correct": t.correct}
                for demo, t in sorted(self.per_demo.items())
            },
            "per_week": [
                {"week": w.week.isoformat(), "total": w.total, "correct": w.correct}
                for w in self.per_week
            ],
        }


def prediction_stats(
    predictions: Sequence[Prediction], clock: Clock, day_start_hour: int = DEFAULT_DAY_START_HOUR
) -> PredictionStats:
    """Tally predictions; weeks are study weeks in the clock's time zone."""
    graded = [p for p in predictions if p.graded]
    zone = clock().tzinfo
    per_demo: Counter[str] = Counter()
    right_per_demo: Counter[str] = Counter()
    per_week: Counter[date] = Counter()
    right_per_week: Counter[date] = Counter()
    for p in graded:
        day = study_day(p.at.astimezone(zone).replace(tzinfo=None), day_start_hour)
        week = day - timedelta(days=day.weekday())
        per_demo[p.demo_id] += 1
        per_week[week] += 1
        if p.correct:
            right_per_demo[p.demo_id] += 1
            right_per_week[week] += 1
    return PredictionStats(
        total=len(graded),
        correct=sum(1 for p in graded if p.correct),
        ungraded=len(predictions) - len(graded),
        per_demo={d: DemoTally(d, n, right_per_demo[d]) for d, n in sorted(per_demo.items())},
        per_week=[WeekTally(w, n, right_per_week[w]) for w, n in sorted(per_week.items())],
    )


@dataclass(frozen=True)
class DrillItem:
    """A demo with questions whose latest graded prediction was wrong.

    `params`, `seed` and `card_id` are those of the latest wrong prediction: the run the
    learner got wrong, and the card it came from (None: the command line).
    """

    demo_id: str
    question_ids: tuple[str, ...]
    params: Mapping[str, Any]
    seed: int
    card_id: int | None
    missed_at: datetime


def due_for_drill(predictions: Sequence[Prediction]) -> list[DrillItem]:
    """The demos to drill, the longest-waiting first: for each question, its latest graded
    prediction decides; a wrong one puts its demo in the drill until a right one follows."""
    latest: dict[tuple[str, str], Prediction] = {}
    for p in predictions:  # oldest first: a later prediction replaces an earlier one
        if p.graded:
            latest[(p.demo_id, p.question_id)] = p
    wrong: dict[str, list[Prediction]] = {}
    for p in latest.values():
        if not p.correct:
            wrong.setdefault(p.demo_id, []).append(p)
    items = []
    for demo_id, missed in wrong.items():
        last = max(missed, key=lambda p: (p.at, p.id))
        items.append(
            DrillItem(
                demo_id=demo_id,
                question_ids=tuple(p.question_id for p in sorted(missed, key=lambda p: p.id)),
                params=last.params,
                seed=last.seed,
                card_id=last.card_id,
                missed_at=last.at,
            )
        )
    items.sort(key=lambda item: (item.missed_at, item.demo_id))
    return items


def open_miss(predictions: Sequence[Prediction]) -> Prediction | None:
    """Of one demo's predictions (oldest first), the latest wrong one whose question has
    not been predicted right since; None when every question's latest is right."""
    latest: dict[str, Prediction] = {}
    for p in predictions:
        if p.graded:
            latest[p.question_id] = p
    wrong = [p for p in latest.values() if not p.correct]
    return max(wrong, key=lambda p: (p.at, p.id), default=None)


@dataclass(frozen=True)
class DrillSetting:
    """The run for one try at a drill item: its parameters and seed, and the knob moved."""

    params: dict[str, Any]
    seed: int
    moved: str | None = None


def drill_setting(
    spec: DemoSpec, item: DrillItem, attempt: int, rng: random.Random
) -> DrillSetting:
    """The run for try number `attempt` (from 0) at `item`.

    Every try has a new seed. Every second try (the 2nd, 4th, ...) also moves one knob to a
    value drawn within its bounds (log-uniformly for a knob that spans decades, to three
    significant digits; a switch flips; a choice takes another value), so the learner
    predicts a setting they have not seen. Whole-number knobs are sizes that set the cost of
    a run and stay as they were; a knob that only changes the plot (`plot_only`) stays too,
    as no answer could change with it. Whether the knob moved bears on the question asked
    is not known here (a demo does not say which knobs each question depends on): the
    learner is told which knob moved and from what, and judging whether that matters is
    part of the prediction.
    """
    params, _ = spec.resolve_saved({k: v for k, v in item.params.items() if _known(spec, k)})
    seed = item.seed
    while seed == item.seed:
        seed = rng.randint(1, MAX_SEED)
    if attempt % 2 == 0:
        return DrillSetting(params, seed)
    knobs = [
        p
        for p in spec.params
        if p.kind in MOVABLE_KINDS
        and p.name not in FIXED_KNOBS
        and not p.plot_only
        and not (p.kind == "choice" and len(p.choices) < 2)
    ]
    if not knobs:
        return DrillSetting(params, seed)
    knob = rng.choice(knobs)
    params[knob.name] = _other_value(knob, params[knob.name], rng)
    return DrillSetting(params, seed, knob.name)


def _known(spec: DemoSpec, name: str) -> bool:
    return any(p.name == name for p in spec.params)


def _other_value(knob: Any, current: Any, rng: random.Random) -> Any:
    if knob.kind == "bool":
        return not current
    if knob.kind == "choice":
        return rng.choice([c for c in knob.choices if c != current])
    low, high = float(knob.low), float(knob.high)
    value = current
    for _ in range(DRAWS):
        if knob.log_scale and low > 0:
            drawn = math.exp(rng.uniform(math.log(low), math.log(high)))
        else:
            drawn = rng.uniform(low, high)
        value = min(max(float(f"{drawn:.3g}"), low), high)
        if f"{value:g}" != f"{current:g}":
            return value
    return value


class PredictionService:
    """Records predictions, grades them by their runs, and reads them back."""

    def __init__(
        self, store: Store, clock: Clock = system_clock, package: str = DEMO_PACKAGE
    ) -> None:
        self.store = store
        self.clock = clock
        self.package = package

    def record(
        self,
        card_id: int | None,
        demo_id: str,
        params: Mapping[str, Any],
        seed: int,
        picks: Sequence[tuple[Question, str]],
    ) -> list[int]:
        """Commit predictions before their run: one per (question, option chosen).

        Every option is checked against its question first, so a bad one stores nothing.
        """
        if not picks:
            return []
        for question, option in picks:
            if option not in question.options:
                raise UserError(f"{option!r} is not an option of {question.text!r}")
        now = self.clock()
        ids = []
        with self.store.write() as session:
            for question, option in picks:
                values = log.prediction_values(
                    card_id, demo_id, params, seed, question.id, question.text, option, now
                )
                ids.append(log.insert_prediction(session, values))
        return ids

    def grade(self, ids: Sequence[int], result: DemoResult) -> list[Prediction]:
        """Grade predictions by the run they were made for; returns them as they now stand.

        Only a finished run of the same demo, parameters and seed grades anything, and only
        a prediction not graded before: a prediction is never changed once it has an answer.
        """
        if not ids:
            return []
        answers = {p.id: p for p in result.predictions} if result.ok else {}
        with self.store.write() as session:
            rows = rows_in(session)
            for prediction in log.by_ids(rows, ids):
                answer = answers.get(prediction.question_id)
                if (
                    answer is None
                    or prediction.graded
                    or prediction.demo_id != result.id
                    or prediction.seed != result.seed
                    or dict(prediction.params) != _plain(result.params)
                ):
                    continue
                log.grade_prediction(
                    session,
                    prediction.id,
                    answer.answer,
                    answer.why,
                    prediction.chosen == answer.answer,
                )
            graded = {p.id: p for p in log.by_ids(rows, ids)}
        return [graded[i] for i in ids if i in graded]

    def of_card(self, card_id: int) -> list[Prediction]:
        with self.store.reading() as rows:
            return log.of_card(rows, card_id)

    def missed(self, demo_id: str) -> Prediction | None:
        """The latest wrong prediction on a demo not put right since (see `open_miss`)."""
        with self.store.reading() as rows:
            return open_miss(log.of_demo(rows, demo_id))

    def any_missed(self) -> bool:
        """Whether any prediction was ever graded wrong (put right since or not)."""
        with self.store.reading() as rows:
            return any(p.graded and not p.correct for p in log.every(rows))

    def drill(self) -> list[DrillItem]:
        """The demos whose predictions are to be put right, each with only the questions
        its demo still asks (a demo gone from the catalogue cannot be drilled)."""
        with self.store.reading() as rows:
            items = due_for_drill(log.every(rows))
        out = []
        for item in items:
            try:
                spec = get_spec(item.demo_id, self.package)
            except UnknownDemoError:
                continue
            asked = {q.id for q in spec.questions}
            kept = tuple(q for q in item.question_ids if q in asked)
            if kept:
                out.append(replace(item, question_ids=kept))
        return out


def _plain(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as they come back from JSON (how a prediction keeps them)."""
    return json.loads(json.dumps(dict(params), sort_keys=True))
