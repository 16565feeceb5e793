"""Momentum in a ravine: gradient descent, heavy ball and Nesterov on an ill-conditioned bowl.

On f = 0.5 (x1^2 + k x2^2) the steep direction x2 keeps gradient descent's learning rate below
2/L (L = k), and even at its best constant rate, 2/(L + mu), GD shrinks its distance to the
minimum by only (k - 1)/(k + 1) a step. Momentum (beta > 0) adds a running sum of past steps,
so steps along the gentle x1 build up while the zig-zags across the steep x2 partly cancel.
The run puts plain GD at that best rate against heavy ball and Nesterov at the lr and beta
given (a common setting by default, not tuned), reports whether both momentum methods got f
below a millionth of its start, for good, before GD did, and which of the three was first. A
fourth run puts GD just past 2/L, where the steep coordinate grows every step. All runs use
`torch.optim.SGD` (with `momentum=` and `nesterov=True`) from the same start."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from demos._common import Ticker, floats, fmt, generator, setup
from studyapp.demo_api import (
    Answer,
    Claim,
    DemoOutput,
    DemoSpec,
    PlotSpec,
    Progress,
    Question,
    Table,
    choice_param,
    float_param,
    int_param,
)

CAP = 1e6  # a run whose f passes this has diverged; its curve stops there
FLOOR = 1e-30  # f below this is shown as this, so a log plot stays drawable
OVERSHOOT = 1.05  # the diverging run uses lr = OVERSHOOT * 2/L
RACE = 1e-6  # the race: first step with f at most this fraction of its start
RACED = ("gd", "momentum", "nesterov")
LABELS = {
    "gd": "plain GD",
    "momentum": "heavy-ball momentum",
    "nesterov": "Nesterov",
    "gd lr>2/L": "plain GD past 2/L",
}
NONE_REACHED = "none of them within the steps"

SPEC = DemoSpec(
    id="momentum_ravine",
    title="Momentum in a ravine",
    summary="Gradient descent, heavy-ball momentum and Nesterov on an ill-conditioned bowl.",
    topics=("momentum", "Nesterov", "ill-conditioning", "condition number"),
    params=(
        float_param(
            "lr", 0.01, 1e-4, 0.1, "learning rate of heavy ball and Nesterov", log_scale=True
        ),
        float_param("beta", 0.9, 0.0, 0.99, "momentum coefficient (heavy ball and Nesterov)"),
        float_param(
            "k", 100.0, 1.0, 1000.0, "curvature of x2, = the condition number", log_scale=True
        ),
        int_param("steps", 200, 10, 2000, "optimizer steps for each method"),
        choice_param("view", "loss", ("loss", "path"), "plot f per step, or the paths in (x1, x2)"),
    ),
    tiny={"steps": 150},
    timeout_s=60,
    questions=(
        Question(
            "first_to_millionth",
            "Plain GD at its best learning rate, heavy-ball momentum or Nesterov: which first "
            "brings f below a millionth of its start, for good?",
            (LABELS["gd"], LABELS["momentum"], LABELS["nesterov"], NONE_REACHED),
        ),
    ),
)


def _start(seed: int) -> tuple[float, float]:
    """A start on the far side of the ravine: x1 in [-1.5, -1], x2 in [0.5, 1] or [-1, -0.5]."""
    import torch

    u = torch.rand(3, generator=generator(seed), dtype=torch.float64).tolist()
    return -1.0 - 0.5 * u[0], (0.5 + 0.5 * u[1]) * (1.0 if u[2] < 0.5 else -1.0)


def _descend(
    start: tuple[float, float], k: float, steps: int, make_opt: Any, tick: Any
) -> tuple[list[float], list[tuple[float, float]], bool]:
    """Run one optimizer on f; returns f per step (f0 first), the path, and whether it diverged."""
    import torch

    x = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    scale = torch.tensor([1.0, k], dtype=torch.float64)
    opt = make_opt([x])

    def f() -> Any:
        return 0.5 * (scale * x * x).sum()

    values = [f().item()]
    path = [start]
    for _ in range(steps):
        opt.zero_grad()
        loss = f()
        loss.backward()
        opt.step()
        value = f().item()
        tick()
        if not math.isfinite(value) or value > CAP:
            values.append(CAP)
            return values, path, True
        values.append(max(value, FLOOR))
        path.append((x[0].item(), x[1].item()))
    return values, path, False


def _ellipse(level: float, k: float, points: int = 60) -> dict[str, list[float]]:
    """The contour f = level, as an x/y curve."""
    angles = [2 * math.pi * i / points for i in range(points + 1)]
    a, b = math.sqrt(2 * level), math.sqrt(2 * level / k)
    return {
        "x": floats(a * math.cos(t) for t in angles),
        "y": floats(b * math.sin(t) for t in angles),
    }


def _thin(values: list[Any], limit: int = 500) -> list[Any]:
    stride = max(1, math.ceil(len(values) / limit))
    return values[::stride] if (len(values) - 1) % stride == 0 else values[::stride] + values[-1:]


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, _ = setup(seed, "cpu")
    lr, beta, k, steps = params["lr"], params["beta"], params["k"], params["steps"]
    lr_gd = 2.0 / (k + 1.0)  # the best constant lr of GD: 2 / (L + mu), L = k and mu = 1
    lr_over = OVERSHOOT * 2.0 / k
    rates = {"gd": lr_gd, "momentum": lr, "nesterov": lr, "gd lr>2/L": lr_over}
    methods: dict[str, Any] = {
        "gd": lambda p: torch.optim.SGD(p, lr=lr_gd),
        "momentum": lambda p: torch.optim.SGD(p, lr=lr, momentum=beta),
        "nesterov": lambda p: torch.optim.SGD(p, lr=lr, momentum=beta, nesterov=beta > 0),
        "gd lr>2/L": lambda p: torch.optim.SGD(p, lr=lr_over),
    }
    start = _start(seed)
    total = steps * len(methods)
    curves: dict[str, list[float]] = {}
    paths: dict[str, list[tuple[float, float]]] = {}
    diverged: dict[str, bool] = {}
    tick = Ticker(
        progress, total, "descending", series=lambda: {n: _thin(c) for n, c in curves.items()}
    )

    for name, make in methods.items():
        curves[name], paths[name], diverged[name] = _descend(start, k, steps, make, tick)

    final = {name: curve[-1] for name, curve in curves.items()}
    f0 = curves["gd"][0]
    race = {name: _settles_below(curves[name], RACE * f0) for name in RACED}
    claims = [
        _momentum_claim(race, diverged, curves, steps, lr_gd, lr),
        _gd_rate_check(paths["gd"], start, k, lr_gd),
        _overshoot_check(curves["gd lr>2/L"], diverged["gd lr>2/L"], k, lr_over),
    ]
    if params["view"] == "path":
        series: dict[str, Any] = {
            "contour f=f0": _ellipse(f0, k),
            "contour f=f0/100": _ellipse(f0 / 100, k),
        }
        for name in ("gd", "momentum", "nesterov"):
            pts = _thin(paths[name])
            series[name] = {"x": floats(p[0] for p in pts), "y": floats(p[1] for p in pts)}
        plot = PlotSpec(title=f"paths on f = 0.5(x1² + {k:g}·x2²)", x_label="x1", y_label="x2")
    else:
        series = {name: _curve_xy(curve) for name, curve in curves.items()}
        plot = PlotSpec(title="f per step", x_label="step", y_label="f", log_y=True)
    metrics = {f"final_f_{_key(n)}": v for n, v in final.items()}
    metrics |= {f"diverged_{_key(n)}": float(d) for n, d in diverged.items()}
    metrics |= {
        f"steps_to_millionth_{n}": float(steps + 1 if r is None else r) for n, r in race.items()
    }
    metrics |= {"f0": f0, "lr": lr, "lr_gd": lr_gd, "lr_limit": 2.0 / k, "lr_over": lr_over}
    rows = [
        (
            LABELS[name],
            fmt(rates[name]),
            _text(final[name]),
            "-" if name not in race or race[name] is None else str(race[name]),
            "yes" if diverged[name] else "no",
        )
        for name in methods
    ]
    return DemoOutput(
        series=series,
        table=Table.of(
            ["method", "lr", f"f after {steps} steps", "f < f0/1e6 from step", "diverged"], rows
        ),
        metrics=metrics,
        claims=claims,
        plot=plot,
        setup=(
            f"All runs start at the same point. Plain GD runs at its best constant learning "
            f"rate, 2/(L + mu) = {fmt(lr_gd)} (L = {k:g}, mu = 1); heavy ball and Nesterov at "
            f"lr {fmt(lr)} with beta {fmt(beta)}, not tuned"
            + (f" (with beta 0 both are plain GD at lr {fmt(lr)})" if beta == 0 else "")
            + f". A fourth run puts GD just past 2/L, at lr {fmt(lr_over)}."
        ),
        answers={"first_to_millionth": _race_answer(race, curves, steps)},
    )


def _settles_below(curve: list[float], level: float) -> int | None:
    """The first step from which f stays at or below `level` to the end of the run, or None."""
    above = [t for t, v in enumerate(curve) if v > level]
    if not above:
        return 0
    return None if above[-1] == len(curve) - 1 else above[-1] + 1


def _momentum_claim(
    race: Mapping[str, int | None],
    diverged: Mapping[str, bool],
    curves: Mapping[str, list[float]],
    steps: int,
    lr_gd: float,
    lr: float,
) -> Claim:
    def when(name: str) -> str:
        r = race[name]
        return f"not in {steps} steps" if r is None else f"step {r}"

    def before_gd(name: str) -> bool:
        r, gd = race[name], race["gd"]
        return r is not None and (gd is None or r < gd)

    holds = before_gd("momentum") and before_gd("nesterov")
    text = (
        f"Heavy-ball momentum ({when('momentum')}) and Nesterov ({when('nesterov')}) both "
        f"bring f below a millionth of its start, for good, before plain GD at its best lr "
        f"({when('gd')})"
    )
    gd_end = (
        f"was still at f = {_text(curves['gd'][-1])} "
        f"({fmt(curves['gd'][-1] / curves['gd'][0])} of its start) after {steps} steps"
        if race["gd"] is None
        else f"got f below a millionth of its start only at step {race['gd']}"
    )
    lesson = (
        f"Plain GD, even at its best constant lr {fmt(lr_gd)}, {gd_end}; at lr {fmt(lr)} "
        f"heavy-ball momentum got f below a millionth of its start at step {race['momentum']} "
        f"and Nesterov at step {race['nesterov']}."
    )
    blown = [n for n in ("momentum", "nesterov") if diverged[n]]
    if blown:
        otherwise = (
            f"At lr {fmt(lr)} {' and '.join(LABELS[n] for n in blown)} diverged: f passed "
            f"{CAP:.0e} by step {max(len(curves[n]) - 1 for n in blown)}, while plain GD at its "
            f"best lr ended at f = {_text(curves['gd'][-1])}."
        )
    elif race["gd"] is None and race["momentum"] is None and race["nesterov"] is None:
        otherwise = (
            f"In {steps} steps none got f below a millionth of its start for good: plain GD "
            f"ended at {_text(curves['gd'][-1])}, heavy-ball momentum at "
            f"{_text(curves['momentum'][-1])}, Nesterov at {_text(curves['nesterov'][-1])}."
        )
    else:
        otherwise = (
            f"Plain GD at its best lr {fmt(lr_gd)} got f below a millionth of its start "
            f"({when('gd')}) no later than "
            + " and ".join(
                f"{LABELS[n]} ({when(n)})" for n in ("momentum", "nesterov") if not before_gd(n)
            )
            + "."
        )
    return Claim.experiment(text, holds, lesson=lesson, otherwise=otherwise)


def _gd_rate_check(
    path: list[tuple[float, float]], start: tuple[float, float], k: float, lr_gd: float
) -> Claim:
    """At lr 2/(L + mu) every coordinate of GD's error shrinks by (k - 1)/(k + 1) a step."""
    predicted = (k - 1) / (k + 1)
    steps = len(path) - 1
    ratio = math.hypot(*path[-1]) / math.hypot(*start)
    measured = ratio ** (1 / steps)
    return Claim.check(
        f"At lr 2/(L + mu) = {fmt(lr_gd)} plain GD shrinks its distance to the minimum by "
        f"(k - 1)/(k + 1) = {fmt(predicted)} per step, the best any constant lr does on this "
        f"bowl (measured: {fmt(measured)} over {steps} steps)",
        abs(measured - predicted) <= 1e-6 + 1e-6 * predicted,
    )


