"""Learning-rate schedules: what torch's schedulers do to lr(t), and when decaying helps.

Minibatch SGD on a noisy linear regression whose features come on scales from 1 down to 0.1,
so the loss has directions 100 times flatter than others, each carrying the same share of the
signal. A large learning rate makes progress along the flat directions but leaves the weights
jittering in the steep ones (every minibatch gradient is noisy); a small one jitters less but
crawls. A schedule starts large and ends small (lr0 * decay): power, exponential, piecewise
constant, on plateau, cosine, warm-up then cosine, or shrinking cycles. Every schedule here is a
real `torch.optim.lr_scheduler`; the run checks the lr it set at each step against the schedule's
closed-form formula. For a fair comparison the constant-lr baseline is a sweep of five rates,
lr0 down to lr0/100, and the run reports whether the best schedule ended below the best
constant's final excess loss (over the exact least-squares fit), by how much, and which
schedules did not."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
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
SCALES = (0.0, -1.0)  # feature scales run log-uniformly from 10^0 to 10^-1
SIGNAL = 0.3  # each feature's share of the target has this standard deviation
CONSTANTS = (1.0, 3.0, 10.0, 30.0, 100.0)  # the constant-lr sweep: lr0 divided by these
PLATEAU_EVERY, PLATEAU_FACTOR, PLATEAU_PATIENCE = 10, 0.5, 2
WARMUP_START = 0.1  # warm-up starts at this fraction of lr0
CYCLES = 4  # the cyclic schedule makes this many up-and-down cycles
TAIL = 0.1  # final excess loss = mean over the last TAIL of the evaluations
EVALS = 100  # the excess loss is evaluated this many times a run
FORMULA_TOL = 1e-9  # largest relative gap between scheduler and formula that counts as a match
CAP = 1e6  # a run whose loss passes this has diverged and stops

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
        float_param("lr0", 0.4, 1e-4, 1.0, "starting (peak) learning rate", log_scale=True),
        float_param("decay", 0.01, 1e-4, 1.0, "final lr as a fraction of lr0", log_scale=True),
        int_param("warmup", 50, 1, 1000, "warm-up steps of the warmup_cosine schedule"),
        int_param("steps", 500, 80, 5000, "minibatch SGD steps per schedule"),
        choice_param("view", "lr", ("lr", "loss"), "plot lr(t), or the excess loss"),
    ),
    tiny={"steps": 400, "warmup": 40, "schedule": "cosine"},
    timeout_s=60,
    questions=(
        Question(
            "schedule_or_constant",
            "Which ends with the lower excess loss: the best of five constant learning rates "
            "(lr0 down to lr0/100), or the best decaying schedule?",
            ("the best constant lr", "a decaying schedule"),
        ),
    ),
)


def _power_rate(decay: float, steps: int) -> float:
    """1/s of the power schedule lr0 / (1 + t/s), chosen so it ends at lr0 * decay."""
    return (1 / decay - 1) / steps


def _formulas(lr0: float, decay: float, warmup: int, steps: int) -> dict[str, Any]:
    """lr(t) in closed form, for every schedule except plateau (which follows the loss)."""
    low = lr0 * decay
    power = _power_rate(decay, steps)
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
        "power": lambda t: lr0 / (1 + power * t),
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
        rate = _power_rate(decay, steps)
        return sched.LambdaLR(opt, lambda t: 1 / (1 + rate * t))
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
    scale = torch.logspace(*SCALES, FEATURES, dtype=torch.float64)
    x = torch.randn(POINTS, FEATURES, generator=g, dtype=torch.float64) * scale
    w = SIGNAL * torch.randn(FEATURES, 1, generator=g, dtype=torch.float64) / scale.unsqueeze(1)
    y = x @ w + NOISE * torch.randn(POINTS, 1, generator=g, dtype=torch.float64)
    design = torch.cat([x, torch.ones(POINTS, 1, dtype=torch.float64)], dim=1)
    batches = torch.randint(0, POINTS, (steps, BATCH), generator=g)
    best = torch.linalg.lstsq(design, y).solution
    return design, y, batches, float(((design @ best - y) ** 2).mean())


def _train(
    torch: Any,
    name: str,
    params: Mapping[str, Any],
    data: tuple[Any, ...],
    tick: Callable,
    lr0: float | None = None,
) -> tuple[list[float], list[tuple[int, float]]]:
    """One SGD run under one schedule; returns lr per step and (step, excess loss) pairs.

    The model is linear, so the minibatch gradient of the MSE, 2 X_b^T (X_b w - y_b) / B, is
    written out and handed to `torch.optim.SGD`, whose lr the scheduler sets. With `lr0`
    given, the run is a constant-lr baseline at that rate: the same update, written out as
    w -= lr0 * gradient, since no scheduler is involved.
    """
    design, y, batches, best_loss = data
    steps = params["steps"]
    w = torch.zeros(FEATURES + 1, 1, dtype=torch.float64, requires_grad=lr0 is None)
    opt = scheduler = None
    if lr0 is None:
        opt = torch.optim.SGD([w], lr=params["lr0"])
        scheduler = _scheduler(torch, name, opt, params)
    eval_every = max(1, steps // EVALS)
    lrs: list[float] = []
    excess: list[tuple[int, float]] = []
    window = 0.0
    xbs, ybs = design[batches], y[batches]
    for t in range(steps):
        with torch.no_grad():
            residual = xbs[t] @ w - ybs[t]
            grad = (2.0 / BATCH) * (xbs[t].T @ residual)
            if opt is None:
                lrs.append(lr0)
                w -= lr0 * grad
        if opt is not None:
            lrs.append(opt.param_groups[0]["lr"])
            w.grad = grad
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
    decaying = [n for n in names if n != "constant"]
    data = _data(torch, seed, steps)
    tick = Ticker(progress, steps * (len(decaying) + len(CONSTANTS)), "training")

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
    constants = {1.0: _tail_mean([v for _, v in excess["constant"]])}
    for divisor in CONSTANTS[1:]:
        _, curve = _train(torch, "constant", params, data, tick, lr0=lr0 / divisor)
        constants[divisor] = _tail_mean([v for _, v in curve])

    tail = {name: _tail_mean([v for _, v in e]) for name, e in excess.items()}
    best_divisor = min(constants, key=constants.__getitem__)
    best_constant = constants[best_divisor]
    worst_gap = max(gaps.values())
    best = min(decaying, key=tail.__getitem__)
    claims = [
        _beat_claim(decaying, tail, constants, best_divisor, lr0),
        Claim.check(
            f"Each schedule's lr(t) matches its formula at every step it ran (largest relative "
            f"gap {fmt(worst_gap)}, at most {FORMULA_TOL:g}; plateau: lr0 * "
            f"{PLATEAU_FACTOR:g}^j, lowered only after an evaluation)",
            worst_gap <= FORMULA_TOL,
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
    metrics |= {f"final_excess_constant_div_{d:g}": v for d, v in constants.items()}
    metrics |= {"best_constant_lr": lr0 / best_divisor, "best_constant_excess": best_constant}
    rows = [(n, fmt(lrs[n][-1]), _loss(tail[n]), fmt(min(gaps[n], 1e300))) for n in decaying]
    rows += [
        (_constant_name(d), fmt(lr0 / d), _loss(v), "-" if d != 1 else fmt(gaps["constant"]))
        for d, v in constants.items()
    ]
    winner = "a decaying schedule" if tail[best] < best_constant else "the best constant lr"
    setup_text = (
        f"Every run sees the same minibatches from the same zero start. The constant-lr "
        f"baseline is the best of {len(CONSTANTS)} rates, lr0 = {fmt(lr0)} down to "
        f"lr0/{CONSTANTS[-1]:g}; the final excess loss is the mean over the last "
        f"{TAIL:.0%} of {EVALS} evaluations."
    )
    if "warmup_cosine" in names:
        warm = min(params["warmup"], steps - 1)
        setup_text += (
            f" warmup_cosine warms up for {warm} of the {steps} steps"
            + (
                f" (warmup {params['warmup']} cut to fit the run)"
                if warm < params["warmup"]
                else ""
            )
            + f" and anneals over the other {steps - warm}."
        )
    return DemoOutput(
        series=series,
        table=Table.of(["run", "final lr", "final excess loss", "formula gap"], rows),
        metrics=metrics,
        claims=claims,
        plot=plot,
        setup=setup_text,
        answers={
            "schedule_or_constant": Answer(
                winner,
                f"Lowest final excess loss: {best} {_loss(tail[best])} among the schedules, "
                f"{_constant_name(best_divisor)} {_loss(best_constant)} among the constant "
                "rates.",
            )
        },
    )


def _loss(value: float) -> str:
    return f"diverged (past {CAP:.0e})" if value >= CAP else fmt(value)


def _ended(value: float) -> str:
    return f"diverged past {CAP:.0e}" if value >= CAP else f"ended at {fmt(value)}"


def _constant_name(divisor: float) -> str:
    return "constant lr0" if divisor == 1 else f"constant lr0/{divisor:g}"


def _beat_claim(
    decaying: list[str],
    tail: Mapping[str, float],
    constants: Mapping[float, float],
    best_divisor: float,
    lr0: float,
) -> Claim:
    best_constant = constants[best_divisor]
    name = f"{_constant_name(best_divisor)} = {fmt(lr0 / best_divisor)}"
    best = min(decaying, key=tail.__getitem__)
    missed = [n for n in decaying if tail[n] >= best_constant]
    text = (
        f"The best decaying schedule ({best}, final excess loss {_loss(tail[best])}) ends below "
        f"the best constant rate of the sweep ({name}, {_loss(best_constant)})"
    )
    lesson = (
        f"A schedule beat every constant rate tried: {best} ended at {_loss(tail[best])}, "
        f"{fmt(best_constant / tail[best])}x below the best of {len(CONSTANTS)} constant rates "
        f"({name}, {fmt(best_constant)})."
    )
    if len(decaying) > 1:
        lesson += f" {len(decaying) - len(missed)} of {len(decaying)} schedules ended below it"
        lesson += (
            "."
            if not missed
            else ", not " + ", ".join(f"{n} ({_loss(tail[n])})" for n in missed) + "."
        )
    otherwise = (
        f"No schedule ended below the best constant rate ({name}, {_loss(best_constant)}): the "
        f"lowest, {best}, {_ended(tail[best])}."
    )
    ordered = [constants[d] for d in CONSTANTS]
    if best_divisor == 1 and all(b > a for a, b in zip(ordered, ordered[1:], strict=False)):
        otherwise += (
            f" The best constant rate was lr0 itself and every smaller one ended higher "
            f"(lr0/{CONSTANTS[1]:g}: {_loss(constants[CONSTANTS[1]])}), so a decay from lr0 "
            "spends its steps at rates that did worse here."
        )
    return Claim.experiment(text, tail[best] < best_constant, lesson=lesson, otherwise=otherwise)
