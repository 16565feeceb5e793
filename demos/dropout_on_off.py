"""Dropout on and off: the same wide network fitted to ~30 noisy points, with and without dropout.

Two copies of a two-hidden-layer tanh MLP start from the same weights and train on the same
noisy samples of a smooth curve: one plain, one dropping each hidden unit with probability p on
every step (inverted dropout: kept units are scaled by 1/(1-p), so nothing needs rescaling at
test time). The run compares their errors on the training points and on 2,000 fresh points from
the same curve and noise, and reports whichever way that comparison comes out: whether the plain
net fitted its training points far better than fresh ones, and whether dropout lowered the
held-out error and narrowed the gap. At p = 0 no unit is dropped and the two nets are one. It
also checks two library facts: in eval mode dropout is the identity, and in training mode the
1/(1-p) scaling keeps the mean activation.
"""

from __future__ import annotations

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
    device_param,
    float_param,
    int_param,
)

LOWER, SAME, HIGHER = "Lower", "About the same (within 5%)", "Higher"

SPEC = DemoSpec(
    id="dropout_on_off",
    title="Dropout on and off",
    summary="Fit ~30 noisy points with a wide MLP, with and without dropout; compare test error.",
    topics=("dropout", "co-adaptation", "overfitting", "test-time scaling"),
    params=(
        float_param("p", 0.5, 0.0, 0.9, "dropout rate of the second network (0 = no dropout)"),
        int_param("width", 64, 4, 128, "hidden units in each of the two hidden layers"),
        int_param("steps", 1000, 50, 4000, "full-batch Adam steps for each network"),
        float_param("lr", 0.005, 1e-4, 0.1, "Adam learning rate", log_scale=True),
        int_param("points", 30, 8, 200, "noisy training points on the curve"),
        float_param("noise", 0.5, 0.0, 2.0, "standard deviation of the label noise"),
        device_param(),
    ),
    tiny={"p": 0.2, "steps": 300, "lr": 0.01, "points": 20},
    timeout_s=120,
    questions=(
        Question(
            "test_error",
            "Compared with the same network trained without dropout, what is the dropout "
            "network's error on fresh test points?",
            (LOWER, SAME, HIGHER),
        ),
    ),
)

_TEST_POINTS = 2000
_LOW, _HIGH = -2.0, 2.0
_FAR_BELOW = 3.0  # "far below" = at least this factor
_BETTER = 0.05  # dropout "lowers" the test error when it is at least this share lower
_NARROWER = 0.1  # ... and "narrows" the train-test gap when it is at least this share smaller
_SCALE_TOLERANCE = 0.02


def _curve(x: Any) -> Any:
    import torch

    return torch.sin(2.0 * x)


def _data(torch: Any, points: int, noise: float, seed: int) -> tuple[Any, Any, Any, Any]:
    """Noisy training points on a grid and fresh noisy test points, from the data stream."""
    g = generator(seed)
    x = torch.linspace(_LOW, _HIGH, points).unsqueeze(1)
    y = _curve(x) + noise * torch.randn(x.shape, generator=g)
    x_test = _LOW + (_HIGH - _LOW) * torch.rand(_TEST_POINTS, 1, generator=g)
    y_test = _curve(x_test) + noise * torch.randn(x_test.shape, generator=g)
    return x, y, x_test, y_test


def _init_stack(nets: int, width: int, device: Any) -> list[Any]:
    """Weights and biases of `nets` identical MLPs stacked on a leading dimension."""
    import torch

    params = []
    for fan_in, fan_out in ((1, width), (width, width), (width, 1)):
        bound = fan_in**-0.5
        for shape in ((1, fan_in, fan_out), (1, 1, fan_out)):
            t = (2.0 * torch.rand(shape) - 1.0) * bound
            params.append(t.repeat(nets, 1, 1).to(device).requires_grad_())
    return params


def _forward(params: list[Any], x: Any, keep: Any, train: bool, dropouts: list[Any]) -> Any:
    """All stacked networks at once; in training, a unit of net m survives with keep[m]."""
    import torch

    h = x.expand(len(keep), -1, -1)
    layers = list(zip(params[0::2], params[1::2], strict=True))
    for i, (w, b) in enumerate(layers):
        h = torch.baddbmm(b, h, w)
        if i == len(layers) - 1:
            break
        h = torch.tanh(h)
        if train:
            h = h * (torch.rand(h.shape, device=h.device) < keep) / keep
        else:
            h = torch.stack([drop(h_m) for drop, h_m in zip(dropouts, h, strict=True)])
    return h


