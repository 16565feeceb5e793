"""What a demo run gives back: plot series, a table, metrics, claims and a takeaway.

A demo returns a `DemoOutput` and never prints or plots; the runner wraps it into a
`DemoResult` with the id, parameters, seed, timing and library versions, so the same run
feeds the TUI, the command line, the cache and the tests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from studyapp.demo_api.spec import Question

# A curve is its y values (x = 0, 1, 2, ...) or explicit x and y.
SeriesValue = list[float] | dict[str, list[float]]
Status = Literal["ok", "error", "timeout", "cancelled"]


class Cancelled(Exception):
    """Raised inside a demo (by its progress callback) when the user cancels the run."""


class Progress(Protocol):
    """Called by a demo as it runs.

    `done` is the fraction finished (0..1); `series` optionally carries the curves so far so a
    live plot can follow the run. Raises `Cancelled` when the run has been cancelled, so a demo
    that reports progress regularly stops promptly.
    """

    def __call__(
        self,
        done: float,
        message: str = "",
        series: Mapping[str, SeriesValue] | None = None,
    ) -> None: ...


def no_progress(
    done: float, message: str = "", series: Mapping[str, SeriesValue] | None = None
) -> None:
    """A progress callback that ignores everything (for direct calls and tests)."""


ClaimKind = Literal["experiment", "check"]
CLAIM_KINDS: tuple[ClaimKind, ...] = ("experiment", "check")


@dataclass(frozen=True)
class Claim:
    """A sentence the run checks against its own numbers.

    `kind` says what the claim is worth. An `experiment` could have come out otherwise: a race
    between optimizers, a gap between training and held-out error. A `check` verifies an
    identity, a definition or a library's behaviour numerically (autograd equals the chain
    rule, dropout in eval mode is the identity): it teaches, but it cannot fail unless the code
    is wrong, and it is shown as such.

    An experiment carries what it teaches for either outcome: `lesson` when it holds and
    `otherwise` (what the run showed instead) when it does not. The takeaway is made of these
    sentences (`takeaway_of`), so the words always follow the numbers.
    """

    text: str
    holds: bool
    kind: ClaimKind = "experiment"
    lesson: str = ""
    otherwise: str = ""

    def __post_init__(self) -> None:
        if self.kind not in CLAIM_KINDS:
            raise ValueError(f"a claim's kind is experiment or check, not {self.kind!r}")

    @classmethod
    def experiment(cls, text: str, holds: bool, *, lesson: str, otherwise: str) -> Claim:
        """A result the run could have contradicted, with its sentence for each outcome."""
        return cls(text, bool(holds), "experiment", lesson, otherwise)

    @classmethod
    def check(cls, text: str, holds: bool) -> Claim:
        """An identity or a library behaviour, verified on the run's own numbers."""
        return cls(text, bool(holds), "check")

    @property
    def says(self) -> str:
        """The takeaway sentence for the outcome the run reached."""
        return self.lesson if self.holds else self.otherwise

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "holds": self.holds, "kind": self.kind}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Claim:
        kind = data.get("kind", "experiment")
        return cls(str(data["text"]), bool(data["holds"]), kind if kind in CLAIM_KINDS else "check")


def takeaway_of(claims: Sequence[Claim]) -> str:
    """The takeaway: each experiment's sentence for its outcome, in the order the demo gave them."""
    return " ".join(c.says.strip() for c in claims if c.kind == "experiment" and c.says.strip())


def headline_of(claims: Sequence[Claim]) -> str:
    """The main result in one sentence: the first experiment's sentence for its outcome.

    A demo lists its main experiment first, so this is what a one-line summary shows.
    """
    return next((c.says.strip() for c in claims if c.kind == "experiment" and c.says.strip()), "")


