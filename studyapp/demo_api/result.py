"""What a demo run gives back: plot series, a table, metrics, claims and a takeaway.

A demo returns a `DemoOutput` and never prints or plots; the runner wraps it into a
`DemoResult` with the id, parameters, seed, timing and library versions, so the same run
feeds the TUI, the command line, the cache and the tests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

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


@dataclass(frozen=True)
class Claim:
    """A sentence the run checks against its own numbers."""

    text: str
    holds: bool

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "holds": self.holds}


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
    """What a demo's `run` returns. Every number in it must be finite."""

    series: dict[str, SeriesValue]
    table: Table
    metrics: dict[str, float]
    claims: list[Claim]
    takeaway: str
    plot: PlotSpec = field(default_factory=PlotSpec)


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
    ) -> DemoResult:
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
            claims=[Claim(c["text"], bool(c["holds"])) for c in data.get("claims") or []],
            takeaway=data.get("takeaway", ""),
            plot=PlotSpec(**(data.get("plot") or {})),
            versions=dict(data.get("versions") or {}),
            cached=bool(data.get("cached", False)),
        )
