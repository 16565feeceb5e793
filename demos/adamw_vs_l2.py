"""AdamW against L2 inside Adam: where the weight decay lands (Loshchilov & Hutter, 2019).

With L2 added to the loss, Adam sees the penalty's gradient lambda * w as part of the gradient
and divides it, like the rest, by its per-weight normaliser sqrt(v) + eps: while eps is small
next to sqrt(v), a weight whose gradients have been large gets little decay and one whose
gradients have been small gets a lot. AdamW takes the decay out of the gradient and shrinks
every weight by the same factor (1 - lr * lambda) each step.

A tanh MLP learns a regression task whose inputs come on scales up to `spread` apart (by
default 100x, as raw features often are), so its weights see gradients of very different sizes.
Copies of it, from the same initial weights and on the same minibatches, train with both
methods: one pair at the chosen decay, to measure how much decay each weight actually received
per step per unit of its size, against its gradient scale; and each method over the same grid
of decays, to compare held-out error with each at its best decay, picked on a validation set.
Adam is written out with its first moment split into the data's part and the penalty's part, so
the penalty's share of every step is measured, not inferred; a check runs it against
torch.optim.Adam(weight_decay=) and torch.optim.AdamW step for step.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from demos._common import floats, fmt, generator, one_thread, report_every, setup
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

INPUTS, WIDTH, TEACHER_UNITS = 8, 32, 16
VAL_POINTS, TEST_POINTS, BATCH = 500, 2000, 32
LABEL_NOISE = 0.3
LR, BETA1, BETA2 = 6e-3, 0.9, 0.999
GRID = (0.0, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0)
SHARE = 0.1  # compare the 10% of weights with the smallest gradients to the 10% with the largest
UNEVEN = 3.0  # "regularised less": the large-gradient weights' decay rate at least 3x smaller
EVEN = 1.5  # decay rates within 1.5x of each other count as even
SAME = 0.05  # test errors within 5% count as the same
BETTER = 0.9  # "generalised better": test MSE at most this fraction of the other's
CHECK_STEPS = 20
CHECK_TOL = 1e-5
SCATTER_POINTS = 300

METHODS = ("L2 inside Adam", "AdamW")

SPEC = DemoSpec(
    id="adamw_vs_l2",
    title="AdamW vs L2 inside Adam",
    summary="Decoupled weight decay against an L2 penalty in Adam's gradient: who gets decayed.",
    topics=(
        "AdamW",
        "weight decay",
        "L2 regularization",
        "Adam",
        "decoupled weight decay",
        "regularization",
    ),
    params=(
        float_param(
            "decay",
            0.01,
            1e-4,
            3.0,
            "lambda of the pair whose decay per weight is measured",
            log_scale=True,
        ),
        float_param(
            "spread",
            100.0,
            1.0,
            1000.0,
            "ratio of the largest to the smallest input scale",
            log_scale=True,
        ),
        float_param("eps", 1e-8, 1e-10, 1.0, "Adam's epsilon, added to sqrt(v)", log_scale=True),
        int_param("steps", 600, 100, 3000, "minibatch steps of every run"),
        int_param("points", 60, 30, 2000, "training points"),
        choice_param(
            "view",
            "decay",
            ("decay", "sweep"),
            "decay per weight against its gradient scale, or validation error against lambda",
        ),
        device_param(),
    ),
    tiny={"steps": 180},
    questions=(
        Question(
            "who",
            "With L2 inside Adam, which weights get the most decay per step for their size?",
            # "The largest" is what a learner expects who thinks bigger gradients mean bigger
            # steps, decay included; no setting within bounds has shown it (a dominant penalty
            # evens the decay out instead).
            (
                "those with the smallest gradients",
                "those with the largest gradients",
                "all about the same (within 1.5x)",
            ),
        ),
        Question(
            "test",
            "Each method at its best decay (picked on validation): which has the lower test error?",
            ("AdamW", "L2 inside Adam", "within 5% of each other"),
        ),
    ),
    timeout_s=120,
)


def _data(torch: Any, seed: int, spread: float, points: int) -> tuple[Any, ...]:
    """Inputs on scales from 1/sqrt(spread) to sqrt(spread); targets from a tanh teacher."""
    gen = generator(seed)
    scales = torch.logspace(-0.5 * math.log10(spread), 0.5 * math.log10(spread), INPUTS)
    teacher = torch.randn(INPUTS, TEACHER_UNITS, generator=gen) / INPUTS**0.5
    out = torch.randn(TEACHER_UNITS, 1, generator=gen) / TEACHER_UNITS**0.5

    def draw(n: int) -> tuple[Any, Any]:
        z = torch.randn(n, INPUTS, generator=gen)
        y = 2.0 * torch.tanh(2.0 * z @ teacher) @ out + LABEL_NOISE * torch.randn(
            n, 1, generator=gen
        )
        return z * scales, y

    return (*draw(points), *draw(VAL_POINTS), *draw(TEST_POINTS))


def _init(torch: Any, copies: int, device: Any) -> list[Any]:
    """`copies` identical tanh MLPs stacked on a leading dimension (torch's Linear init)."""
    params = []
    for fan_in, fan_out in ((INPUTS, WIDTH), (WIDTH, WIDTH), (WIDTH, 1)):
        bound = fan_in**-0.5
        for shape in ((1, fan_in, fan_out), (1, 1, fan_out)):
            t = (2.0 * torch.rand(shape) - 1.0) * bound
            params.append(t.repeat(copies, 1, 1).to(device))
    return params


def _forward(torch: Any, params: list[Any], x: Any) -> Any:
    h = x.expand(params[0].shape[0], -1, -1)
    layers = list(zip(params[0::2], params[1::2], strict=True))
    for i, (w, b) in enumerate(layers):
        h = torch.baddbmm(b, h, w)
        if i < len(layers) - 1:
            h = torch.tanh(h)
    return h


class SplitAdam:
    """Adam on stacked copies, each with its own lambda, as L2 in the gradient or as AdamW.

    The first moment is kept in two parts, the data gradient's and the L2 penalty's, whose sum
    is Adam's usual first moment; so the share of each step that the penalty caused is known
    exactly, and `step` returns it. For AdamW copies that share is the shrink lr * lambda * w.
    """

    def __init__(self, torch: Any, params: list[Any], lams: Any, l2: Any, eps: float) -> None:
        self.params, self.eps = params, eps
        shape = (-1,) + (1,) * (params[0].dim() - 1)
        self.lam = lams.view(shape)
        self.l2 = l2.view(shape)
        self.m_data = [torch.zeros_like(p) for p in params]
        self.m_decay = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads: list[Any]) -> list[Any]:
        """Apply one step; returns the decay's part of it for each tensor (same sign as w)."""
        self.t += 1
        c1, c2 = 1 - BETA1**self.t, 1 - BETA2**self.t
        decays = []
        for p, g, m_d, m_w, v in zip(
            self.params, grads, self.m_data, self.m_decay, self.v, strict=True
        ):
            penalty = self.l2 * self.lam * p
            m_d.mul_(BETA1).add_(g, alpha=1 - BETA1)
            m_w.mul_(BETA1).add_(penalty, alpha=1 - BETA1)
            full = g + penalty
            v.mul_(BETA2).addcmul_(full, full, value=1 - BETA2)
            denom = (v / c2).sqrt_().add_(self.eps)
            l2_decay = (LR / c1) * m_w / denom
            decoupled = (1 - self.l2) * LR * self.lam * p
            decays.append(l2_decay + decoupled)
            p.sub_(decoupled)
            p.sub_((LR / c1) * (m_d + m_w) / denom)
        return decays


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    lam, steps, eps = params["decay"], params["steps"], params["eps"]
    data = _data(torch, seed, params["spread"], params["points"])
    x, y, x_val, y_val, x_test, y_test = (t.to(device) for t in data)
    # copies 0, 1: the measured pair (L2, AdamW) at `decay`; then the grid, L2 then AdamW
    lams = torch.tensor([lam, lam, *GRID, *GRID], device=device)
    l2 = torch.tensor([1.0, 0.0] + [1.0] * len(GRID) + [0.0] * len(GRID), device=device)
    weights = _init(torch, len(lams), device)
    start = [w[:2].clone() for w in weights]
    opt = SplitAdam(torch, weights, lams, l2, eps)
    # Sums over thousands of steps: kept in float64 so rounding does not blur the comparison.
    decayed = [torch.zeros_like(w[:2], dtype=torch.float64) for w in weights]
    size = [torch.zeros_like(w[:2], dtype=torch.float64) for w in weights]
    grad_sq = [torch.zeros_like(w[:2], dtype=torch.float64) for w in weights]
    batches = torch.Generator().manual_seed(seed)
    order = [torch.randint(0, len(x), (BATCH,), generator=batches) for _ in range(steps)]
    every = report_every(steps)
    for step, idx in enumerate(order):
        for w in weights:
            w.requires_grad_()
        loss = ((_forward(torch, weights, x[idx]) - y[idx]) ** 2).mean(dim=(1, 2)).sum()
        grads = torch.autograd.grad(loss, weights)
        with torch.no_grad():
            for w in weights:
                w.requires_grad_(False)
            signs = [w[:2].sign() for w in weights]
            for s, w in zip(size, weights, strict=True):
                s.add_(w[:2].abs().double(), alpha=LR)
            parts = opt.step(list(grads))
            for d, gs, part, sign, g in zip(decayed, grad_sq, parts, signs, grads, strict=True):
                d.add_((part[:2] * sign).double())
                gs.add_(g[:2].double().square())
        if (step + 1) % every == 0:
            progress((step + 1) / steps, f"step {step + 1} of {steps}")

    with torch.no_grad():
        val = ((_forward(torch, weights, x_val) - y_val) ** 2).mean(dim=(1, 2)).tolist()
        test = ((_forward(torch, weights, x_test) - y_test) ** 2).mean(dim=(1, 2)).tolist()
    rate = [
        torch.cat(
            [(d[i] / s[i].clamp_min(1e-30)).flatten() for d, s in zip(decayed, size, strict=True)]
        )
        / lam
        for i in range(2)
    ]
    rms = [torch.cat([(g[i] / steps).sqrt().flatten() for g in grad_sq]) for i in range(2)]
    low, high = _deciles(torch, rate[0], rms[0])
    check_gap = _check_against_torch(torch, start, x, y, order[:CHECK_STEPS], lam, eps)

    k = len(GRID)
    best = {
        "L2 inside Adam": min(range(k), key=lambda i: val[2 + i]),
        "AdamW": min(range(k), key=lambda i: val[2 + k + i]),
    }
    offset = {"L2 inside Adam": 2, "AdamW": 2 + k}
    tuned = {
        m: {
            "lam": GRID[best[m]],
            "val": val[offset[m] + best[m]],
            "test": test[offset[m] + best[m]],
        }
        for m in METHODS
    }
    adamw_rate = rate[1]
    r = {"lam": lam, "low": low, "high": high, "tuned": tuned, "eps": eps}
    claims = [
        _uneven_claim(r),
        _test_claim(tuned, params["spread"]),
        Claim.check(
            f"AdamW shrinks every weight by the same factor 1 - lr x lambda each step: measured "
            f"for each weight, its shrink rate is 1x lr x lambda (largest gap "
            f"{fmt(float((adamw_rate - 1).abs().max()))})",
            float((adamw_rate - 1).abs().max()) <= CHECK_TOL,
        ),
        Claim.check(
            f"The split Adam used here takes the same steps as torch.optim.Adam(weight_decay="
            f"{lam:g}) and torch.optim.AdamW over {CHECK_STEPS} steps (largest difference "
            f"{fmt(check_gap)})",
            check_gap <= CHECK_TOL,
        ),
    ]
    answers = {"who": _who_answer(r), "test": _test_answer(tuned)}

    if params["view"] == "sweep":
        # lambda = 0 (plain Adam for both) is drawn one decade below the grid's smallest lambda
        logs = floats(math.log10(v) if v > 0 else math.log10(GRID[1]) - 1 for v in GRID)
        series: dict[str, Any] = {
            "L2 inside Adam": {"x": logs, "y": floats(val[2 : 2 + k])},
            "AdamW": {"x": logs, "y": floats(val[2 + k :])},
        }
        plot = PlotSpec(
            title="validation MSE against the decay",
            x_label="log10 lambda (lambda = 0 one decade left of the rest)",
            y_label="validation MSE",
            log_y=True,
        )
    else:
        series = {name: _scatter(torch, rms[i], rate[i]) for i, name in enumerate(METHODS)}
        plot = PlotSpec(
            title=f"shrink per step for a weight's size, in units of AdamW's (lambda = {lam:g})",
            x_label="log10 gradient RMS of the weight",
            y_label="shrink rate / (lr x lambda)",
            log_y=True,
        )
    adamw_low, adamw_high = _deciles(torch, rate[1], rms[1])
    rows = [
        (
            "L2 inside Adam",
            fmt(low),
            fmt(high),
            f"{tuned['L2 inside Adam']['lam']:g}",
            round(tuned["L2 inside Adam"]["val"], 4),
            round(tuned["L2 inside Adam"]["test"], 4),
        ),
        (
            "AdamW",
            fmt(adamw_low),
            fmt(adamw_high),
            f"{tuned['AdamW']['lam']:g}",
            round(tuned["AdamW"]["val"], 4),
            round(tuned["AdamW"]["test"], 4),
        ),
    ]
    metrics: dict[str, float] = {
        "decay_rate_small_grads_l2": low,
        "decay_rate_large_grads_l2": high,
        "decay_rate_ratio_l2": low / high,
        "best_lambda_l2": tuned["L2 inside Adam"]["lam"],
        "best_lambda_adamw": tuned["AdamW"]["lam"],
        "val_mse_l2": tuned["L2 inside Adam"]["val"],
        "val_mse_adamw": tuned["AdamW"]["val"],
        "test_mse_l2": tuned["L2 inside Adam"]["test"],
        "test_mse_adamw": tuned["AdamW"]["test"],
        "check_gap": check_gap,
    }
    return DemoOutput(
        series=series,
        table=Table.of(
            [
                "method",
                f"shrink rate / AdamW's, small-gradient 10% (lambda={lam:g})",
                "large-gradient 10%",
                "best lambda (validation)",
                "validation MSE",
                "test MSE",
            ],
            rows,
        ),
        metrics=metrics,
        claims=claims,
        plot=plot,
        setup=(
            f"Every copy starts from the same weights and takes the same {steps} minibatches "
            f"(Adam lr {LR:g}, eps {eps:g}). For the test comparison each method runs at each "
            f"lambda in {', '.join(f'{v:g}' for v in GRID)} and keeps the one with the lowest "
            f"validation error on {VAL_POINTS} points; test error is on {TEST_POINTS} more."
        ),
        answers=answers,
    )