def _overshoot_check(curve: list[float], diverged: bool, k: float, lr_over: float) -> Claim:
    growth = abs(1 - lr_over * k)
    end = (
        f"past {CAP:.0e} by step {len(curve) - 1}"
        if diverged
        else f"{fmt(curve[-1])} after {len(curve) - 1} steps"
    )
    return Claim.check(
        f"Past 2/L (lr {fmt(lr_over)} = {OVERSHOOT:g} x 2/L) GD multiplies the steep "
        f"coordinate by |1 - lr L| = {fmt(growth)} each step, so f grows from {fmt(curve[0])} "
        f"to {end}",
        growth > 1 and curve[-1] > curve[0],
    )


def _race_answer(
    race: Mapping[str, int | None], curves: Mapping[str, list[float]], steps: int
) -> Answer:
    reached = [n for n in RACED if race[n] is not None]
    summary = ", ".join(
        f"{LABELS[n]} {'step ' + str(race[n]) if race[n] is not None else 'not in ' + str(steps)}"
        for n in RACED
    )
    if not reached:
        return Answer(
            NONE_REACHED, f"No method got f below a millionth of its start for good: {summary}."
        )
    winner = min(reached, key=lambda n: (race[n], curves[n][race[n]]))
    return Answer(LABELS[winner], f"f stayed below a millionth of its start from: {summary}.")


def _curve_xy(curve: list[float]) -> dict[str, list[float]]:
    steps = _thin(list(range(len(curve))))
    return {"x": [float(s) for s in steps], "y": floats(curve[s] for s in steps)}


def _text(value: float) -> str:
    return f"below {FLOOR:.0e}" if value <= FLOOR else fmt(value)


def _key(name: str) -> str:
    return "gd_over" if name == "gd lr>2/L" else name
