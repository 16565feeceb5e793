"""Learning-rate warm-up: the same peak learning rate, reached at once or over the first steps.

A ReLU MLP with four hidden layers, its weights drawn at a chosen scale (by default a little
wider than He's init, which makes the loss surface at the start sharp), fits a smooth teacher
function with full-batch gradient descent on the mean squared error. Gradient descent is
stable only while the learning rate is below 2 / sharpness, the largest eigenvalue of the
loss's Hessian; the run measures that sharpness at the start (lambda0, by power iteration on
Hessian-vector products) and sets the peak learning rate as a multiple of the start's limit,
2 / lambda0.

Four runs from the same initial weights: at the peak learning rate with a linear warm-up over
the first part of the steps, and without one; and the same pair at a safe learning rate, half
the start's limit. The run measures whether warm-up trains where the cold start blows up or
lags, whether the warm-up run ended in a flatter region (sharpness near or below 2 / peak lr),
and whether warm-up matters at the safe learning rate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from demos._common import Ticker, floats, fmt, generator, one_thread, setup
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

INPUTS, POINTS, WIDTH, DEPTH = 8, 256, 64, 4
TEACHER_UNITS = 16
SAFE = 0.5  # the safe learning rate, as a multiple of the start's limit 2 / lambda0
BLOW_UP = 1e4  # a run whose loss passes this multiple of its starting loss has blown up
POWER_STEPS = 20  # power-iteration steps for the sharpness
BETTER = 2.0  # "warm-up trains where the cold start lags": final losses at least 2x apart
FLAT = 1.2  # "flatter": the warm-up run's final sharpness at most 1.2 x 2 / peak lr
SIMILAR = 1.3  # "little difference" at the safe lr: final losses within 1.3x of each other
CURVE_POINTS = 300

RUNS = ("warm-up, peak lr", "no warm-up, peak lr", "warm-up, safe lr", "no warm-up, safe lr")
KEYS = dict(zip(RUNS, ("warm_peak", "cold_peak", "warm_safe", "cold_safe"), strict=True))

SPEC = DemoSpec(
    id="lr_warmup",
    title="Learning-rate warm-up",
    summary="The same peak lr with and without a linear warm-up, on a network with a sharp start.",
    topics=(
        "learning rate warm-up",
        "learning rate schedule",
        "sharpness",
        "training stability",
        "divergence",
    ),
    params=(
        float_param(
            "peak",
            12.0,
            0.25,
            40.0,
            "peak learning rate, in multiples of the start's stability limit 2 / lambda0",
            log_scale=True,
        ),
        float_param("warmup", 0.25, 0.05, 0.9, "fraction of the steps spent warming up linearly"),
        int_param("steps", 400, 50, 2000, "full-batch gradient-descent steps of each run"),
        float_param(
            "init_scale",
            1.8,
            1.0,
            2.5,
            "weights drawn with std init_scale / sqrt(fan-in); He's init is 1.41",
        ),
        choice_param("view", "loss", ("loss", "lr"), "plot the loss or the learning rate per step"),
        device_param(),
    ),
    tiny={"steps": 150},
    questions=(
        Question(
            "cold",
            "Without warm-up, what does gradient descent do at this peak learning rate?",
            (
                "it blows up",
                "it trains, but ends at least 2x above the warm-up run",
                "it ends below 2x the warm-up run's loss",
            ),
        ),
        Question(
            "safe",
            "At the safe learning rate (half the start's limit), how does warm-up change the "
            "final loss?",
            # "Lower" is what a learner who thinks warm-up always helps expects; at a safe lr
            # warm-up only lowers the lr for a while, and no setting within bounds has shown it.
            ("by less than 1.3x", "it ends at least 1.3x lower", "it ends at least 1.3x higher"),
        ),
    ),
    timeout_s=120,
)


def _data(torch: Any, seed: int, device: Any) -> tuple[Any, Any]:
    """Inputs and the outputs of a fixed random teacher network, from the seeded stream."""
    gen = generator(seed)
    x = torch.randn(POINTS, INPUTS, generator=gen)
    w = torch.randn(INPUTS, TEACHER_UNITS, generator=gen) / INPUTS**0.5
    v = torch.randn(TEACHER_UNITS, 1, generator=gen) / TEACHER_UNITS**0.5
    y = 2.0 * torch.sin(x @ w) @ v
    return x.to(device), y.to(device)


def _init(torch: Any, scale: float, device: Any) -> list[Any]:
    params, fan_in = [], INPUTS
    for fan_out in [WIDTH] * DEPTH + [1]:
        params.append(torch.randn(fan_in, fan_out) * (scale / fan_in**0.5))
        params.append(torch.zeros(fan_out))
        fan_in = fan_out
    return [p.to(device) for p in params]


def _loss(torch: Any, params: list[Any], x: Any, y: Any) -> Any:
    h = x
    for i in range(0, len(params) - 2, 2):
        h = torch.relu(torch.addmm(params[i + 1], h, params[i]))
    out = torch.addmm(params[-1], h, params[-2])
    return 0.5 * ((out - y) ** 2).mean()


def _sharpness(torch: Any, params: list[Any], x: Any, y: Any, seed: int) -> float:
    """The Hessian's largest eigenvalue, by power iteration on Hessian-vector products."""
    ps = [p.detach().requires_grad_() for p in params]
    gen = generator(seed + 1)
    v = [torch.randn(p.shape, generator=gen).to(p.device) for p in ps]
    grads = torch.autograd.grad(_loss(torch, ps, x, y), ps, create_graph=True)
    value = 0.0
    for _ in range(POWER_STEPS):
        norm = math.sqrt(sum(float((a * a).sum()) for a in v))
        v = [a / norm for a in v]
        hv = torch.autograd.grad(grads, ps, grad_outputs=v, retain_graph=True)
        value = sum(float((a * b).sum()) for a, b in zip(hv, v, strict=True))
        v = [a.detach() for a in hv]
    return value