@dataclass(frozen=True)
class Answer:
    """The run's answer to one of its demo's prediction questions.

    `option` is the text of the correct option, worked out from the run's own numbers; `why`
    is one sentence from the claims that says why.
    """

    option: str
    why: str


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    @classmethod
    def of(cls, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
        return cls(tuple(columns), tuple(tuple(r) for r in rows))

    def to_dict(self) -> dict[str, Any]:
        return {"columns": list(self.columns), "rows": [list(r) for r in self.rows]}


@dataclass(frozen=True)
class PlotSpec:
    """How to draw the series: axis labels and whether y spans decades."""

    title: str = ""
    x_label: str = "step"
    y_label: str = ""
    log_y: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "x_label": self.x_label,
            "y_label": self.y_label,
            "log_y": self.log_y,
        }


@dataclass
class DemoOutput:
    """What a demo's `run` returns. Every number in it must be finite.

    The takeaway is not written by the demo: it is made from the experiments' outcomes (see
    `Claim`). `setup` says how the run was set up where that matters to read it fairly ("each
    optimizer at the best of four learning rates"); it states what was done, never what was
    found. `answers` gives, for each prediction question the demo's spec declares, the option
    the run's numbers make correct.
    """

    series: dict[str, SeriesValue]
    table: Table
    metrics: dict[str, float]
    claims: list[Claim]
    plot: PlotSpec = field(default_factory=PlotSpec)
    setup: str = ""
    answers: dict[str, Answer] = field(default_factory=dict)

    @property
    def takeaway(self) -> str:
        return takeaway_of(self.claims)

    @property
    def headline(self) -> str:
        return headline_of(self.claims)


METRIC_DIGITS = 12


def stable_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """Metrics rounded to 12 significant digits.

    Linear-algebra kernels may sum in a different order from one run to the next (memory
    alignment), which moves the last bits of a float; 12 digits keeps every real difference
    and makes the same seed give the same numbers.
    """
    out: dict[str, float] = {}
    for name, value in metrics.items():
        if isinstance(value, float) and math.isfinite(value) and value != 0:
            out[name] = float(f"{value:.{METRIC_DIGITS}g}")
        else:
            out[name] = value
    return out


def _finite(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, int | float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_finite(v) for v in value)
    return True


def non_finite_fields(output: DemoOutput) -> list[str]:
    """Names of the series, metrics and table columns that hold NaN or infinity."""
    bad = [f"series {k!r}" for k, v in output.series.items() if not _finite(v)]
    bad += [f"metric {k!r}" for k, v in output.metrics.items() if not _finite(v)]
    if not _finite(output.table.rows):
        bad.append("table")
    return bad


def claim_problems(output: DemoOutput) -> list[str]:
    """What is wrong with a run's claims (empty when all is well).

    A run makes at least one experiment, and every experiment carries a sentence for each
    outcome, so the takeaway can always say what happened.
    """
    experiments = [c for c in output.claims if c.kind == "experiment"]
    problems = [] if experiments else ["the run made no experiment"]
    problems += [
        f"experiment {c.text!r} lacks a sentence for when it "
        + ("holds" if not c.lesson.strip() else "fails")
        for c in experiments
        if not (c.lesson.strip() and c.otherwise.strip())
    ]
    return problems


def answer_problems(output: DemoOutput, questions: Sequence[Question]) -> list[str]:
    """What is wrong with a run's answers to its spec's questions (empty when all is well)."""
    problems = []
    asked = {q.id: q for q in questions}
    for question in questions:
        answer = output.answers.get(question.id)
        if answer is None:
            problems.append(f"question {question.id!r} has no answer")
        elif answer.option not in question.options:
            problems.append(
                f"question {question.id!r} was answered {answer.option!r}, not an option"
            )
        elif not answer.why.strip():
            problems.append(f"question {question.id!r} has no reason for its answer")
    problems += [
        f"answer to unknown question {qid!r}" for qid in output.answers if qid not in asked
    ]
    return problems


