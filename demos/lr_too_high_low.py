"""Learning rate too low, too high, and how to find a good one.

Part one runs gradient descent on a quadratic whose curvature runs from 0.1 to L = 1, at three
learning rates (0.1/L, 1/L and 2.05/L by default): the run reports whether the low one is
still far from the minimum, whether the high one grows (past 2/L every step overshoots the
steep direction by more than it corrects) and whether the middle one converges. Part two is an
lr range test on a small MLP: raise the learning rate exponentially, one step at a time, and
watch the loss fall and then explode. The common rule takes a tenth of the lr where the loss
bottomed out; five runs train at that suggestion times 1/100, 1/10, 1, 10 and 100 from the
same start, and the run reports which ended lowest."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from demos._common import Ticker, first_below, floats, fmt, generator, one_thread, setup
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
TRIALS = (0.01, 0.1, 1.0, 10.0, 100.0)  # the MLP trains at the suggested lr times these
QUAD_OPTIONS = {"low": "the low one", "middle": "the middle one", "high": "the high one"}
TRIAL_OPTIONS = (
    "a lower lr (1/10 or 1/100 of it)",
    "the suggestion itself",
    "a higher lr (10x or 100x)",
)

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
    questions=(
        Question(
            "lowest_quadratic",
            "Gradient descent runs on the quadratic at a low, a middle and a high learning "
            "rate (0.1/L, 1/L and 2.05/L by default). Which ends with the lowest f?",
            tuple(QUAD_OPTIONS.values()),
        ),
        Question(
            "best_trial",
            "The range test suggests a tenth of the lr where its loss bottomed out. Training at "
            "that lr times 1/100, 1/10, 1, 10 and 100: which ends with the lowest loss?",
            TRIAL_OPTIONS,
        ),
    ),
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
    total = range_steps + len(TRIALS) * train_steps
    tick = Ticker(progress, total, "training the MLP")

    curvature = torch.logspace(math.log10(MU), math.log10(L), DIM, dtype=torch.float64)
    x0 = torch.randn(DIM, generator=generator(seed), dtype=torch.float64)
    curvature, x0 = curvature.to(device), x0.to(device)
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
    trials: dict[float, list[float]] = {}
    for factor in TRIALS:
        model.load_state_dict(start)
        trials[factor] = _train(model, data, [suggested * factor] * train_steps, CAP, tick)
    trial_final = {factor: curve[-1] for factor, curve in trials.items()}
    exploded = len(ranged) < range_steps or ranged[-1] > EXPLODE * loss0

    final = {name: curve[-1] for name, curve in quad.items()}
    claims = _claims(mults, quad, steps)
    claims.append(_range_claim(ranged, sweep, best, loss0, exploded))
    claims.append(_trial_claim(trial_final, suggested, train_steps))

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
    metrics |= {f"trial_loss_{_factor_key(f)}": v for f, v in trial_final.items()}
    rows = [(f"quadratic, {n}", f"{mults[n]:g}/L", _text(final[n]), "f / f0") for n in quad]
    rows += [
        (f"MLP, {_factor_name(f)}", fmt(suggested * f), _text(v), "loss")
        for f, v in trial_final.items()
    ]
    lowest = min(final, key=final.__getitem__)
    return DemoOutput(
        series=series,
        table=Table.of(["run", "lr", "final value", "of"], rows),
        metrics=metrics,
        claims=claims,
        plot=plot,
        setup=(
            f"The quadratic runs start from the same point; the MLP runs from the same weights, "
            f"on the same full batch, each for {train_steps} steps."
        ),
        answers={
            "lowest_quadratic": Answer(
                QUAD_OPTIONS[lowest],
                f"After {steps} steps f was "
                + ", ".join(f"{_of(final[n])} at {mults[n]:g}/L" for n in quad)
                + ".",
            ),
            "best_trial": _trial_answer(trial_final, suggested),
        },
    )


def _factor_name(factor: float) -> str:
    if factor == 1:
        return "suggested"
    return f"suggested x {factor:g}" if factor > 1 else f"suggested / {1 / factor:g}"


def _factor_key(factor: float) -> str:
    return _factor_name(factor).replace(" x ", "_times_").replace(" / ", "_div_")


def _best_trial(trial_final: Mapping[float, float]) -> float:
    return min(trial_final, key=lambda f: (trial_final[f], abs(math.log(f))))


def _range_claim(
    ranged: list[float], sweep: list[float], best: int, loss0: float, exploded: bool
) -> Claim:
    fell = ranged[best] < 0.5 * loss0
    text = (
        f"The lr range test's loss bottoms out at {fmt(ranged[best])} (from {fmt(loss0)}, "
        f"below half of it) at lr {fmt(sweep[best])} and "
        + ("passes" if exploded else "never passes")
        + f" {EXPLODE:g}x its start by lr {fmt(sweep[len(ranged) - 1])}"
    )
    if not fell:
        otherwise = (
            f"The range test's loss only got down to {fmt(ranged[best])} from {fmt(loss0)}, "
            "not below half of it, so its lowest point marks no clear fall."
        )
    else:
        otherwise = (
            f"The range test's loss fell to {fmt(ranged[best])} at lr {fmt(sweep[best])} but "
            f"had not passed {EXPLODE:g}x its start by the end of the sweep."
        )
    return Claim.experiment(
        text,
        fell and exploded,
        lesson=(
            f"Raising the lr one step at a time, the MLP's loss fell from {fmt(loss0)} to "
            f"{fmt(ranged[best])} at lr {fmt(sweep[best])} and then blew up past "
            f"{EXPLODE:g}x its start by lr {fmt(sweep[len(ranged) - 1])}."
        ),
        otherwise=otherwise,
    )


def _trial_claim(trial_final: Mapping[float, float], suggested: float, steps: int) -> Claim:
    best = _best_trial(trial_final)
    losses = ", ".join(f"{_factor_name(f)} {_text(v)}" for f, v in trial_final.items())
    text = (
        f"No lr below the suggested {fmt(suggested)} (a tenth of where the range test bottomed "
        f"out) trains better: of five {steps}-step runs at 1/100 to 100 times it, the lowest "
        f"loss is at {_factor_name(best)} ({losses})"
    )
    lesson = (
        f"Nothing below the suggestion trained better: the best of the five runs was "
        f"{_factor_name(best)} (lr {fmt(suggested * best)}, loss {_text(trial_final[best])}), "
        f"and 100x below the suggestion the loss {_ended(trial_final[TRIALS[0]])}."
    )
    if best > 1:
        lesson += " A tenth of the range test's minimum erred low here."
    return Claim.experiment(
        text,
        best >= 1,
        lesson=lesson,
        otherwise=(
            f"The suggestion was too high here: {_factor_name(best)} (lr "
            f"{fmt(suggested * best)}) ended lowest at loss {_text(trial_final[best])}, while "
            f"the suggestion itself {_ended(trial_final[1.0])}."
        ),
    )


def _trial_answer(trial_final: Mapping[float, float], suggested: float) -> Answer:
    best = _best_trial(trial_final)
    why = (
        f"The lowest loss was {_text(trial_final[best])} at lr {fmt(suggested * best)} "
        f"({_factor_name(best)})."
    )
    if best < 1:
        return Answer(TRIAL_OPTIONS[0], why)
    return Answer(TRIAL_OPTIONS[1] if best == 1 else TRIAL_OPTIONS[2], why)


def _thin(ys: list[float], xs: list[float] | None = None, limit: int = 500) -> dict[str, list]:
    """At most about `limit` points of a curve, always keeping the last."""
    xs = xs if xs is not None else [float(i) for i in range(len(ys))]
    index = list(range(0, len(ys), max(1, math.ceil(len(ys) / limit))))
    if index[-1] != len(ys) - 1:
        index.append(len(ys) - 1)
    return {"x": floats(xs[i] for i in index), "y": floats(ys[i] for i in index)}


def _ended(value: float) -> str:
    return f"diverged past {CAP:.0e}" if value >= CAP else f"ended at {fmt(value)}"


def _text(value: float) -> str:
    return f"diverged, past {CAP:.0e}" if value >= CAP else fmt(value)


def _of(value: float) -> str:
    """f / f0 in words: "0.00724 of its start", "494 times its start"."""
    if value >= CAP:
        return f"over {CAP:.0e} times its start"
    return f"{fmt(value)} {'times' if value > 1 else 'of'} its start"


def _steps_to_converge(curve: list[float]) -> str:
    """The first step at which f/f0 fell to CONVERGED, as the claims print it."""
    step = first_below(curve, CONVERGED)
    return "never" if step is None else str(step)


def _claims(
    mults: Mapping[str, float], curves: Mapping[str, list[float]], steps: int
) -> list[Claim]:
    low, mid, high = (curves[n][-1] for n in ("low", "middle", "high"))
    m_low, m_mid, m_high = mults["low"], mults["middle"], mults["high"]
    if low <= CONVERGED:
        slow_otherwise = (
            f"Given {steps} steps, {m_low:g}/L converged too: f fell to {_of(low)}, below "
            f"{CONVERGED:g}, in {_steps_to_converge(curves['low'])} steps against "
            f"{_steps_to_converge(curves['middle'])} at {m_mid:g}/L."
        )
    else:
        slow_otherwise = (
            f"At {m_low:g}/L f ended at {_of(low)} and at {m_mid:g}/L at {_of(mid)}: not "
            f"a slow, steady fall {SLOW:g}x behind the middle lr."
        )
    return [
        Claim.experiment(
            f"Too low ({m_low:g}/L) is slow: after {steps} steps f is still {_of(low)}, below "
            f"its start but not yet at {CONVERGED:g} of it and at least {SLOW:g}x the middle "
            f"lr's ({_of(mid)})",
            CONVERGED < low < 1.0 and low >= SLOW * mid,
            lesson=(
                f"At {m_low:g}/L gradient descent fell far behind: after {steps} steps f was "
                f"still {_of(low)}, {fmt(low / mid)}x the middle lr's."
            ),
            otherwise=slow_otherwise,
        ),
        Claim.experiment(
            f"Too high ({m_high:g}/L{', past 2/L' if m_high > 2 else ''}) diverges: after "
            f"{steps} steps f is {_of(high)}, above where it began",
            high > 1.0,
            lesson=(
                f"Past 2/L every step overshoots the steep direction by more than it corrects: "
                f"at {m_high:g}/L f grew to {_of(high)} in {steps} steps."
            ),
            otherwise=(
                f"At {m_high:g}/L, not past 2/L, f fell to {_of(high)} in {steps} steps."
                if m_high <= 2
                else f"At {m_high:g}/L f was still {_of(high)} after {steps} steps."
            ),
        ),
        Claim.experiment(
            f"The middle lr ({m_mid:g}/L) converges: after {steps} steps f is {_of(mid)} (at "
            f"most {CONVERGED:g})",
            mid <= CONVERGED,
            lesson=f"At {m_mid:g}/L f fell to {_of(mid)} in {steps} steps.",
            otherwise=(
                f"At {m_mid:g}/L f ended at {_of(mid)} after {steps} steps, not below "
                f"{CONVERGED:g} of it."
            ),
        ),
    ]