def _mse(pred: Any, y: Any) -> list[float]:
    return ((pred - y) ** 2).mean(dim=(1, 2)).tolist()


def _scaling_check(torch: Any, hidden: Any, p: float) -> tuple[float, float]:
    """Largest change nn.Dropout makes in eval mode, and the mean |activation| over
    training-mode draws as a share of its value without dropout."""
    drop = torch.nn.Dropout(p)
    drop.eval()
    eval_diff = (drop(hidden) - hidden).abs().max().item()
    drop.train()
    draws = torch.stack([drop(hidden) for _ in range(50)])
    ratio = draws.abs().mean().item() / max(hidden.abs().mean().item(), 1e-12)
    return eval_diff, ratio


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    p = params["p"]
    # At p = 0 the "dropout" network would be the plain one, step for step: train it once.
    rates = (0.0, p) if p > 0 else (0.0,)
    data = _data(torch, params["points"], params["noise"], seed)
    x, y, x_test, y_test = (t.to(device) for t in data)
    keep = torch.tensor([1.0 - r for r in rates], device=device).view(-1, 1, 1)
    dropouts = [torch.nn.Dropout(r).eval() for r in rates]
    weights = _init_stack(len(rates), params["width"], device)
    opt = torch.optim.Adam(weights, lr=params["lr"], foreach=True)
    steps = params["steps"]
    every = report_every(steps)
    for step in range(steps):
        opt.zero_grad()
        pred = _forward(weights, x, keep, True, dropouts)
        ((pred - y) ** 2).mean(dim=(1, 2)).sum().backward()
        opt.step()
        if (step + 1) % every == 0:
            progress((step + 1) / steps, f"step {step + 1} of {steps}")

    grid = torch.linspace(_LOW, _HIGH, 200, device=device).unsqueeze(1)
    with torch.no_grad():
        train_err = _mse(_forward(weights, x, keep, False, dropouts), y)
        test_err = _mse(_forward(weights, x_test, keep, False, dropouts), y_test)
        fits = _forward(weights, grid, keep, False, dropouts)
        hidden = torch.tanh(x_test * weights[0][-1] + weights[1][-1])
        eval_diff, scale_ratio = _scaling_check(torch, hidden, p)

    names = ["no dropout"] + [f"dropout p={p:g}"] * (len(rates) - 1)
    series: dict[str, Any] = {
        "training points": {"x": floats(x.flatten()), "y": floats(y.flatten())},
        "true curve": {"x": floats(grid.flatten()), "y": floats(_curve(grid).flatten())},
    }
    for name, fit in zip(names, fits, strict=True):
        series[f"fit, {name}"] = {"x": floats(grid.flatten()), "y": floats(fit.flatten())}

    gap = [te - tr for tr, te in zip(train_err, test_err, strict=True)]
    # Index 0 is the plain net; index -1 is the dropout net (the same one when p = 0).
    tr0, te0, gap0 = train_err[0], test_err[0], gap[0]
    trp, tep, gapp = train_err[-1], test_err[-1], gap[-1]
    metrics = {
        "train_mse_plain": tr0,
        "test_mse_plain": te0,
        "gap_plain": gap0,
        "train_mse_dropout": trp,
        "test_mse_dropout": tep,
        "gap_dropout": gapp,
        "test_change": tep / te0 - 1.0,
        "noise_variance": params["noise"] ** 2,
        "eval_max_abs_change": eval_diff,
        "train_mode_mean_ratio": scale_ratio,
    }
    rows = [
        (name, round(tr, 4), round(te, 4), round(gp, 4))
        for name, tr, te, gp in zip(names, train_err, test_err, gap, strict=True)
    ]
    claims = [
        _held_out_claim(p, tr0, te0, trp, tep),
        _memorize_claim(params["points"], tr0, te0),
        _gap_claim(p, gap0, gapp),
        Claim.check(
            f"In eval mode dropout (p={p:g}) is the identity: the largest change it makes to "
            f"an activation is {fmt(eval_diff)}",
            eval_diff == 0.0,
        ),
        Claim.check(
            f"In training mode dropout (p={p:g}) scales kept units by 1/(1-p), so the mean "
            f"|activation| over 50 draws is {scale_ratio:.3f} times its value without dropout "
            f"(within {_SCALE_TOLERANCE:.0%} of 1)",
            abs(scale_ratio - 1.0) <= _SCALE_TOLERANCE,
        ),
    ]
    return DemoOutput(
        series=series,
        table=Table.of(["network", "train MSE", "test MSE", "test - train"], rows),
        metrics=metrics,
        claims=claims,
        plot=PlotSpec(title="fitted curves", x_label="x", y_label="y"),
        setup=_setup(params),
        answers={"test_error": _answer(p, te0, tep)},
    )


