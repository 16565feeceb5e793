"""Backpropagation is the chain rule: hand-derived gradients vs autograd vs finite differences.

A two-layer network x -> f(x W1 + b1) W2 + b2 with a squared-error loss is differentiated three
ways: by the chain rule written out by hand one layer at a time (the backward pass), by
torch.autograd walking the recorded graph, and by nudging every parameter by a step h
(central and forward differences). In float64 the first two agree to rounding error, and
gradcheck compares autograd with finite differences (checks). How the finite differences'
error depends on h is the experiment: a step sweep from 1e-1 to 1e-13 shows truncation error
at large steps and rounding error at small ones, or, for a loss without curvature to
truncate (identity activation), only the rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
    float_param,
    int_param,
)

# Rounding error always dominates at the smallest step, so "the smallest step" never wins
# within these bounds; it is the answer many learners expect.
Q_BEST_STEP = Question(
    "best_step",
    "Shrinking the finite-difference step h from 0.1 to 1e-13: where is the central "
    "difference closest to autograd's gradient?",
    ("at the smallest step", "at a step in the middle", "at the largest step"),
)
Q_CENTRAL = Question(
    "central",
    "At your step h, are central differences clearly closer to autograd than forward ones?",
    ("yes, over 3x closer", "no, within 3x of each other"),
)

SPEC = DemoSpec(
    id="autograd_chain_rule",
    title="Backpropagation = the chain rule",
    summary="Gradients of a 2-layer net by hand chain rule, by autograd and by finite differences.",
    topics=("backpropagation", "chain rule", "computational graph"),
    params=(
        choice_param(
            "function",
            "tanh",
            ("tanh", "sigmoid", "softplus", "identity"),
            "hidden activation (identity: none)",
        ),
        float_param("h", 1e-6, 1e-10, 1e-2, "finite-difference step", log_scale=True),
        int_param("hidden", 4, 1, 16, "hidden units"),
        int_param("samples", 16, 1, 128, "input rows in the batch"),
        int_param("inputs", 3, 1, 8, "input features"),
    ),
    tiny={"hidden": 3, "samples": 8},
    questions=(Q_BEST_STEP, Q_CENTRAL),
    timeout_s=30,
)

NAMES = ("W1", "b1", "W2", "b2")
# Autograd and the hand backward pass must agree to this relative error (float64 eps ~ 2e-16).
PRECISION = 1e-12
# Steps of the finite-difference sweep, as powers of ten.
SWEEP = [-13.0 + 0.5 * i for i in range(25)]
# "Both ends are worse": each end of the sweep has at least this times the best error.
END_FACTOR = 100.0
FLOOR = 1e-18  # keeps an exact zero error plottable on a log axis
CLOSER = 3.0  # "clearly closer": forward error at least this many times central's


def _activation(name: str) -> tuple[Callable[[Any], Any], Callable[[Any, Any], Any]]:
    """The activation and its derivative, the latter written from (z, f(z))."""
    import torch

    if name == "tanh":
        return torch.tanh, lambda z, a: 1.0 - a * a
    if name == "identity":
        return (lambda z: z), lambda z, a: torch.ones_like(z)
    if name == "sigmoid":
        return torch.sigmoid, lambda z, a: a * (1.0 - a)
    return torch.nn.functional.softplus, lambda z, a: torch.sigmoid(z)


def _data(params: Mapping[str, Any], seed: int) -> tuple[Any, Any, list[Any]]:
    import torch

    g = generator(seed)
    n, d, k = params["samples"], params["inputs"], params["hidden"]

    def draw(*shape: int, scale: float = 1.0) -> Any:
        return scale * torch.randn(*shape, generator=g, dtype=torch.float64)

    x, t = draw(n, d), draw(n, 1)
    weights = [draw(d, k, scale=d**-0.5), draw(k, scale=0.5), draw(k, 1, scale=k**-0.5), draw(1)]
    return x, t, weights


def _loss(x: Any, t: Any, f: Callable[[Any], Any], w: list[Any]) -> Any:
    y = f(x @ w[0] + w[1]) @ w[2] + w[3]
    return 0.5 * ((y - t) ** 2).mean()


def _hand_backward(x: Any, t: Any, name: str, w: list[Any]) -> list[Any]:
    """The backward pass written out: each layer's local derivative times the upstream one."""
    f, df = _activation(name)
    z1 = x @ w[0] + w[1]
    a1 = f(z1)
    y = a1 @ w[2] + w[3]
    dy = (y - t) / y.shape[0]
    d_w2, d_b2 = a1.T @ dy, dy.sum(0)
    dz1 = (dy @ w[2].T) * df(z1, a1)
    return [x.T @ dz1, dz1.sum(0), d_w2, d_b2]