def _deciles(torch: Any, rate: Any, rms: Any) -> tuple[float, float]:
    """Median decay rate of the SHARE of weights with the smallest and the largest gradients."""
    order = rms.argsort()
    n = max(1, int(SHARE * len(order)))
    return rate[order[:n]].median().item(), rate[order[-n:]].median().item()


def _check_against_torch(
    torch: Any, start: list[Any], x: Any, y: Any, order: list[Any], lam: float, eps: float
) -> float:
    """Largest gap between SplitAdam and torch's Adam / AdamW over the same first steps."""
    ours = [w.clone() for w in start]
    mine = SplitAdam(
        torch,
        ours,
        torch.tensor([lam, lam], device=x.device),
        torch.tensor([1.0, 0.0], device=x.device),
        eps,
    )
    theirs = [[w[i : i + 1].clone().requires_grad_() for w in start] for i in range(2)]
    optims = [
        torch.optim.Adam(theirs[0], lr=LR, betas=(BETA1, BETA2), eps=eps, weight_decay=lam),
        torch.optim.AdamW(theirs[1], lr=LR, betas=(BETA1, BETA2), eps=eps, weight_decay=lam),
    ]
    for idx in order:
        for w in ours:
            w.requires_grad_()
        loss = ((_forward(torch, ours, x[idx]) - y[idx]) ** 2).mean(dim=(1, 2)).sum()
        grads = torch.autograd.grad(loss, ours)
        with torch.no_grad():
            for w in ours:
                w.requires_grad_(False)
            mine.step(list(grads))
        for params, opt in zip(theirs, optims, strict=True):
            opt.zero_grad()
            ((_forward(torch, params, x[idx]) - y[idx]) ** 2).mean().backward()
            opt.step()
    return max(
        (ours_w[i] - their_w[0].detach()).abs().max().item()
        for i in range(2)
        for ours_w, their_w in zip(ours, theirs[i], strict=True)
    )


