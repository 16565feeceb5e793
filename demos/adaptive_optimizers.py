"""Adaptive optimizers: AdaGrad, RMSProp and Adam, with each coordinate's effective step size.

All three divide the learning rate by a running size of the gradient, separately for every
parameter, so a steep coordinate gets a small effective learning rate and a gentle one a large
one. They differ in how that running size is kept. AdaGrad sums every squared gradient it has
seen, so its effective rate only shrinks, even while the gradient stays the same; RMSProp and
Adam keep a leaky average instead. Whether AdaGrad's shrinking rate hurts depends on the
problem: here x1 runs down a long slope, f = sqrt(1 + x1^2) - 1, whose gradient stays near 1
until the last unit before the minimum, and x2 sits in a steep bowl, 2 x2^2. The run races
AdaGrad and RMSProp to the bottom of the slope and reports who got there first, or that
neither did in the steps given.

Adam's averages start at zero, and its bias correction divides that start out. The run also
takes the same Adam without the correction and measures its early steps against lr. The
update rules are written out in float64 so the effective step lr / (sqrt(v) + eps) can be read
at every step. The slope and the start are fixed, so every seed gives the same run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from demos._common import Ticker, floats, fmt, setup
from studyapp.demo_api import (
    Answer,
    Claim,
    DemoOutput,
    DemoSpec,
    PlotSpec,
    Progress,
    Question,
    Table,
    bool_param,
    choice_param,
    float_param,
    int_param,
)

START = (-10.0, -2.0)
STEEP = 4.0  # curvature of the x2 bowl: f = sqrt(1 + x1^2) - 1 + 0.5 * STEEP * x2^2
ARRIVED = 1.0  # "at the bottom of the slope": |x1| at most this (the slope's gradient is 0.7)
EPS = 1e-8
CAP = 1e6  # coordinates beyond this count as diverged; the run stops there
EARLY = 10  # Adam's early steps: the first EARLY steps
SEVERAL = 2.0  # uncorrected early steps "several times lr": at least this many times
WELL_BELOW = 0.5  # ... "well below lr": at most this many times

ANSWER_SEVERAL = "several times lr"
ANSWER_ABOUT = "about lr"
ANSWER_BELOW = "well below lr"
NEITHER = "neither within the steps"

SPEC = DemoSpec(
    id="adaptive_optimizers",
    title="AdaGrad, RMSProp and Adam: per-parameter step sizes",
    summary="Race AdaGrad and RMSProp down a long slope; watch each coordinate's effective lr.",
    topics=("AdaGrad", "RMSProp", "Adam", "bias correction", "per-parameter learning rate"),
    params=(
        float_param("lr", 0.1, 1e-3, 2.0, "learning rate of all three methods", log_scale=True),
        float_param("beta1", 0.9, 0.0, 0.999, "Adam's decay of the gradient average"),
        float_param("beta2", 0.999, 0.5, 0.9999, "Adam's decay of the squared-gradient average"),
        float_param("rho", 0.9, 0.5, 0.9999, "RMSProp's decay of the squared-gradient average"),
        bool_param(
            "bias_correction",
            True,
            "whether the plotted Adam run corrects its averages",
            plot_only=True,
        ),
        int_param("steps", 200, 2, 2000, "update steps for each method"),
        choice_param(
            "view",
            "lr",
            ("lr", "path"),
            "plot effective lr per step, or the paths",
            plot_only=True,
        ),
    ),
    tiny={"steps": 120},
    timeout_s=30,
    questions=(
        Question(
            "slope_race",
            "x1 starts 10 units down a long slope whose gradient stays near 1. Which gets "
            "within 1 of the minimum first?",
            ("AdaGrad", "RMSProp", NEITHER),
        ),
        Question(
            "uncorrected_steps",
            f"Without bias correction, how large are Adam's first {EARLY} steps compared with "
            "its learning rate?",
            (ANSWER_SEVERAL, ANSWER_ABOUT, ANSWER_BELOW),
        ),
    ),
)


@dataclass
class _Run:
    """One method's run: the path (start first), f, and per step the effective lr and move."""

    path: list[tuple[float, float]]
    values: list[float]
    rates: list[tuple[float, float]]
    moves: list[tuple[float, float]]

    @property
    def steps(self) -> int:
        return len(self.values) - 1

    def arrival(self) -> int | None:
        """The first step after which |x1| <= ARRIVED, or None."""
        return next((t for t, p in enumerate(self.path) if t and abs(p[0]) <= ARRIVED), None)

    def largest_early_step(self, lr: float) -> float:
        """The largest move of one coordinate in the first EARLY steps, in units of lr."""
        return max((max(m) for m in self.moves[:EARLY]), default=0.0) / lr