def _finite_differences(
    x: Any, t: Any, f: Callable[[Any], Any], w: list[Any], h: float, central: bool
) -> list[Any]:
    """Nudge every parameter entry by h at once: one batched loss per nudged copy."""
    import torch

    flat = torch.cat([p.reshape(-1) for p in w])
    nudge = h * torch.eye(flat.numel(), dtype=flat.dtype)
    # The unnudged loss sits in the same batch so forward differences cancel consistently.
    lower = flat - nudge if central else flat.unsqueeze(0)
    losses = _batched_loss(x, t, f, w, torch.cat([flat + nudge, lower]))
    up, down = losses[: flat.numel()], losses[flat.numel() :]
    grad = (up - down) / (2 * h) if central else (up - down) / h
    out, start = [], 0
    for p in w:
        out.append(grad[start : start + p.numel()].reshape(p.shape))
        start += p.numel()
    return out


def _batched_loss(x: Any, t: Any, f: Callable[[Any], Any], w: list[Any], thetas: Any) -> Any:
    """The loss for each row of `thetas`, a flat copy of all parameters."""
    parts, start = [], 0
    for p in w:
        parts.append(thetas[:, start : start + p.numel()].reshape(-1, *p.shape))
        start += p.numel()
    w1, b1, w2, b2 = parts
    y = f(x @ w1 + b1.unsqueeze(1)) @ w2 + b2.unsqueeze(1)
    return 0.5 * ((y - t) ** 2).mean(dim=(1, 2))