def _uneven_claim(r: dict[str, Any]) -> Claim:
    low, high, lam = r["low"], r["high"], r["lam"]
    ratio = low / high
    text = (
        f"With L2 inside Adam (lambda {lam:g}) the 10% of weights with the largest gradients "
        f"shrink at least {UNEVEN:g}x slower, for their size, than the 10% with the smallest: "
        f"{fmt(high)}x AdamW's rate lr x lambda against {fmt(low)}x (AdamW: 1x for every weight)"
    )
    if ratio < 1 / EVEN:
        otherwise = (
            f"Here L2 inside Adam shrank the large-gradient weights faster: {fmt(high)}x AdamW's "
            f"rate against {fmt(low)}x for the small-gradient ones."
        )
    else:
        otherwise = (
            f"With lambda {lam:g} and eps {r['eps']:g}, L2 inside Adam shrank the large- and "
            f"small-gradient weights within {UNEVEN:g}x of each other: {fmt(high)}x and "
            f"{fmt(low)}x AdamW's rate."
        )
    return Claim.experiment(
        text,
        ratio >= UNEVEN,
        lesson=(
            f"L2 inside Adam regularises unevenly: Adam divides the penalty's gradient by each "
            f"weight's gradient scale, so the weights with the largest gradients shrank "
            f"{ratio:.0f}x slower than those with the smallest; AdamW shrinks every weight at "
            f"the same rate."
        ),
        otherwise=otherwise,
    )


