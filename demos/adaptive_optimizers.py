"""Adaptive optimizers: AdaGrad, RMSProp and Adam, with each coordinate's effective step size.

All three divide the learning rate by a running size of the gradient, separately for every
parameter: on f = 0.1 x1^2 + 2 x2^2 the steep x2 gets a small step and the flat x1 a large one.
AdaGrad sums every squared gradient it has seen, so its effective learning rate only shrinks
and the run stalls; RMSProp and Adam use a leaky average instead. Adam's averages start at
zero, and its bias correction undoes that start: without it the first step is
(1 - beta1) / sqrt(1 - beta2) times too large (about 3x at the usual 0.9 / 0.999).
The update rules are written out in float64 so the effective step lr / (sqrt(v) + eps) can be
read at every step. The bowl and the start are fixed, so every seed gives the same run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from demos._common import Ticker, floats, fmt, setup
from studyapp.demo_api import (
    Claim,
    DemoOutput,
    DemoSpec,
    PlotSpec,
    Progress,
    Table,
    bool_param,
    choice_param,
    float_param,
    int_param,
)

START = (-5.0, -2.0)
CURVATURE = (0.2, 4.0)  # f = 0.5 * (0.2 x1^2 + 4 x2^2) = 0.1 x1^2 + 2 x2^2
EPS = 1e-8
CAP = 1e6  # coordinates beyond this count as diverged; the run stops there
SHRINK = 2.0  # "keeps shrinking": the last effective lr is at least this many times the first
STALL = 10.0  # "stalls": AdaGrad's f is at least this many times RMSProp's
TOO_LARGE = 1.5  # the uncorrected first step counts as too large above this ratio

SPEC = DemoSpec(
    id="adaptive_optimizers",
    title="AdaGrad, RMSProp and Adam: per-parameter step sizes",
    summary="Watch each coordinate's effective learning rate under AdaGrad, RMSProp and Adam.",
    topics=("AdaGrad", "RMSProp", "Adam", "bias correction", "per-parameter learning rate"),
    params=(
        float_param("lr", 0.4, 1e-3, 2.0, "learning rate of all three methods", log_scale=True),
        float_param("beta1", 0.9, 0.0, 0.999, "Adam's decay of the gradient average"),
        float_param("beta2", 0.999, 0.5, 0.9999, "Adam's decay of the squared-gradient average"),
        float_param("rho", 0.9, 0.5, 0.9999, "RMSProp's decay of the squared-gradient average"),
        bool_param("bias_correction", True, "whether the plotted Adam run corrects its averages"),
        int_param("steps", 20, 2, 500, "update steps for each method"),
        choice_param("view", "lr", ("lr", "path"), "plot effective lr per step, or the paths"),
    ),
    tiny={"steps": 15},
    timeout_s=30,
)


def _grad(x: Any) -> Any:
    import torch

    x = x.detach().requires_grad_(True)
    curvature = torch.tensor(CURVATURE, dtype=torch.float64)
    (0.5 * (curvature * x * x).sum()).backward()
    return x.grad


def _f(x: Any) -> float:
    return 0.5 * sum(c * v * v for c, v in zip(CURVATURE, x.tolist(), strict=True))


def _run(
    method: str, params: Mapping[str, Any], steps: int, bias_correction: bool, tick: Any
) -> tuple[list[tuple[float, ...]], list[float], list[tuple[float, ...]]]:
    """Run one method; returns the path (start first), f per step and the effective lr per step.

    The effective lr of a coordinate is lr / (sqrt(v) + eps), the factor its gradient (or, for
    Adam, its gradient average) is multiplied by.
    """
    import torch

    lr, b1, b2, rho = params["lr"], params["beta1"], params["beta2"], params["rho"]
    x = torch.tensor(START, dtype=torch.float64)
    m = torch.zeros(2, dtype=torch.float64)
    v = torch.zeros(2, dtype=torch.float64)
    path, values, eff = [tuple(x.tolist())], [_f(x)], []
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
        x = x - rate * direction
        tick()
        if not bool(torch.isfinite(x).all()) or float(x.abs().max()) > CAP:
            break
        path.append(tuple(x.tolist()))
        values.append(_f(x))
        eff.append(tuple(rate.tolist()))
    return path, values, eff


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    setup(seed, "cpu")
    steps, corrected = params["steps"], params["bias_correction"]
    adam_label = "adam" if corrected else "adam (no bias correction)"
    methods = {"adagrad": "adagrad", "rmsprop": "rmsprop", adam_label: "adam"}
    total = steps * len(methods) + 2
    tick = Ticker(progress, total, "stepping")

    runs = {label: _run(kind, params, steps, corrected, tick) for label, kind in methods.items()}
    first = {bc: _run("adam", params, 1, bc, tick)[0][1] for bc in (True, False)}

    ada_eff = [e[0] for e in runs["adagrad"][2]]
    ada_shrinks = all(b <= a for a, b in zip(ada_eff, ada_eff[1:], strict=False))
    shrink = ada_eff[0] / ada_eff[-1]
    final = {label: run_[1][-1] for label, run_ in runs.items()}
    done_steps = {label: len(run_[1]) - 1 for label, run_ in runs.items()}
    step_with = abs(first[True][0] - START[0])
    step_without = abs(first[False][0] - START[0])
    ratio = step_without / step_with
    b1, b2 = params["beta1"], params["beta2"]
    predicted = (1 - b1) / math.sqrt(1 - b2)
    ada_x1 = runs["adagrad"][0][-1][0]
    claims = [
        Claim(
            f"AdaGrad's effective lr for x1 never grows and shrinks {fmt(shrink)}x, from "
            f"{fmt(ada_eff[0])} at step 1 to {fmt(ada_eff[-1])} at step {len(ada_eff)} "
            f"(at least {SHRINK:g}x)",
            ada_shrinks and shrink >= SHRINK,
        ),
        Claim(
            f"At lr {fmt(params['lr'])} AdaGrad stalls: after {steps} steps it is at "
            f"x1 = {fmt(ada_x1)} with f = {fmt(final['adagrad'])}, at least {STALL:g}x "
            f"RMSProp's f ({fmt(final['rmsprop'])})",
            done_steps["adagrad"] == steps
            and done_steps["rmsprop"] == steps
            and final["adagrad"] >= STALL * final["rmsprop"],
        ),
        Claim(
            f"Without bias correction Adam's first step ({fmt(step_without)}) is "
            f"{fmt(ratio)}x the corrected one ({fmt(step_with)}), as (1 - beta1)/sqrt(1 - beta2)"
            f" = {fmt(predicted)} predicts (too large means over {TOO_LARGE:g}x)",
            ratio > TOO_LARGE and abs(ratio - predicted) <= 0.01 * predicted,
        ),
    ]
    series: dict[str, Any] = {}
    if params["view"] == "path":
        for label, (path, _, _) in runs.items():
            series[label] = {"x": floats(p[0] for p in path), "y": floats(p[1] for p in path)}
        plot = PlotSpec(title="paths on f = 0.1 x1² + 2 x2²", x_label="x1", y_label="x2")
    else:
        for label, (_, _, eff) in runs.items():
            for i in range(2):
                series[f"{label} x{i + 1}"] = {
                    "x": [float(t) for t in range(1, len(eff) + 1)],
                    "y": floats(e[i] for e in eff),
                }
        plot = PlotSpec(
            title="effective learning rate lr / (sqrt(v) + eps)",
            x_label="step",
            y_label="effective lr",
            log_y=True,
        )
    metrics = {f"final_f_{methods[label]}": value for label, value in final.items()}
    metrics |= {
        "adagrad_eff_lr_first": ada_eff[0],
        "adagrad_eff_lr_last": ada_eff[-1],
        "adam_first_step_corrected": step_with,
        "adam_first_step_uncorrected": step_without,
        "first_step_ratio": ratio,
        "first_step_ratio_predicted": predicted,
    }
    rows = []
    for label, (path, values, eff) in runs.items():
        last = [fmt(e) for e in eff[-1]] if eff else ["-", "-"]
        rows.append((label, fmt(path[-1][0]), fmt(path[-1][1]), fmt(values[-1]), *last))
    columns = ["method", "x1", "x2", "f", "eff. lr x1", "eff. lr x2"]
    return DemoOutput(
        series=series,
        table=Table.of(columns, rows),
        metrics=metrics,
        claims=claims,
        fixed_takeaway=(
            f"AdaGrad's step for x1 shrank from {fmt(ada_eff[0])} to {fmt(ada_eff[-1])} and it "
            f"stalled at f = {fmt(final['adagrad'])}, while RMSProp's leaky average reached "
            f"{fmt(final['rmsprop'])}; Adam without bias correction starts {fmt(ratio)}x too big."
        ),
        plot=plot,
    )