def _f_torch(x: Any) -> Any:
    return (1 + x[0] * x[0]).sqrt() - 1 + 0.5 * STEEP * x[1] * x[1]


def _f(x: tuple[float, float]) -> float:
    return math.sqrt(1 + x[0] * x[0]) - 1 + 0.5 * STEEP * x[1] * x[1]


def _grad(x: Any) -> Any:
    x = x.detach().requires_grad_(True)
    _f_torch(x).backward()
    return x.grad


def _descend(
    method: str, params: Mapping[str, Any], steps: int, bias_correction: bool, tick: Any
) -> _Run:
    """Run one method with its update rule written out.

    The effective lr of a coordinate is lr / (sqrt(v) + eps), the factor its gradient (or, for
    Adam, its gradient average) is multiplied by.
    """
    import torch

    lr, b1, b2, rho = params["lr"], params["beta1"], params["beta2"], params["rho"]
    x = torch.tensor(START, dtype=torch.float64)
    m = torch.zeros(2, dtype=torch.float64)
    v = torch.zeros(2, dtype=torch.float64)
    out = _Run([START], [_f(START)], [], [])
    for t in range(1, steps + 1):
        g = _grad(x)
        if method == "adagrad":
            v = v + g * g
            direction, scale = g, v
        elif method == "rmsprop":
            v = rho * v + (1 - rho) * g * g
            direction, scale = g, v
        else:
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            direction, scale = m, v
            if bias_correction:
                direction, scale = m / (1 - b1**t), v / (1 - b2**t)
        rate = lr / (scale.sqrt() + EPS)
        move = rate * direction
        x = x - move
        tick()
        if not bool(torch.isfinite(x).all()) or float(x.abs().max()) > CAP:
            break
        point = (float(x[0]), float(x[1]))
        out.path.append(point)
        out.values.append(_f(point))
        out.rates.append((float(rate[0]), float(rate[1])))
        out.moves.append((abs(float(move[0])), abs(float(move[1]))))
    return out


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    setup(seed, "cpu")
    steps, corrected = params["steps"], params["bias_correction"]
    labels = {
        "adagrad": ("adagrad", True),
        "rmsprop": ("rmsprop", True),
        "adam": ("adam", True),
        "adam (no bias correction)": ("adam", False),
    }
    tick = Ticker(progress, steps * len(labels), "stepping")
    runs = {label: _descend(kind, params, steps, bc, tick) for label, (kind, bc) in labels.items()}
    shown = ["adagrad", "rmsprop", "adam" if corrected else "adam (no bias correction)"]

    lr, b1, b2 = params["lr"], params["beta1"], params["beta2"]
    early = {
        bc: runs["adam" if bc else "adam (no bias correction)"].largest_early_step(lr)
        for bc in (True, False)
    }
    claims = [
        _race_claim(runs["adagrad"], runs["rmsprop"], steps),
        _adagrad_check(runs["adagrad"]),
        _per_parameter_check(runs, labels),
        _bias_claim(early, b1, b2),
        _first_step_check(runs, b1, b2),
    ]
    series, plot = _series(runs, shown, params["view"])
    metrics = _metrics(runs, early)
    rows = []
    for label, r in runs.items():
        last = [fmt(e) for e in r.rates[-1]] if r.rates else ["-", "-"]
        arrival = r.arrival()
        rows.append(
            (
                label,
                "-" if arrival is None else str(arrival),
                fmt(r.path[-1][0]),
                fmt(r.path[-1][1]),
                fmt(r.values[-1]),
                *last,
            )
        )
    columns = ["method", f"step |x1| <= {ARRIVED:g}", "x1", "x2", "f", "eff. lr x1", "eff. lr x2"]
    return DemoOutput(
        series=series,
        table=Table.of(columns, rows),
        metrics=metrics,
        claims=claims,
        plot=plot,
        setup=(
            f"All methods start at x = {START} with the same lr; x1 lies on a long slope "
            f"sqrt(1 + x1^2) - 1 and x2 in the steep bowl {0.5 * STEEP:g} x2^2. The Adam run "
            "without bias correction is the same Adam with the division by (1 - beta^t) left out."
        ),
        answers={
            "slope_race": _race_answer(runs["adagrad"], runs["rmsprop"], steps),
            "uncorrected_steps": _steps_answer(early),
        },
    )