def _test_claim(tuned: dict[str, dict[str, float]], spread: float) -> Claim:
    l2, adamw = tuned["L2 inside Adam"], tuned["AdamW"]
    inputs = (
        "With all inputs on one scale"
        if spread == 1
        else (f"With inputs on scales {spread:g}x apart")
    )
    text = (
        f"Each at its best lambda on validation, AdamW's test MSE ({fmt(adamw['test'])}, lambda "
        f"{adamw['lam']:g}) is at most {BETTER:g}x L2 inside Adam's ({fmt(l2['test'])}, lambda "
        f"{l2['lam']:g})"
    )
    if adamw["test"] >= l2["test"]:
        otherwise = (
            f"Here L2 inside Adam did at least as well on the test set: {fmt(l2['test'])} "
            f"against AdamW's {fmt(adamw['test'])}, each at its best lambda."
        )
    else:
        otherwise = (
            f"Each at its best lambda, AdamW and L2 inside Adam ended within {1 - BETTER:.0%} "
            f"of each other on the test set: {fmt(adamw['test'])} against {fmt(l2['test'])}."
        )
    return Claim.experiment(
        text,
        adamw["test"] <= BETTER * l2["test"],
        lesson=(
            f"{inputs}, AdamW generalised better: each tuned on validation, it reached a test "
            f"MSE of {fmt(adamw['test'])} against {fmt(l2['test'])} for L2 inside Adam."
        ),
        otherwise=otherwise,
    )