@dataclass
class DemoResult:
    """A finished (or failed) run, as cached, shown and printed by `demo run --json`."""

    id: str
    params: dict[str, Any]
    seed: int
    elapsed_s: float
    status: Status = "ok"
    error: str | None = None
    series: dict[str, SeriesValue] = field(default_factory=dict)
    table: Table = field(default_factory=lambda: Table((), ()))
    metrics: dict[str, float] = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)
    takeaway: str = ""
    plot: PlotSpec = field(default_factory=PlotSpec)
    versions: dict[str, str] = field(default_factory=dict)
    cached: bool = False
    headline: str = ""
    setup: str = ""
    predictions: list[PredictionResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def took(self) -> str:
        """How long the run took, for a person: "43 ms", "1.5 s"."""
        if self.elapsed_s < 1:
            return f"{self.elapsed_s * 1000:.0f} ms"
        return f"{self.elapsed_s:.1f} s"

    @classmethod
    def from_output(
        cls,
        demo_id: str,
        params: dict[str, Any],
        seed: int,
        elapsed_s: float,
        output: DemoOutput,
        versions: dict[str, str],
        questions: Sequence[Question] = (),
    ) -> DemoResult:
        """The result of a run; `questions` are the spec's, answered by `output.answers`."""
        return cls(
            id=demo_id,
            params=params,
            seed=seed,
            elapsed_s=elapsed_s,
            series=output.series,
            table=output.table,
            metrics=stable_metrics(output.metrics),
            claims=output.claims,
            takeaway=output.takeaway,
            plot=output.plot,
            versions=versions,
            headline=output.headline,
            setup=output.setup,
            predictions=[PredictionResult.of(q, output.answers[q.id]) for q in questions],
        )

    @classmethod
    def failure(
        cls,
        demo_id: str,
        params: dict[str, Any],
        seed: int,
        elapsed_s: float,
        status: Status,
        error: str,
    ) -> DemoResult:
        return cls(demo_id, params, seed, elapsed_s, status=status, error=error)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "params": self.params,
            "seed": self.seed,
            "elapsed_s": round(self.elapsed_s, 4),
            "status": self.status,
            "error": self.error,
            "series": self.series,
            "table": self.table.to_dict(),
            "metrics": self.metrics,
            "claims": [c.to_dict() for c in self.claims],
            "takeaway": self.takeaway,
            "headline": self.headline,
            "setup": self.setup,
            "predictions": [p.to_dict() for p in self.predictions],
            "plot": self.plot.to_dict(),
            "versions": self.versions,
            "cached": self.cached,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DemoResult:
        table = data.get("table") or {"columns": [], "rows": []}
        return cls(
            id=data["id"],
            params=dict(data["params"]),
            seed=int(data["seed"]),
            elapsed_s=float(data["elapsed_s"]),
            status=data.get("status", "ok"),
            error=data.get("error"),
            series=dict(data.get("series") or {}),
            table=Table.of(table["columns"], table["rows"]),
            metrics=dict(data.get("metrics") or {}),
            claims=[Claim.from_dict(c) for c in data.get("claims") or []],
            takeaway=data.get("takeaway", ""),
            plot=PlotSpec(**(data.get("plot") or {})),
            versions=dict(data.get("versions") or {}),
            cached=bool(data.get("cached", False)),
            headline=data.get("headline", ""),
            setup=data.get("setup", ""),
            predictions=[PredictionResult.from_dict(p) for p in data.get("predictions") or []],
        )


@dataclass(frozen=True)
class PredictionResult:
    """A prediction question with the run's answer, as `demo run --json` prints it."""

    id: str
    question: str
    options: tuple[str, ...]
    answer: str
    why: str

    @classmethod
    def of(cls, question: Question, answer: Answer) -> PredictionResult:
        return cls(question.id, question.text, question.options, answer.option, answer.why)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "options": list(self.options),
            "answer": self.answer,
            "why": self.why,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PredictionResult:
        return cls(
            str(data["id"]),
            str(data["question"]),
            tuple(str(o) for o in data["options"]),
            str(data["answer"]),
            str(data.get("why", "")),
        )
