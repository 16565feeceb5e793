"""Learning rate too low, too high, and how to find a good one.

Part one runs gradient descent on a quadratic whose largest curvature is L, at learning rates
0.1/L, 1/L and 2.05/L: the small one crawls, 1/L converges, and anything past 2/L overshoots the
steep direction further at every step and diverges. Part two is an lr range test on a small
MLP: raise the learning rate exponentially, one step at a time, and watch the loss fall and then
explode. A tenth of the lr where the loss bottomed out is a good lr, and training at it beats
training 100 times slower or 100 times faster.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from demos._common import Ticker, floats, fmt, generator, one_thread, setup
from studyapp.demo_api import (
    Claim,
    DemoOutput,
    DemoSpec,
    PlotSpec,
    Progress,
    Table,
    choice_param,
    device_param,
    float_param,
    int_param,
)

DIM = 20
MU, L = 0.1, 1.0  # smallest and largest curvature of the quadratic
CAP = 1e6  # f/f0 (quadratic) or the loss (MLP) past this counts as diverged; the curve stops
SLOW = 1000.0  # "too low is slow": its f is still at least this many times the middle one's
FLOOR = 1e-300  # f/f0 is kept above this so the log plot never meets an exact zero
CONVERGED = 1e-6  # "converges": f falls to at most this fraction of its start
RANGE_LR = (1e-4, 100.0)  # the lr range test sweeps this interval, log-uniformly
EXPLODE = 4.0  # the range test stops once the loss passes this many times its start
TRIAL_FACTOR = 100.0  # the suggested lr is compared with itself divided and multiplied by this

SPEC = DemoSpec(
    id="lr_too_high_low",
    title="Learning rate: too low, too high, and the lr range test",
    summary="Gradient descent at 0.1/L, 1/L and 2.05/L, then an lr range test on a small MLP.",
    topics=("learning rate too high", "learning rate too low", "finding a good learning rate"),
    params=(
        float_param("low", 0.1, 1e-3, 4.0, "the 'too low' lr, in units of 1/L", log_scale=True),
        float_param("middle", 1.0, 1e-3, 4.0, "the 'good' lr, in units of 1/L", log_scale=True),
        float_param("high", 2.05, 1e-3, 4.0, "the 'too high' lr, in units of 1/L", log_scale=True),
        int_param("steps", 100, 10, 2000, "gradient descent steps on the quadratic"),
        int_param("range_steps", 120, 30, 1000, "steps of the lr range test (one lr each)"),
        int_param("train_steps", 100, 10, 1000, "steps of each MLP run at a fixed lr"),
        int_param("points", 256, 32, 4096, "training points of the MLP's two-blob data"),
        choice_param("view", "quadratic", ("quadratic", "range_test"), "which part to plot"),
        device_param(),
    ),
    tiny={"range_steps": 60, "train_steps": 50, "points": 128},
    timeout_s=60,
)


def _quadratic(mult: float, steps: int, x0: Any, curvature: Any) -> list[float]:
    """f/f0 per step of gradient descent at lr = mult / L, stopped at CAP."""
    x = x0.clone()
    f0 = 0.5 * float((curvature * x * x).sum())
    out = [1.0]
    for _ in range(steps):
        x = x - (mult / L) * curvature * x
        ratio = 0.5 * float((curvature * x * x).sum()) / f0
        if not math.isfinite(ratio) or ratio > CAP:
            out.append(CAP)
            break
        out.append(max(ratio, FLOOR))
    return out


def _blobs(n: int, seed: int) -> tuple[Any, Any]:
    import torch

    g = generator(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    sign = y.float() * 2 - 1
    x = 0.6 * torch.randn(n, 2, generator=g) + torch.stack([sign, 0.5 * sign], dim=1)
    return x, y


def _train(
    model: Any, data: tuple[Any, Any], lrs: list[float], limit: float, tick: Any
) -> list[float]:
    """Full-batch SGD with lr lrs[t] at step t; stops once the loss passes `limit`."""
    import torch

    x, y = data
    opt = torch.optim.SGD(model.parameters(), lr=lrs[0])
    losses: list[float] = []
    for lr in lrs:
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        tick()
        value = loss.item()
        if not math.isfinite(value) or value > limit:
            losses.append(min(value, CAP) if math.isfinite(value) else CAP)
            break
        losses.append(value)
    return losses


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    with one_thread():
        return _run(torch, device, params, seed, progress)


def _run(
    torch: Any, device: Any, params: Mapping[str, Any], seed: int, progress: Progress
) -> DemoOutput:
    nn = torch.nn
    steps, range_steps, train_steps = params["steps"], params["range_steps"], params["train_steps"]
    total = range_steps + 3 * train_steps
    tick = Ticker(progress, total, "training the MLP")

    curvature = torch.logspace(math.log10(MU), math.log10(L), DIM, dtype=torch.float64)
    x0 = torch.randn(DIM, generator=generator(seed), dtype=torch.float64)
    mults = {"low": params["low"], "middle": params["middle"], "high": params["high"]}
    quad = {name: _quadratic(m, steps, x0, curvature) for name, m in mults.items()}
    progress(0.0, "quadratic done; lr range test on the MLP")

    data = tuple(t.to(device) for t in _blobs(params["points"], seed))
    model = nn.Sequential(
        nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2)
    ).to(device)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    lo, hi = RANGE_LR
    sweep = [lo * (hi / lo) ** (t / (range_steps - 1)) for t in range(range_steps)]
    with torch.no_grad():
        loss0 = nn.functional.cross_entropy(model(data[0]), data[1]).item()
    ranged = _train(model, data, sweep, EXPLODE * loss0, tick)
    best = min(range(len(ranged)), key=ranged.__getitem__)
    suggested = sweep[best] / 10
    trial_lrs = {
        "lr/100": suggested / TRIAL_FACTOR,
        "suggested": suggested,
        "lr*100": suggested * TRIAL_FACTOR,
    }
    trials: dict[str, list[float]] = {}
    for name, lr in trial_lrs.items():
        model.load_state_dict(start)
        trials[name] = _train(model, data, [lr] * train_steps, CAP, tick)
    trial_final = {name: curve[-1] for name, curve in trials.items()}
    exploded = len(ranged) < range_steps or ranged[-1] > EXPLODE * loss0

    final = {name: curve[-1] for name, curve in quad.items()}
    claims = _claims(mults, final, steps)
    claims.append(
        Claim(
            f"The lr range test's loss bottoms out at {fmt(ranged[best])} (from {fmt(loss0)}) at "
            f"lr {fmt(sweep[best])} and "
            + ("passes" if exploded else "never passes")
            + f" {EXPLODE:g}x its start by lr {fmt(sweep[len(ranged) - 1])}",
            ranged[best] < 0.5 * loss0 and exploded,
        )
    )
    claims.append(
        Claim(
            f"Training {train_steps} steps at the suggested lr {fmt(suggested)} (a tenth of the "
            f"best) ends at loss {_text(trial_final['suggested'])}, below lr/{TRIAL_FACTOR:g} "
            f"({_text(trial_final['lr/100'])}) and lr*{TRIAL_FACTOR:g} "
            f"({_text(trial_final['lr*100'])})",
            trial_final["suggested"] < min(trial_final["lr/100"], trial_final["lr*100"]),
        )
    )

    if params["view"] == "range_test":
        series: dict[str, Any] = {
            "range test loss": _thin(ranged, [math.log10(lr) for lr in sweep[: len(ranged)]])
        }
        plot = PlotSpec(
            title="lr range test: one step at each lr",
            x_label="log10 lr",
            y_label="loss",
            log_y=True,
        )
    else:
        series = {f"lr {mults[n]:g}/L ({n})": _thin(curve) for n, curve in quad.items()}
        plot = PlotSpec(title="gradient descent on a quadratic", y_label="f / f0", log_y=True)
    metrics = {f"f_ratio_{n}": v for n, v in final.items()}
    metrics |= {f"diverged_{n}": float(final[n] >= CAP) for n in final}
    metrics |= {
        "range_loss_start": loss0,
        "range_loss_min": ranged[best],
        "range_lr_best": sweep[best],
        "range_exploded": float(exploded),
        "suggested_lr": suggested,
    }
    metrics |= {
        f"trial_loss_{n.replace('/', '_div_').replace('*', '_times_')}": v
        for n, v in trial_final.items()
    }
    rows = [(f"quadratic, {n}", f"{mults[n]:g}/L", _text(final[n]), "f / f0") for n in quad]
    rows += [(f"MLP, {n}", fmt(trial_lrs[n]), _text(v), "loss") for n, v in trial_final.items()]
    return DemoOutput(
        series=series,
        table=Table.of(["run", "lr", "final value", "of"], rows),
        metrics=metrics,
        claims=claims,
        fixed_takeaway=(
            f"At {mults['low']:g}/L gradient descent kept {fmt(final['low'])} of f after {steps} "
            f"steps, at {mults['middle']:g}/L only {fmt(final['middle'])}, and at "
            f"{mults['high']:g}/L it ended at {_text(final['high'])} times its start; the range "
            f"test suggested lr {fmt(suggested)} for the MLP."
        ),
        plot=plot,
    )


def _thin(ys: list[float], xs: list[float] | None = None, limit: int = 500) -> dict[str, list]:
    """At most about `limit` points of a curve, always keeping the last."""
    xs = xs if xs is not None else [float(i) for i in range(len(ys))]
    index = list(range(0, len(ys), max(1, math.ceil(len(ys) / limit))))
    if index[-1] != len(ys) - 1:
        index.append(len(ys) - 1)
    return {"x": floats(xs[i] for i in index), "y": floats(ys[i] for i in index)}


def _text(value: float) -> str:
    return f"diverged, past {CAP:.0e}" if value >= CAP else fmt(value)


def _claims(mults: Mapping[str, float], final: Mapping[str, float], steps: int) -> list[Claim]:
    low, mid, high = final["low"], final["middle"], final["high"]
    return [
        Claim(
            f"Too low ({mults['low']:g}/L) is slow: after {steps} steps f is still "
            f"{fmt(low)} of its start, at least {SLOW:g}x the middle lr's {fmt(mid)}",
            low < 1.0 and low >= SLOW * mid,
        ),
        Claim(
            f"Too high ({mults['high']:g}/L{', past 2/L' if mults['high'] > 2 else ''}) "
            f"diverges: f grows to {'over ' if high >= CAP else ''}{fmt(high)} times its start",
            high > 1.0,
        ),
        Claim(
            f"The middle lr ({mults['middle']:g}/L) converges: f falls to {fmt(mid)} of its "
            f"start (at most {CONVERGED:g})",
            mid <= CONVERGED,
        ),
    ]