def _relative_error(a: list[Any], b: list[Any]) -> float:
    diff = max((x - y).abs().max().item() for x, y in zip(a, b, strict=True))
    scale = max(y.abs().max().item() for y in b)
    return diff / scale if scale > 0 else diff


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, _ = setup(seed)
    x, t, weights = _data(params, seed)
    f, _ = _activation(params["function"])

    leaves = [w.clone().requires_grad_(True) for w in weights]
    _loss(x, t, f, leaves).backward()
    auto = [w.grad.detach() for w in leaves]
    hand = _hand_backward(x, t, params["function"], weights)
    h = params["h"]
    central = _finite_differences(x, t, f, weights, h, central=True)
    forward = _finite_differences(x, t, f, weights, h, central=False)
    passed = torch.autograd.gradcheck(
        lambda *w: _loss(x, t, f, list(w)), tuple(leaves), eps=h, raise_exception=False
    )
    progress(0.2, "gradients compared", None)

    sweep: dict[str, list[float]] = {"central": [], "forward": []}
    every = report_every(len(SWEEP), 20)
    for i, power in enumerate(SWEEP):
        for kind in sweep:
            fd = _finite_differences(x, t, f, weights, 10.0**power, central=kind == "central")
            sweep[kind].append(max(_relative_error(fd, auto), FLOOR))
        if (i + 1) % every == 0:
            progress(0.2 + 0.8 * (i + 1) / len(SWEEP), "step-size sweep", None)

    errors = {
        "hand": _relative_error(hand, auto),
        "central": _relative_error(central, auto),
        "forward": _relative_error(forward, auto),
    }
    best = min(sweep["central"])
    best_at = SWEEP[sweep["central"].index(best)]
    small_end, large_end = sweep["central"][0], sweep["central"][-1]
    claims = [
        _sweep_claim(params["function"], sweep["central"], best, best_at),
        Claim.check(
            f"Autograd equals the hand-derived chain rule to float64 precision: max relative "
            f"difference {fmt(errors['hand'])} (needs <= {fmt(PRECISION)})",
            errors["hand"] <= PRECISION,
        ),
        Claim.check(
            f"torch.autograd.gradcheck with step {fmt(h)} {'passes' if passed else 'fails'} "
            f"(central differences off by {fmt(errors['central'])})",
            bool(passed),
        ),
    ]
    where = (
        Q_BEST_STEP.options[0]
        if best_at == SWEEP[0]
        else Q_BEST_STEP.options[2]
        if best_at == SWEEP[-1]
        else Q_BEST_STEP.options[1]
    )
    closer = errors["forward"] / max(errors["central"], FLOOR)
    answers = {
        Q_BEST_STEP.id: Answer(
            where,
            f"The central-difference error is lowest at h = {_step(best_at)} ({fmt(best)}); "
            f"h = {_step(SWEEP[0])} gives {fmt(small_end)} and h = {_step(SWEEP[-1])} gives "
            f"{fmt(large_end)}.",
        ),
        Q_CENTRAL.id: Answer(
            Q_CENTRAL.options[0] if closer > CLOSER else Q_CENTRAL.options[1],
            f"At h = {fmt(h)} central differences are off by {fmt(errors['central'])}, forward "
            f"differences by {fmt(errors['forward'])}.",
        ),
    }
    rows = []
    for i, name in enumerate(NAMES):
        rows.append(
            (
                name,
                "x".join(str(n) for n in weights[i].shape),
                *floats(
                    [
                        auto[i].abs().max().item(),
                        (hand[i] - auto[i]).abs().max().item(),
                        (central[i] - auto[i]).abs().max().item(),
                        (forward[i] - auto[i]).abs().max().item(),
                    ],
                    3,
                ),
            )
        )
    metrics = {f"rel_error_{k}": v for k, v in errors.items()}
    metrics |= {
        "gradcheck_passed": 1.0 if passed else 0.0,
        "h": h,
        "best_log10_h": best_at,
        "best_central_error": best,
        "central_error_smallest_h": small_end,
        "central_error_largest_h": large_end,
    }
    return DemoOutput(
        series={k: {"x": list(SWEEP), "y": floats(v)} for k, v in sweep.items()},
        table=Table.of(
            [
                "parameter",
                "shape",
                "max |grad|",
                "hand - autograd",
                "central FD - autograd",
                "forward FD - autograd",
            ],
            rows,
        ),
        metrics=metrics,
        claims=claims,
        setup=(
            f"A {params['inputs']}-{params['hidden']}-1 net with {params['function']} hidden "
            f"units and a squared-error loss on {params['samples']} rows, in float64; finite "
            f"differences nudge one parameter at a time, at your step h and at "
            f"{len(SWEEP)} steps from {_step(SWEEP[0])} to {_step(SWEEP[-1])}."
        ),
        answers=answers,
        plot=PlotSpec(
            title="finite-difference error vs step",
            x_label="log10 step h",
            y_label="max relative error vs autograd",
            log_y=True,
        ),
    )


def _sweep_claim(function: str, central: list[float], best: float, best_at: float) -> Claim:
    small_end, large_end = central[0], central[-1]
    numbers = (
        f"best at h = {_step(best_at)} (error {fmt(best)}); h = {_step(SWEEP[0])} gives "
        f"{fmt(small_end)} and h = {_step(SWEEP[-1])} gives {fmt(large_end)}"
    )
    if large_end < END_FACTOR * best:
        instead = (
            f"Here a large step is no worse than the best one: {numbers}. Rounding error still "
            "grows as h shrinks."
        )
        if function == "identity":
            instead += (
                " With no activation the loss is quadratic along each single parameter, and a "
                "central difference is exact for a quadratic, so no truncation error appears."
            )
    else:
        instead = (
            f"Here a tiny step is no worse than the best one: {numbers}; rounding error did "
            "not show."
        )
    return Claim.experiment(
        f"Central differences are most accurate at a middle step, both ends at least "
        f"{END_FACTOR:g}x worse: {numbers}",
        min(small_end, large_end) >= END_FACTOR * best,
        lesson=(
            f"Finite differences are only as good as their step: the error is lowest near "
            f"h = {_step(best_at)} ({fmt(best)}), grows with larger steps (truncation) and with "
            f"smaller ones (rounding: {fmt(small_end)} at h = {_step(SWEEP[0])}). Autograd has no "
            "step at all."
        ),
        otherwise=instead,
    )


def _step(power: float) -> str:
    """A step of the sweep, 10**power, as the text shows it: 1e-5, 3.2e-05."""
    return f"1e{power:.0f}" if float(power).is_integer() else f"{10**power:.1e}"