def _descend(
    torch: Any,
    start: list[Any],
    x: Any,
    y: Any,
    lr: float,
    warm_steps: int,
    steps: int,
    tick: Any,
) -> dict[str, Any]:
    """Full-batch gradient descent with lr rising linearly over `warm_steps`, then constant."""
    params = [p.clone().requires_grad_() for p in start]
    losses: list[float] = []
    rates: list[float] = []
    blew_up: int | None = None
    for step in range(steps):
        rate = lr * min(1.0, (step + 1) / warm_steps) if warm_steps > 0 else lr
        loss = _loss(torch, params, x, y)
        value = loss.item()
        if not math.isfinite(value) or (losses and value > BLOW_UP * losses[0]):
            blew_up = step
            break
        losses.append(value)
        rates.append(rate)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            torch._foreach_add_(params, grads, alpha=-rate)
        tick()
    final = math.inf
    if blew_up is None:
        with torch.no_grad():
            final = _loss(torch, params, x, y).item()
        if not math.isfinite(final) or final > BLOW_UP * losses[0]:
            blew_up, final = steps, math.inf
    for _ in range(steps - len(losses)):
        tick()
    return {
        "losses": losses,
        "rates": rates,
        "final": final,
        "blew_up": blew_up,
        "params": [p.detach() for p in params],
    }


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    peak, steps = params["peak"], params["steps"]
    # A warm-up of one step would start at the peak: two steps is the shortest real one.
    warm_steps = max(2, round(params["warmup"] * steps))
    x, y = _data(torch, seed, device)
    start = _init(torch, params["init_scale"], device)
    lam0 = _sharpness(torch, start, x, y, seed)
    limit = 2.0 / lam0
    lr_peak, lr_safe = peak * limit, SAFE * limit
    tick = Ticker(progress, steps * len(RUNS), "descending")
    settings = {
        "warm-up, peak lr": (lr_peak, warm_steps),
        "no warm-up, peak lr": (lr_peak, 0),
        "warm-up, safe lr": (lr_safe, warm_steps),
        "no warm-up, safe lr": (lr_safe, 0),
    }
    runs = {
        name: _descend(torch, start, x, y, lr, w, steps, tick) for name, (lr, w) in settings.items()
    }
    warm, cold = runs["warm-up, peak lr"], runs["no warm-up, peak lr"]
    lam_end = _sharpness(torch, warm["params"], x, y, seed) if warm["blew_up"] is None else math.nan
    r = {
        "peak": peak,
        "lr_peak": lr_peak,
        "lam0": lam0,
        "lam_end": lam_end,
        "limit_peak": 2.0 / lr_peak,
        "warm": warm,
        "cold": cold,
        "safe_warm": runs["warm-up, safe lr"],
        "safe_cold": runs["no warm-up, safe lr"],
        "warm_steps": warm_steps,
    }
    claims = [_peak_claim(r), _flat_claim(r), _safe_claim(r)]
    answers = {"cold": _cold_answer(r), "safe": _safe_answer(r)}

    key = "rates" if params["view"] == "lr" else "losses"
    series = {name: _curve(run[key]) for name, run in runs.items()}
    plot = (
        PlotSpec(title="learning rate per step", x_label="step", y_label="lr")
        if params["view"] == "lr"
        else PlotSpec(title="training loss per step", x_label="step", y_label="loss", log_y=True)
    )
    rows = [
        (name, fmt(settings[name][0]), settings[name][1], _outcome(run))
        for name, run in runs.items()
    ]
    metrics: dict[str, float] = {
        "sharpness_start": lam0,
        "lr_limit_start": limit,
        "lr_peak": lr_peak,
        "lr_safe": lr_safe,
        "warmup_steps": float(warm_steps),
    }
    if math.isfinite(lam_end):
        metrics["sharpness_end_warmup"] = lam_end
    for name, run in runs.items():
        short = KEYS[name]
        if run["blew_up"] is None:
            metrics[f"final_loss_{short}"] = run["final"]
        else:
            metrics[f"blew_up_at_{short}"] = float(run["blew_up"])
    metrics["start_loss"] = runs["no warm-up, safe lr"]["losses"][0]
    return DemoOutput(
        series=series,
        table=Table.of(["run", "lr", "warm-up steps", f"loss after {steps} steps"], rows),
        metrics=metrics,
        claims=claims,
        plot=plot,
        setup=(
            f"All four runs start from the same weights and take {steps} full-batch steps. The "
            f"start's sharpness is lambda0 = {fmt(lam0)}, so its limit 2 / lambda0 is "
            f"{fmt(limit)}: peak lr {fmt(lr_peak)} ({peak:g}x), safe lr {fmt(lr_safe)} "
            f"({SAFE:g}x). Warm-up raises the lr linearly to its target over the first "
            f"{warm_steps} steps."
        ),
        answers=answers,
    )


