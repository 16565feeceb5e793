"""Momentum in a ravine: gradient descent, heavy ball and Nesterov on an ill-conditioned bowl.

On f = 0.5 (x1^2 + k x2^2) the steep direction x2 caps the learning rate at 2/L (L = k), so
plain gradient descent crawls along the flat direction x1. Momentum accumulates the steady x1
gradient while the x2 zig-zags cancel, and reaches the bottom orders of magnitude sooner.
All three runs use `torch.optim.SGD` (with `momentum=` and `nesterov=True`) from the same
start; a fourth run with lr just above 2/L shows plain gradient descent blowing up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from demos._common import Ticker, floats, fmt, generator, setup
from studyapp.demo_api import (
    Claim,
    DemoOutput,
    DemoSpec,
    PlotSpec,
    Progress,
    Table,
    choice_param,
    float_param,
    int_param,
)

CAP = 1e6  # a run whose f passes this has diverged; its curve stops there
FLOOR = 1e-30  # f below this is shown as this, so a log plot stays drawable
FAR_BELOW = 100.0  # "far below" means at least this many times lower
OVERSHOOT = 1.05  # the diverging run uses lr = OVERSHOOT * 2/L

SPEC = DemoSpec(
    id="momentum_ravine",
    title="Momentum in a ravine",
    summary="Gradient descent, heavy-ball momentum and Nesterov on an ill-conditioned bowl.",
    topics=("momentum", "Nesterov", "ill-conditioning", "condition number"),
    params=(
        float_param("lr", 0.01, 1e-4, 0.1, "learning rate of all three methods", log_scale=True),
        float_param("beta", 0.9, 0.0, 0.99, "momentum coefficient (heavy ball and Nesterov)"),
        float_param(
            "k", 100.0, 1.0, 1000.0, "curvature of x2, = the condition number", log_scale=True
        ),
        int_param("steps", 200, 10, 2000, "optimizer steps for each method"),
        choice_param("view", "loss", ("loss", "path"), "plot f per step, or the paths in (x1, x2)"),
    ),
    tiny={"steps": 100},
    timeout_s=60,
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
    lr_over = OVERSHOOT * 2.0 / k
    methods: dict[str, Any] = {
        "gd": lambda p: torch.optim.SGD(p, lr=lr),
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
    gd, mom, nes = final["gd"], final["momentum"], final["nesterov"]
    f0 = curves["gd"][0]
    over_steps = len(curves["gd lr>2/L"]) - 1
    over = f"GD with lr {fmt(lr_over)} > 2/L = {fmt(2.0 / k)} diverges: f "
    if diverged["gd lr>2/L"]:
        over += f"grows from {fmt(f0)} past {CAP:.0e} by step {over_steps}"
    else:
        over += (
            f"goes from {fmt(f0)} to {fmt(final['gd lr>2/L'])} in {steps} steps, not past {CAP:.0e}"
        )
    claims = [
        Claim(
            f"After {steps} steps momentum's f ({_text(mom)}) and Nesterov's ({_text(nes)}) "
            f"are both at least {FAR_BELOW:g}x below plain GD's ({_text(gd)})",
            mom * FAR_BELOW <= gd and nes * FAR_BELOW <= gd,
        ),
        Claim(over, diverged["gd lr>2/L"]),
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
    metrics |= {"f0": f0, "lr": lr, "lr_limit": 2.0 / k, "lr_over": lr_over}
    rates = {"gd": lr, "momentum": lr, "nesterov": lr, "gd lr>2/L": lr_over}
    rows = [
        (name, fmt(rates[name]), _text(final[name]), "yes" if diverged[name] else "no")
        for name in methods
    ]
    return DemoOutput(
        series=series,
        table=Table.of(["method", "lr", f"f after {steps} steps", "diverged"], rows),
        metrics=metrics,
        claims=claims,
        fixed_takeaway=(
            f"With the same lr {fmt(lr)} (2/L = {fmt(2.0 / k)} caps it), momentum reaches f = "
            f"{fmt(mom)} and Nesterov {fmt(nes)} where plain GD is still at {fmt(gd)}: momentum "
            f"keeps moving along the flat floor of the ravine."
        ),
        plot=plot,
    )


def _curve_xy(curve: list[float]) -> dict[str, list[float]]:
    steps = _thin(list(range(len(curve))))
    return {"x": [float(s) for s in steps], "y": floats(curve[s] for s in steps)}


def _text(value: float) -> str:
    return f"below {FLOOR:.0e}" if value <= FLOOR else fmt(value)


def _key(name: str) -> str:
    return "gd_over" if name == "gd lr>2/L" else name