def _who_answer(r: dict[str, Any]) -> Answer:
    low, high = r["low"], r["high"]
    why = (
        f"For their size, the small-gradient 10% shrank at {fmt(low)}x AdamW's rate per step "
        f"and the large-gradient 10% at {fmt(high)}x."
    )
    if low >= EVEN * high:
        return Answer("those with the smallest gradients", why)
    if high >= EVEN * low:
        return Answer("those with the largest gradients", why)
    return Answer("all about the same (within 1.5x)", why)


def _test_answer(tuned: dict[str, dict[str, float]]) -> Answer:
    l2, adamw = tuned["L2 inside Adam"], tuned["AdamW"]
    why = (
        f"Test MSE at the best lambda on validation: AdamW {fmt(adamw['test'])} (lambda "
        f"{adamw['lam']:g}), L2 inside Adam {fmt(l2['test'])} (lambda {l2['lam']:g})."
    )
    if abs(adamw["test"] - l2["test"]) <= SAME * max(adamw["test"], l2["test"]):
        return Answer("within 5% of each other", why)
    return Answer("AdamW" if adamw["test"] < l2["test"] else "L2 inside Adam", why)


def _scatter(torch: Any, rms: Any, rate: Any) -> dict[str, list[float]]:
    """Up to SCATTER_POINTS weights, evenly spaced in gradient scale, as an x/y cloud."""
    order = rms.argsort()
    pick = order[torch.linspace(0, len(order) - 1, SCATTER_POINTS).round().long().unique()]
    return {
        "x": floats(rms[pick].clamp_min(1e-30).log10()),
        "y": floats(rate[pick].clamp_min(1e-30)),
    }