def _outcome(run: dict[str, Any]) -> str:
    if run["blew_up"] is not None:
        return f"blew up at step {run['blew_up']}"
    return fmt(run["final"])


def _result(run: dict[str, Any]) -> str:
    if run["blew_up"] is not None:
        return f"blew up at step {run['blew_up']}"
    return f"ends at loss {fmt(run['final'])}"


def _peak_claim(r: dict[str, Any]) -> Claim:
    warm, cold, peak = r["warm"], r["cold"], r["peak"]
    w_ok, c_ok = warm["blew_up"] is None, cold["blew_up"] is None
    text = (
        f"At a peak lr {peak:g}x the start's limit, warm-up trains where the cold start blows "
        f"up or ends at least {BETTER:g}x higher: with warm-up the run {_result(warm)}, "
        f"without it {_result(cold)}"
    )
    holds = w_ok and (not c_ok or cold["final"] >= BETTER * warm["final"])
    if not w_ok and not c_ok:
        otherwise = (
            f"At {peak:g}x the start's limit both runs blew up: warm-up did not rescue so large "
            f"a peak lr."
        )
    elif not w_ok:
        otherwise = (
            f"With warm-up the run {_result(warm)}, while the cold start trained to "
            f"{fmt(cold['final'])}."
        )
    elif cold["final"] * BETTER <= warm["final"]:
        otherwise = (
            f"Warm-up ended worse at this peak lr: {fmt(warm['final'])} against "
            f"{fmt(cold['final'])} without it."
        )
    else:
        otherwise = (
            f"At {peak:g}x the start's limit both runs trained, within {BETTER:g}x of each other: "
            f"{fmt(warm['final'])} with warm-up, {fmt(cold['final'])} without."
        )
    cold_text = (
        f"blew up at step {cold['blew_up']}" if not c_ok else f"ended at {fmt(cold['final'])}"
    )
    return Claim.experiment(
        text,
        holds,
        lesson=(
            f"Warm-up let gradient descent use a peak lr {peak:g}x the start's stability limit: "
            f"it ended at {fmt(warm['final'])}, while the cold start {cold_text}."
        ),
        otherwise=otherwise,
    )