def _where(r: _Run) -> str:
    arrival = r.arrival()
    if arrival is not None:
        return f"step {arrival}"
    return f"not in {r.steps} steps, at x1 = {fmt(r.path[-1][0])}"


def _winner(adagrad: _Run, rmsprop: _Run) -> str | None:
    """Who got within ARRIVED of the minimum first; a tie goes to the one closer then."""
    a, r = adagrad.arrival(), rmsprop.arrival()
    if a is None and r is None:
        return None
    if r is None or (a is not None and a < r):
        return "AdaGrad"
    if a is None or r < a:
        return "RMSProp"
    return "AdaGrad" if abs(adagrad.path[a][0]) < abs(rmsprop.path[r][0]) else "RMSProp"


def _race_claim(adagrad: _Run, rmsprop: _Run, steps: int) -> Claim:
    winner = _winner(adagrad, rmsprop)
    text = (
        f"RMSProp gets within {ARRIVED:g} of the minimum along x1 before AdaGrad (RMSProp "
        f"{_where(rmsprop)}; AdaGrad {_where(adagrad)})"
    )
    ada_arrival = adagrad.arrival()
    last = ada_arrival if ada_arrival is not None else len(adagrad.rates)
    lesson = (
        "AdaGrad's effective lr for x1 only shrinks, even on a slope whose gradient stays the "
        "same; RMSProp's leaky average does not."
    )
    if winner == "RMSProp" and adagrad.rates:
        reached = (
            f"got there only at step {ada_arrival}"
            if ada_arrival is not None
            else f"was still at x1 = {fmt(adagrad.path[-1][0])} after {adagrad.steps} steps"
        )
        slope = _least_slope(adagrad)
        lesson = (
            f"AdaGrad's sum of squared gradients kept growing while the slope's gradient stayed "
            f"at least {fmt(slope)}, so its effective lr for x1 fell from "
            f"{fmt(adagrad.rates[0][0])} at step 1 to {fmt(adagrad.rates[last - 1][0])} at step "
            f"{last} and it {reached}; RMSProp's leaky average got there at step "
            f"{rmsprop.arrival()}."
        )
    if winner is None:
        otherwise = (
            f"Neither got within {ARRIVED:g} of the minimum along x1 in {steps} steps: RMSProp "
            f"is at x1 = {fmt(rmsprop.path[-1][0])}, AdaGrad at {fmt(adagrad.path[-1][0])}."
        )
    else:
        otherwise = (
            f"AdaGrad got within {ARRIVED:g} of the minimum first (step {ada_arrival}); "
            f"RMSProp {_where(rmsprop)}, its x1 ranging from {fmt(min(p[0] for p in rmsprop.path))}"
            f" to {fmt(max(p[0] for p in rmsprop.path))}."
        )
    return Claim.experiment(text, winner == "RMSProp", lesson=lesson, otherwise=otherwise)


def _least_slope(r: _Run) -> float:
    """The smallest |df/dx1| AdaGrad saw before it arrived (or in the whole run)."""
    arrival = r.arrival()
    points = r.path[: arrival if arrival is not None else len(r.path)]
    return min(abs(p[0]) / math.sqrt(1 + p[0] * p[0]) for p in points)


def _race_answer(adagrad: _Run, rmsprop: _Run, steps: int) -> Answer:
    winner = _winner(adagrad, rmsprop)
    why = f"RMSProp {_where(rmsprop)}; AdaGrad {_where(adagrad)}."
    if winner is None:
        return Answer(NEITHER, f"In {steps} steps neither got within {ARRIVED:g}: " + why)
    return Answer(winner, f"Within {ARRIVED:g} of the minimum along x1: " + why)


def _adagrad_check(adagrad: _Run) -> Claim:
    rates = [r[0] for r in adagrad.rates]
    never_grows = all(b <= a for a, b in zip(rates, rates[1:], strict=False))
    return Claim.check(
        f"AdaGrad's effective lr for x1, lr / sqrt(sum of its squared gradients), never grows: "
        f"{fmt(rates[0])} at step 1, {fmt(rates[-1])} at step {len(rates)}",
        never_grows,
    )


