"""Constant vs Xavier initialization: identical hidden units never stop being identical.

A small tanh MLP (two hidden layers) learns to tell two noisy concentric rings apart. Started
with every weight and bias set to one constant, all hidden units compute the same function,
receive the same gradient and get the same update, so after any number of steps every hidden
layer still has identical rows: the network behaves like one hidden unit per layer, which
can only draw a straight boundary, and a straight line cannot separate rings. Started with
Xavier (Glorot) random weights the symmetry is broken, the units specialize and the rings
are separated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from demos._common import floats, fmt, one_thread, report_every, setup
from studyapp.demo_api import (
    Claim,
    DemoOutput,
    DemoSpec,
    PlotSpec,
    Progress,
    Table,
    device_param,
    float_param,
    int_param,
)

SPEC = DemoSpec(
    id="xavier_vs_constant_init",
    title="Constant vs Xavier initialization",
    summary="Train one tanh MLP on two rings from all-constant weights and from Xavier weights.",
    topics=("initialization", "symmetry", "Xavier"),
    params=(
        float_param("constant", 0.5, -2.0, 2.0, "value every weight and bias starts at"),
        int_param("steps", 300, 10, 2000, "full-batch Adam steps for each network"),
        float_param("lr", 0.05, 1e-4, 0.5, "Adam learning rate", log_scale=True),
        int_param("width", 16, 2, 64, "hidden units in each of the two hidden layers"),
        int_param("points", 400, 40, 2000, "training points (half on each ring)"),
        device_param(),
    ),
    tiny={"steps": 150, "width": 8, "points": 200},
    timeout_s=60,
)

_INNER_RADIUS = 0.7
_RING_NOISE = 0.05
_CHANCE = 0.5
_NEAR_CHANCE = 0.2  # "near chance" = at most this far above it
_LEARNS = 0.9
_ANGLES = 360


def _rings(torch: Any, points: int) -> tuple[Any, Any]:
    """Two noisy concentric rings, class 1 inside, drawn from the seeded stream."""
    y = torch.arange(points) % 2
    angle = 2.0 * torch.pi * torch.rand(points)
    radius = torch.where(y == 1, _INNER_RADIUS, 1.0)
    x = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    return x + _RING_NOISE * torch.randn(x.shape), y


def _model(torch: Any, width: int, constant: float | None) -> Any:
    nn = torch.nn
    model = nn.Sequential(
        nn.Linear(2, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 2)
    )
    for layer in model:
        if isinstance(layer, nn.Linear):
            if constant is None:
                nn.init.xavier_uniform_(layer.weight)
                nn.init.zeros_(layer.bias)
            else:
                nn.init.constant_(layer.weight, constant)
                nn.init.constant_(layer.bias, constant)
    return model


def _row_spread(model: Any) -> float:
    """Largest difference between any hidden unit's incoming weights and the first unit's."""
    hidden = [model[0], model[2]]
    return max((layer.weight - layer.weight[:1]).abs().max().item() for layer in hidden)


def _best_line_accuracy(torch: Any, x: Any, y: Any) -> float:
    """The best accuracy any straight boundary reaches on (x, y), by trying every direction."""
    angle = torch.arange(_ANGLES, dtype=x.dtype, device=x.device) * (2.0 * torch.pi / _ANGLES)
    directions = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    order = (x @ directions.T).argsort(dim=0)
    labels = y[order].to(x.dtype)
    # Class 1 on one side of a threshold and class 0 on the other, for every threshold.
    ones_below = torch.cat([torch.zeros_like(labels[:1]), labels.cumsum(0)])
    count = torch.arange(len(y) + 1, dtype=x.dtype, device=x.device).unsqueeze(1)
    correct = ones_below + (len(y) - count) - (labels.sum(0) - ones_below)
    return (correct.max().item() / len(y)) if len(y) else 0.0


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    x, y = (t.to(device) for t in _rings(torch, params["points"]))
    inits = {"constant": params["constant"], "xavier": None}
    steps = params["steps"]
    every = report_every(steps * len(inits))
    accuracy: dict[str, list[float]] = {}
    spread: dict[str, list[float]] = {}
    rows_shown: dict[str, list[list[float]]] = {}
    done = 0
    for name, constant in inits.items():
        model = _model(torch, params["width"], constant).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=params["lr"], foreach=True)
        acc_curve, spread_curve = [], []
        for _ in range(steps):
            opt.zero_grad()
            logits = model(x)
            torch.nn.functional.cross_entropy(logits, y).backward()
            opt.step()
            acc_curve.append((logits.argmax(1) == y).float().mean().item())
            spread_curve.append(_row_spread(model))
            done += 1
            if done % every == 0:
                progress(done / (steps * len(inits)), name, {f"accuracy {name}": acc_curve})
        with torch.no_grad():
            acc_curve[-1] = (model(x).argmax(1) == y).float().mean().item()
        accuracy[name] = floats(acc_curve)
        spread[name] = floats(spread_curve)
        rows_shown[name] = model[0].weight[:3].tolist()

    best_line = _best_line_accuracy(torch, x, y)
    final = {name: curve[-1] for name, curve in accuracy.items()}
    const_spread = max(spread["constant"])
    metrics = {f"final_accuracy_{n}": final[n] for n in inits}
    metrics |= {f"max_row_difference_{n}": max(spread[n]) for n in inits}
    metrics |= {"best_straight_line_accuracy": best_line, "chance_accuracy": _CHANCE}
    claims = [
        Claim(
            f"Constant init: every hidden unit keeps identical weights through all {steps} "
            f"steps (largest row difference {fmt(const_spread)}, exactly 0)",
            const_spread == 0.0,
        ),
        Claim(
            f"Constant init stays near chance: accuracy {fmt(final['constant'])} is within "
            f"{_NEAR_CHANCE:g} of chance ({_CHANCE:g}) and no better than the best straight "
            f"boundary ({fmt(best_line)})",
            final["constant"] <= _CHANCE + _NEAR_CHANCE and final["constant"] <= best_line,
        ),
        Claim(
            f"Xavier init learns: accuracy {fmt(final['xavier'])} (above {_LEARNS:g})",
            final["xavier"] > _LEARNS,
        ),
    ]
    table_rows = [
        (name, f"unit {i + 1}", *(round(w, 4) for w in row))
        for name, rows in rows_shown.items()
        for i, row in enumerate(rows)
    ]
    series: dict[str, Any] = {f"accuracy {n}": accuracy[n] for n in inits}
    series |= {f"row difference {n}": spread[n] for n in inits}
    return DemoOutput(
        series=series,
        table=Table.of(["init", "hidden unit", "weight from x1", "weight from x2"], table_rows),
        metrics=metrics,
        claims=claims,
        fixed_takeaway=(
            f"With every weight at {params['constant']:g} the hidden units stay clones "
            f"(accuracy {fmt(final['constant'])}); Xavier's random start breaks the symmetry "
            f"and reaches {fmt(final['xavier'])}."
        ),
        plot=PlotSpec(title="accuracy and hidden-row difference", x_label="step", y_label="value"),
    )