def _flat_claim(r: dict[str, Any]) -> Claim:
    warm, lam0, lam_end, limit = r["warm"], r["lam0"], r["lam_end"], r["limit_peak"]
    trained = warm["blew_up"] is None
    end_text = fmt(lam_end) if trained else "none (it blew up)"
    text = (
        f"The warm-up run moved to flatter ground: sharpness from {fmt(lam0)} at the start "
        f"(above 2 / peak lr = {fmt(limit)}) to {end_text} at the end (at most {FLAT:g}x "
        f"{fmt(limit)})"
    )
    holds = trained and lam0 > limit and lam_end <= FLAT * limit
    if lam0 <= limit:
        otherwise = (
            f"At this peak lr the start was already stable (sharpness {fmt(lam0)}, not above 2 / "
            f"peak lr = {fmt(limit)}): there was no sharp region to leave."
        )
    elif not trained:
        otherwise = "The warm-up run blew up, so it found no flatter ground."
    else:
        otherwise = (
            f"The warm-up run ended with sharpness {fmt(lam_end)}, above {FLAT:g}x 2 / peak lr "
            f"= {fmt(limit)}."
        )
    return Claim.experiment(
        text,
        holds,
        lesson=(
            f"While the lr rose, the network moved to flatter ground: its sharpness fell from "
            f"{fmt(lam0)} to {fmt(lam_end)}, near or below 2 / peak lr = {fmt(limit)}, the most "
            f"the peak lr can handle."
        ),
        otherwise=otherwise,
    )


def _safe_claim(r: dict[str, Any]) -> Claim:
    warm, cold = r["safe_warm"], r["safe_cold"]
    both = warm["blew_up"] is None and cold["blew_up"] is None
    ratio = (
        max(warm["final"], cold["final"]) / min(warm["final"], cold["final"]) if both else math.inf
    )
    text = (
        f"At the safe lr ({SAFE:g}x the start's limit) warm-up makes little difference: "
        f"with it the run {_result(warm)}, without it {_result(cold)} (within {SIMILAR:g}x)"
    )
    if not both:
        otherwise = (
            f"Even at the safe lr a run blew up: with warm-up it {_result(warm)}, without it "
            f"{_result(cold)}."
        )
    else:
        otherwise = (
            f"Even at the safe lr warm-up changed the result: {fmt(warm['final'])} with it "
            f"against {fmt(cold['final'])} without, over {r['warm_steps']} warm-up steps."
        )
    return Claim.experiment(
        text,
        both and ratio <= SIMILAR,
        lesson=(
            f"At a safe lr warm-up hardly matters: {fmt(warm['final'])} with it, "
            f"{fmt(cold['final'])} without."
        ),
        otherwise=otherwise,
    )


def _cold_answer(r: dict[str, Any]) -> Answer:
    warm, cold = r["warm"], r["cold"]
    why = f"Without warm-up the run {_result(cold)}; with warm-up it {_result(warm)}."
    if cold["blew_up"] is not None:
        return Answer("it blows up", why)
    if warm["blew_up"] is None and cold["final"] >= BETTER * warm["final"]:
        return Answer("it trains, but ends at least 2x above the warm-up run", why)
    return Answer("it ends below 2x the warm-up run's loss", why)


def _safe_answer(r: dict[str, Any]) -> Answer:
    warm, cold = r["safe_warm"], r["safe_cold"]
    why = f"At the safe lr the run {_result(warm)} with warm-up and {_result(cold)} without."
    w = warm["final"] if warm["blew_up"] is None else math.inf
    c = cold["final"] if cold["blew_up"] is None else math.inf
    if w * SIMILAR <= c:
        return Answer("it ends at least 1.3x lower", why)
    if c * SIMILAR <= w:
        return Answer("it ends at least 1.3x higher", why)
    return Answer("by less than 1.3x", why)


def _curve(values: list[float]) -> dict[str, list[float]]:
    if not values:
        return {"x": [], "y": []}
    stride = max(1, math.ceil(len(values) / CURVE_POINTS))
    idx = list(range(0, len(values), stride))
    if idx[-1] != len(values) - 1:
        idx.append(len(values) - 1)
    return {"x": [float(i) for i in idx], "y": floats(values[i] for i in idx)}