def _per_parameter_check(runs: Mapping[str, _Run], labels: Mapping[str, Any]) -> Claim:
    g1 = START[0] / math.sqrt(1 + START[0] ** 2)
    g2 = STEEP * START[1]
    first = {label: r.rates[0] for label, r in runs.items() if r.rates}
    return Claim.check(
        f"At step 1 every method gives the steep x2 (gradient {fmt(abs(g2))}) a smaller "
        f"effective lr than the gentle x1 (gradient {fmt(abs(g1))}): "
        + ", ".join(f"{label} {fmt(r[1])} vs {fmt(r[0])}" for label, r in first.items()),
        len(first) == len(labels) and all(r[1] < r[0] for r in first.values()),
    )


def _bias_claim(early: Mapping[bool, float], b1: float, b2: float) -> Claim:
    without, with_ = early[False], early[True]
    text = (
        f"Without bias correction Adam's first {EARLY} steps are several times larger: up to "
        f"{fmt(without)}x lr, against {fmt(with_)}x lr with it (several means at least "
        f"{SEVERAL:g}x)"
    )
    return Claim.experiment(
        text,
        without >= SEVERAL * max(with_, 1e-12),
        lesson=(
            f"Adam's averages start at zero and the squared one lags more, so without the "
            f"correction its early steps reached {fmt(without)}x lr; dividing by (1 - beta^t) "
            f"kept them at most {fmt(with_)}x lr."
        ),
        otherwise=(
            f"At beta1 = {fmt(b1)} and beta2 = {fmt(b2)} Adam's early steps without bias "
            f"correction reached {fmt(without)}x lr, against {fmt(with_)}x lr with it: not "
            f"several times larger."
        ),
    )


def _first_step_check(runs: Mapping[str, _Run], b1: float, b2: float) -> Claim:
    corrected = runs["adam"].moves[0][0] if runs["adam"].moves else float("nan")
    raw = runs["adam (no bias correction)"].moves
    uncorrected = raw[0][0] if raw else float("nan")
    ratio = uncorrected / corrected
    predicted = (1 - b1) / math.sqrt(1 - b2)
    return Claim.check(
        f"Adam's first step without bias correction is {fmt(ratio)}x the corrected one, as "
        f"(1 - beta1) / sqrt(1 - beta2) = {fmt(predicted)} predicts",
        abs(ratio - predicted) <= 1e-6 * predicted,
    )


def _steps_answer(early: Mapping[bool, float]) -> Answer:
    without = early[False]
    why = f"Without bias correction Adam's largest early step was {fmt(without)}x lr."
    if without >= SEVERAL:
        return Answer(ANSWER_SEVERAL, why)
    if without <= WELL_BELOW:
        return Answer(ANSWER_BELOW, why)
    return Answer(ANSWER_ABOUT, why)


def _series(
    runs: Mapping[str, _Run], shown: list[str], view: str
) -> tuple[dict[str, Any], PlotSpec]:
    series: dict[str, Any] = {}
    if view == "path":
        for label in shown:
            path = runs[label].path
            series[label] = {"x": floats(p[0] for p in path), "y": floats(p[1] for p in path)}
        plot = PlotSpec(
            title=f"paths on f = sqrt(1 + x1²) - 1 + {0.5 * STEEP:g} x2²",
            x_label="x1",
            y_label="x2",
        )
        return series, plot
    for label in shown:
        rates = runs[label].rates
        for i in range(2):
            series[f"{label} x{i + 1}"] = {
                "x": [float(t) for t in range(1, len(rates) + 1)],
                "y": floats(r[i] for r in rates),
            }
    plot = PlotSpec(
        title="effective learning rate lr / (sqrt(v) + eps)",
        x_label="step",
        y_label="effective lr",
        log_y=True,
    )
    return series, plot


def _metrics(runs: Mapping[str, _Run], early: Mapping[bool, float]) -> dict[str, float]:
    key = {
        "adagrad": "adagrad",
        "rmsprop": "rmsprop",
        "adam": "adam",
        "adam (no bias correction)": "adam_uncorrected",
    }
    metrics: dict[str, float] = {}
    for label, r in runs.items():
        arrival = r.arrival()
        metrics[f"final_f_{key[label]}"] = r.values[-1]
        metrics[f"final_x1_{key[label]}"] = r.path[-1][0]
        metrics[f"arrival_{key[label]}"] = float(r.steps + 1 if arrival is None else arrival)
    ada = runs["adagrad"].rates
    metrics |= {
        "adagrad_eff_lr_first": ada[0][0] if ada else 0.0,
        "adagrad_eff_lr_last": ada[-1][0] if ada else 0.0,
        "adam_early_step_corrected": early[True],
        "adam_early_step_uncorrected": early[False],
    }
    return metrics
