"""Dropout on and off: a wide network memorizes ~30 noisy points unless dropout stops it.

The same two-hidden-layer tanh MLP is trained on noisy samples of a smooth curve with dropout
rate 0 (plain), 0.2 and p. Without dropout it threads every noisy point: training error near
zero, test error on fresh points well above the noise level. Dropping half the hidden units at
random on every step keeps units from co-adapting to single points, so the fit stays smooth
and the test error falls. At test time dropout is switched off (eval mode is the identity);
inverted dropout already scaled the kept units by 1/(1-p) during training, so nothing needs
rescaling.
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
    id="dropout_on_off",
    title="Dropout on and off",
    summary="Fit ~30 noisy points with a wide MLP, with and without dropout; compare test error.",
    topics=("dropout", "co-adaptation", "overfitting", "test-time scaling"),
    params=(
        float_param("p", 0.5, 0.0, 0.9, "dropout rate of the regularized network"),
        int_param("width", 64, 4, 256, "hidden units in each of the two hidden layers"),
        int_param("steps", 1000, 50, 4000, "full-batch Adam steps for each network"),
        float_param("lr", 0.005, 1e-4, 0.1, "Adam learning rate", log_scale=True),
        int_param("points", 30, 8, 200, "noisy training points on the curve"),
        float_param("noise", 0.5, 0.0, 2.0, "standard deviation of the label noise"),
        device_param(),
    ),
    tiny={"p": 0.2, "steps": 300, "lr": 0.02},
    timeout_s=120,
)

_MILD_P = 0.2
_TEST_POINTS = 2000
_LOW, _HIGH = -2.0, 2.0
_FAR_BELOW = 3.0  # "far below" = at least this factor
_SCALE_TOLERANCE = 0.02


def _curve(x: Any) -> Any:
    import torch

    return torch.sin(2.0 * x)


def _data(torch: Any, points: int, noise: float) -> tuple[Any, Any, Any, Any]:
    """Noisy training points on a grid and fresh noisy test points, from the seeded stream."""
    x = torch.linspace(_LOW, _HIGH, points).unsqueeze(1)
    y = _curve(x) + noise * torch.randn(x.shape)
    x_test = _LOW + (_HIGH - _LOW) * torch.rand(_TEST_POINTS, 1)
    y_test = _curve(x_test) + noise * torch.randn(x_test.shape)
    return x, y, x_test, y_test


def _init_stack(rates: int, width: int, device: Any) -> list[Any]:
    """Weights and biases of `rates` identical MLPs stacked on a leading dimension."""
    import torch

    params = []
    for fan_in, fan_out in ((1, width), (width, width), (width, 1)):
        bound = fan_in**-0.5
        for shape in ((1, fan_in, fan_out), (1, 1, fan_out)):
            t = (2.0 * torch.rand(shape) - 1.0) * bound
            params.append(t.repeat(rates, 1, 1).to(device).requires_grad_())
    return params


def _forward(params: list[Any], x: Any, keep: Any, train: bool, dropouts: list[Any]) -> Any:
    """All stacked networks at once; in training, unit i of net m survives with keep[m]."""
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
    """Mean activation through nn.Dropout in eval mode vs averaged over training-mode draws."""
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
    rates = sorted({0.0, _MILD_P, p})
    data = _data(torch, params["points"], params["noise"])
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
        main = rates.index(p)
        hidden = torch.tanh(x_test * weights[0][main] + weights[1][main])
        eval_diff, scale_ratio = _scaling_check(torch, hidden, p)

    names = [f"p={r:g}" for r in rates]
    series: dict[str, Any] = {
        "training points": {"x": floats(x.flatten()), "y": floats(y.flatten())},
        "true curve": {"x": floats(grid.flatten()), "y": floats(_curve(grid).flatten())},
    }
    for name, fit in zip(names, fits, strict=True):
        series[f"fit {name}"] = {"x": floats(grid.flatten()), "y": floats(fit.flatten())}

    gap = [te - tr for tr, te in zip(train_err, test_err, strict=True)]
    plain, reg = 0, main
    metrics: dict[str, float] = {}
    for r, tr, te, gp in zip(rates, train_err, test_err, gap, strict=True):
        metrics |= {f"train_mse_p{r:g}": tr, f"test_mse_p{r:g}": te, f"gap_p{r:g}": gp}
    metrics |= {
        "noise_variance": params["noise"] ** 2,
        "eval_max_abs_change": eval_diff,
        "train_mode_mean_ratio": scale_ratio,
    }
    rows = [
        (name, round(tr, 4), round(te, 4), round(gp, 4))
        for name, tr, te, gp in zip(names, train_err, test_err, gap, strict=True)
    ]
    claims = [
        Claim(
            f"Without dropout the train error ({fmt(train_err[plain])}) is far below the test "
            f"error ({fmt(test_err[plain])}): at least {_FAR_BELOW:g}x lower",
            train_err[plain] * _FAR_BELOW <= test_err[plain],
        ),
        Claim(
            f"With dropout p={p:g} the test error is lower ({fmt(test_err[reg])} vs "
            f"{fmt(test_err[plain])}) and the train-test gap smaller ({fmt(gap[reg])} vs "
            f"{fmt(gap[plain])})",
            test_err[reg] < test_err[plain] and gap[reg] < gap[plain],
        ),
        Claim(
            f"In eval mode dropout is the identity: largest change to an activation "
            f"{fmt(eval_diff)}",
            eval_diff == 0.0,
        ),
        Claim(
            f"In training mode dropout rescales kept units by 1/(1-p), so the mean activation "
            f"is kept: {fmt(scale_ratio)} of its eval-mode value (within "
            f"{_SCALE_TOLERANCE:.0%})",
            abs(scale_ratio - 1.0) <= _SCALE_TOLERANCE,
        ),
    ]
    return DemoOutput(
        series=series,
        table=Table.of(["dropout", "train MSE", "test MSE", "gap"], rows),
        metrics=metrics,
        claims=claims,
        fixed_takeaway=(
            f"Without dropout the network memorizes the noise (train {fmt(train_err[plain])}, "
            f"test {fmt(test_err[plain])}); dropping units with p={p:g} keeps the fit smooth "
            f"(test {fmt(test_err[reg])}), and at test time dropout simply switches off."
        ),
        plot=PlotSpec(title="fitted curves", x_label="x", y_label="y"),
    )