def _setup(params: Mapping[str, Any]) -> str:
    training = (
        f"{params['steps']} full-batch Adam steps (lr {params['lr']:g}) on "
        f"{params['points']} noisy points"
    )
    measured = (
        f"test error is measured in eval mode on {_TEST_POINTS} fresh points from the same "
        f"curve and noise"
    )
    if params["p"] == 0:
        return (
            f"One network is trained, since at p=0 the dropout network would be the same one: "
            f"{training}; {measured}."
        )
    return f"Both networks start from the same weights and take the same {training}; {measured}."


def _held_out_claim(p: float, tr0: float, te0: float, trp: float, tep: float) -> Claim:
    change = tep / te0 - 1.0
    lesson = (
        f"Dropout p={p:g} traded training fit for held-out accuracy: its training error is "
        f"{fmt(trp)} (plain {fmt(tr0)}), its test error {fmt(tep)} (plain {fmt(te0)})."
    )
    if p == 0:
        return Claim.experiment(
            f"With p=0 dropout drops no unit, so the 'dropout' network is the plain one: test "
            f"error {fmt(tep)} against {fmt(te0)}",
            False,
            lesson=lesson,
            otherwise=(
                f"At p=0 there is no dropout: both networks are the same one, with the same "
                f"test error ({fmt(te0)})."
            ),
        )
    if change > _BETTER:
        otherwise = (
            f"Dropout p={p:g} made the held-out error worse: {fmt(tep)} against {fmt(te0)} "
            f"without it, with a training error of {fmt(trp)} against {fmt(tr0)}."
        )
    else:
        otherwise = (
            f"Dropout p={p:g} left the held-out error about where it was: {fmt(tep)} against "
            f"{fmt(te0)} without it."
        )
    return Claim.experiment(
        f"With dropout p={p:g} the error on fresh test points is {fmt(tep)} against "
        f"{fmt(te0)} without dropout (lower by at least {_BETTER:.0%})",
        change <= -_BETTER,
        lesson=lesson,
        otherwise=otherwise,
    )


def _memorize_claim(points: int, tr0: float, te0: float) -> Claim:
    return Claim.experiment(
        f"Without dropout the training error ({fmt(tr0)}) is at least {_FAR_BELOW:g}x below "
        f"the test error ({fmt(te0)})",
        tr0 * _FAR_BELOW <= te0,
        lesson=(
            f"Without dropout the wide network fitted its {points} training points far more "
            f"closely than fresh points: it overfitted."
        ),
        otherwise=(
            f"Without dropout the network's training error ({fmt(tr0)}) stayed within "
            f"{_FAR_BELOW:g}x of its test error ({fmt(te0)}): no clear memorization of its "
            f"{points} training points."
        ),
    )


def _gap_claim(p: float, gap0: float, gapp: float) -> Claim:
    if p == 0:
        otherwise = f"At p=0 the gap between test and training error is unchanged ({fmt(gap0)})."
    else:
        otherwise = (
            f"Dropout p={p:g} did not clearly narrow the gap between test and training "
            f"error: {fmt(gapp)} with it, {fmt(gap0)} without."
        )
    return Claim.experiment(
        f"The gap between test and training error is {fmt(gapp)} with dropout p={p:g} and "
        f"{fmt(gap0)} without (narrower needs at least {_NARROWER:.0%} closer to 0)",
        abs(gapp) <= (1.0 - _NARROWER) * abs(gap0),
        lesson=f"Dropout p={p:g} narrowed that gap from {fmt(gap0)} to {fmt(gapp)}.",
        otherwise=otherwise,
    )


def _answer(p: float, te0: float, tep: float) -> Answer:
    change = tep / te0 - 1.0
    if change <= -_BETTER:
        option = LOWER
    elif change >= _BETTER:
        option = HIGHER
    else:
        option = SAME
    if p == 0:
        why = f"At p=0 no unit is dropped: both networks are the same, test error {fmt(te0)}."
    else:
        why = (
            f"With dropout p={p:g} the test error is {fmt(tep)} against {fmt(te0)} without "
            f"dropout ({change:+.0%})."
        )
    return Answer(option, why)
