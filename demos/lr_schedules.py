"""Learning-rate schedules: what torch's schedulers do to lr(t), and why decaying helps.

Minibatch SGD on a noisy linear regression never settles at a constant learning rate: every
minibatch gradient is noisy, so the weights keep jittering around the least-squares answer
with an excess loss proportional to the lr. Shrinking the lr over time (power, exponential,
piecewise constant, on plateau, cosine, warm-up then cosine, or shrinking cycles) lets the
weights settle. Every schedule here is a real `torch.optim.lr_scheduler`; the demo checks the
lr it set at each step against the schedule's closed-form formula, and compares each run's
final excess loss (over the exact least-squares fit) with the constant-lr run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
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
    float_param,
    int_param,
)

SCHEDULES = (
    "constant",
    "power",
    "exponential",
    "piecewise",
    "plateau",
    "cosine",
    "warmup_cosine",
    "cyclic",
)
FEATURES, POINTS, BATCH, NOISE = 10, 1000, 8, 1.0
PLATEAU_EVERY, PLATEAU_FACTOR, PLATEAU_PATIENCE = 10, 0.5, 2
POWER_S = 0.1  # power schedule: lr0 / (1 + t / s) with s = POWER_S * steps, ending near lr0/11
WARMUP_START = 0.1  # warm-up starts at this fraction of lr0
CYCLES = 4  # the cyclic schedule makes this many up-and-down cycles
TAIL = 0.1  # final excess loss = mean over the last TAIL of the evaluations
EVALS = 100  # the excess loss is evaluated this many times a run
FORMULA_TOL = 1e-9  # largest relative gap between scheduler and formula that counts as a match
CAP = 1e6  # a run whose loss passes this has diverged and stops
BETTER = 0.5  # "ends below constant lr": at most this fraction of constant lr's excess loss

SPEC = DemoSpec(
    id="lr_schedules",
    title="Learning-rate schedules",
    summary="Torch's lr schedulers on minibatch SGD: lr(t) against its formula, and the loss.",
    topics=(
        "power scheduling",
        "exponential scheduling",
        "piecewise constant scheduling",
        "performance scheduling",
        "cosine annealing",
        "cyclical learning rates",
        "warm-up",
    ),
    params=(
        choice_param("schedule", "all", ("all", *SCHEDULES[1:]), "run every schedule, or one"),
        float_param("lr0", 0.1, 1e-4, 0.2, "starting (peak) learning rate", log_scale=True),
        float_param(
            "decay", 0.01, 1e-4, 1.0, "final lr as a fraction of lr0 (not power)", log_scale=True
        ),
        int_param("warmup", 50, 1, 1000, "warm-up steps of the warmup_cosine schedule"),
        int_param("steps", 500, 80, 5000, "minibatch SGD steps per schedule"),
        choice_param("view", "lr", ("lr", "loss"), "plot lr(t), or the excess loss"),
    ),
    tiny={"steps": 300, "warmup": 30},
    timeout_s=60,
)


def _formulas(lr0: float, decay: float, warmup: int, steps: int) -> dict[str, Any]:
    """lr(t) in closed form, for every schedule except plateau (which follows the loss)."""
    low = lr0 * decay
    power_s = POWER_S * steps
    gamma_piece = math.sqrt(decay)
    milestones = (steps // 2, (3 * steps) // 4)
    warm = min(warmup, steps - 1)
    half = max(1, steps // (2 * CYCLES))

    def cosine(t: float, length: float) -> float:
        return low + (lr0 - low) * (1 + math.cos(math.pi * t / length)) / 2

    def warmup_cosine(t: int) -> float:
        if t < warm:
            return lr0 * (WARMUP_START + (1 - WARMUP_START) * t / warm)
        return cosine(t - warm, steps - warm)

    def cyclic(t: int) -> float:
        cycle = math.floor(1 + t / (2 * half))
        x = abs(t / half - 2 * cycle + 1)
        return low + (lr0 - low) * max(0.0, 1 - x) / 2 ** (cycle - 1)

    return {
        "constant": lambda t: lr0,
        "power": lambda t: lr0 / (1 + t / power_s),
        "exponential": lambda t: lr0 * decay ** (t / steps),
        "piecewise": lambda t: lr0 * gamma_piece ** sum(t >= m for m in milestones),
        "cosine": lambda t: cosine(t, steps),
        "warmup_cosine": warmup_cosine,
        "cyclic": cyclic,
    }


def _scheduler(torch: Any, name: str, opt: Any, params: Mapping[str, Any]) -> Any:
    sched = torch.optim.lr_scheduler
    lr0, decay, steps = params["lr0"], params["decay"], params["steps"]
    low = lr0 * decay
    if name == "constant":
        return sched.ConstantLR(opt, factor=1.0, total_iters=0)
    if name == "power":
        s = POWER_S * steps
        return sched.LambdaLR(opt, lambda t: 1 / (1 + t / s))
    if name == "exponential":
        return sched.ExponentialLR(opt, gamma=decay ** (1 / steps))
    if name == "piecewise":
        milestones = [steps // 2, (3 * steps) // 4]
        return sched.MultiStepLR(opt, milestones=milestones, gamma=math.sqrt(decay))
    if name == "plateau":
        return sched.ReduceLROnPlateau(
            opt, factor=PLATEAU_FACTOR, patience=PLATEAU_PATIENCE, min_lr=low
        )
    if name == "cosine":
        return sched.CosineAnnealingLR(opt, T_max=steps, eta_min=low)
    if name == "warmup_cosine":
        warm = min(params["warmup"], steps - 1)
        ramp = sched.LinearLR(opt, start_factor=WARMUP_START, total_iters=warm)
        anneal = sched.CosineAnnealingLR(opt, T_max=steps - warm, eta_min=low)
        return sched.SequentialLR(opt, [ramp, anneal], milestones=[warm])
    half = max(1, steps // (2 * CYCLES))
    return sched.CyclicLR(
        opt, base_lr=low, max_lr=lr0, step_size_up=half, mode="triangular2", cycle_momentum=False
    )


def _data(torch: Any, seed: int, steps: int) -> tuple[Any, Any, Any, float]:
    """Noisy linear data, the minibatch indices of every step, and the least-squares loss.

    Returns the design matrix (features and a ones column), the targets, the indices, and the
    lowest loss any weights can reach, which the excess loss is measured from.
    """
    g = generator(seed)
    x = torch.randn(POINTS, FEATURES, generator=g, dtype=torch.float64)
    w = torch.randn(FEATURES, 1, generator=g, dtype=torch.float64)
    y = x @ w + NOISE * torch.randn(POINTS, 1, generator=g, dtype=torch.float64)
    design = torch.cat([x, torch.ones(POINTS, 1, dtype=torch.float64)], dim=1)
    batches = torch.randint(0, POINTS, (steps, BATCH), generator=g)
    best = torch.linalg.lstsq(design, y).solution
    return design, y, batches, float(((design @ best - y) ** 2).mean())


def _train(
    torch: Any, name: str, params: Mapping[str, Any], data: tuple[Any, ...], tick: Callable
) -> tuple[list[float], list[tuple[int, float]]]:
    """One SGD run under one schedule; returns lr per step and (step, excess loss) pairs.

    The model is linear, so the minibatch gradient of the MSE, 2 X_b^T (X_b w - y_b) / B, is
    written out and handed to `torch.optim.SGD`, whose lr the scheduler sets.
    """
    design, y, batches, best_loss = data
    steps = params["steps"]
    w = torch.zeros(FEATURES + 1, 1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=params["lr0"])
    scheduler = _scheduler(torch, name, opt, params)
    eval_every = max(1, steps // EVALS)
    lrs: list[float] = []
    excess: list[tuple[int, float]] = []
    window = 0.0
    xbs, ybs = design[batches], y[batches]
    for t in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        with torch.no_grad():
            residual = xbs[t] @ w - ybs[t]
            w.grad = (2.0 / BATCH) * (xbs[t].T @ residual)
        opt.step()
        if name == "plateau":
            window += float((residual * residual).mean())
            if (t + 1) % PLATEAU_EVERY == 0:
                scheduler.step(window / PLATEAU_EVERY)
                window = 0.0
        else:
            scheduler.step()
        if (t + 1) % eval_every == 0 or t == steps - 1:
            with torch.no_grad():
                full = float(((design @ w - y) ** 2).mean())
            if not math.isfinite(full) or full > CAP:
                excess.append((t + 1, CAP))
                break
            excess.append((t + 1, max(full - best_loss, 0.0)))
        tick()
    return lrs, excess


def _tail_mean(values: list[float]) -> float:
    """Mean of the last TAIL fraction of the values (at least one)."""
    count = max(1, int(TAIL * len(values)))
    return sum(values[-count:]) / count


def _plateau_ok(lrs: list[float], lr0: float, decay: float) -> float:
    """Largest relative gap between plateau's lr and its nearest allowed value, or inf.

    ReduceLROnPlateau's lr is lr0 * factor^j (floored at lr0 * decay), changes only right after
    an evaluation, and never grows.
    """
    allowed = {max(lr0 * PLATEAU_FACTOR**j, lr0 * decay) for j in range(64)}
    gap = 0.0
    for t, lr in enumerate(lrs):
        nearest = min(abs(lr - a) / a for a in allowed)
        gap = max(gap, nearest)
        if t and (lr > lrs[t - 1] or (lr != lrs[t - 1] and t % PLATEAU_EVERY != 0)):
            return math.inf
    return gap


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, _ = setup(seed, "cpu")
    with one_thread():
        return _run(torch, params, seed, progress)


def _run(torch: Any, params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    lr0, decay, steps = params["lr0"], params["decay"], params["steps"]
    chosen = params["schedule"]
    names = SCHEDULES if chosen == "all" else ("constant", chosen)
    data = _data(torch, seed, steps)
    total = steps * len(names)
    tick = Ticker(progress, total, "training")

    formulas = _formulas(lr0, decay, params["warmup"], steps)
    lrs: dict[str, list[float]] = {}
    excess: dict[str, list[tuple[int, float]]] = {}
    gaps: dict[str, float] = {}
    for name in names:
        lrs[name], excess[name] = _train(torch, name, params, data, tick)
        if name == "plateau":
            gaps[name] = _plateau_ok(lrs[name], lr0, decay)
        else:
            gaps[name] = max(
                abs(lr - formulas[name](t)) / formulas[name](t) for t, lr in enumerate(lrs[name])
            )

    tail = {name: _tail_mean([v for _, v in e]) for name, e in excess.items()}
    decaying = [n for n in names if n != "constant"]
    worst_gap = max(gaps.values())
    base = tail["constant"]
    beaten = [n for n in decaying if tail[n] <= BETTER * base]
    claims = [
        Claim(
            f"Each schedule's lr(t) matches its formula at all {steps} steps (largest relative "
            f"gap {fmt(worst_gap)}, at most {FORMULA_TOL:g}; plateau: lr0 * "
            f"{PLATEAU_FACTOR:g}^j, lowered only after an evaluation)",
            worst_gap <= FORMULA_TOL,
        ),
        Claim(
            "Every decaying schedule ends below constant lr: final excess loss "
            + ", ".join(f"{n} {fmt(tail[n])}" for n in decaying)
            + f" vs constant {fmt(base)} (each at most {BETTER:g}x)",
            len(beaten) == len(decaying),
        ),
    ]
    if params["view"] == "loss":
        series: dict[str, Any] = {
            name: {"x": [float(t) for t, _ in e], "y": floats(max(v, 1e-12) for _, v in e)}
            for name, e in excess.items()
        }
        plot = PlotSpec(
            title="excess loss over the least-squares fit",
            y_label="full-data MSE - least-squares MSE",
            log_y=True,
        )
    else:
        stride = max(1, math.ceil(steps / 500))
        series = {
            name: {"x": [float(t) for t in range(0, len(v), stride)], "y": floats(v[::stride])}
            for name, v in lrs.items()
        }
        plot = PlotSpec(title="learning rate per step", y_label="lr")
    metrics = {f"final_excess_{n}": tail[n] for n in names}
    metrics |= {f"formula_gap_{n}": min(gaps[n], 1e300) for n in names}
    metrics |= {f"final_lr_{n}": lrs[n][-1] for n in names}
    rows = [(n, fmt(lrs[n][-1]), fmt(tail[n]), fmt(min(gaps[n], 1e300))) for n in names]
    best = min(decaying, key=tail.__getitem__)
    return DemoOutput(
        series=series,
        table=Table.of(["schedule", "final lr", "final excess loss", "formula gap"], rows),
        metrics=metrics,
        claims=claims,
        fixed_takeaway=(
            f"At a constant lr {fmt(lr0)} the weights keep jittering (excess loss {fmt(base)}); "
            f"{best} lowered the lr to {fmt(lrs[best][-1])} and ended at {fmt(tail[best])}."
        ),
        plot=plot,
    )
