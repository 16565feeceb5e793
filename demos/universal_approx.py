"""Universal approximation: one hidden layer fits a wiggly curve better the wider it is.

Networks with a single hidden layer of 2, 8 and 64 units are trained on samples of a curve
with ten turns on [-5, 5], and compared with the best straight line (linear regression, solved
exactly). Each hidden unit adds one smooth step to the output: two units cannot follow the
turns at all, eight follow some of them, sixty-four trace the curve closely; the straight line
cannot follow it at all. After training, each net's output layer is solved exactly by least
squares, so the comparison is of what each width can represent rather than of how far the
optimizer got. Error is measured on a dense grid between the training points.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from demos._common import floats, fmt, generator, one_thread, report_every, setup
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

DOMAIN = 5.0  # curves are fitted on [-DOMAIN, DOMAIN]
TARGETS: dict[str, Callable[[Any], Any]] = {
    "wiggle": lambda x: (math.pi * x).sin() * (-((x / DOMAIN) ** 2)).exp(),
    "sine": lambda x: (0.4 * math.pi * x).sin(),
    "bump": lambda x: (-(x**2) / 2).exp(),
    "abs": lambda x: x.abs() / DOMAIN,
    "step": lambda x: (x > 0).to(x.dtype),
}

SPEC = DemoSpec(
    id="universal_approx",
    title="Universal approximation: width vs a straight line",
    summary="Fit one curve with one hidden layer of 2, 8 and 64 units and with linear regression.",
    topics=(
        "neural network vs linear regression",
        "activation functions",
        "hidden layers",
        "depth",
    ),
    params=(
        choice_param("target", "wiggle", tuple(TARGETS), "the curve to fit on [-5, 5]"),
        int_param("width_small", 2, 1, 128, "hidden units of the narrow net"),
        int_param("width_mid", 8, 1, 128, "hidden units of the middle net"),
        int_param("width_large", 64, 1, 128, "hidden units of the wide net"),
        choice_param("activation", "tanh", ("tanh", "relu", "sigmoid"), "hidden activation"),
        int_param("steps", 2000, 50, 5000, "full-batch Adam steps"),
        float_param(
            "lr", 0.03, 1e-4, 0.1, "Adam learning rate (cosine-decayed to 0)", log_scale=True
        ),
        int_param("points", 200, 10, 500, "training samples of the curve"),
        device_param(),
    ),
    tiny={"steps": 1200, "lr": 0.03, "points": 60},
    timeout_s=60,
)

GRID = 200  # test points on [-DOMAIN, DOMAIN]
FALL = 1.5  # each wider net's error must be at least this many times lower
LINEAR_SHARE = 0.5  # the line must leave at least this share of the target's variance
LINEAR_GAP = 5.0  # and be at least this many times worse than the widest net


class _Nets:
    """Several one-hidden-layer nets side by side in one flat parameter vector.

    Each net's output reads only its own hidden units, so the summed loss gives each net
    exactly its own gradient, and Adam, which works entry by entry, trains each one as if
    alone. The backward pass is the chain rule written out (a handful of tensor operations
    instead of an autograd graph per step). Each net starts as nn.Linear would start it.
    """

    def __init__(self, widths: list[int], activation: str, device: Any) -> None:
        import torch

        self.total, n = sum(widths), len(widths)
        fan_in = torch.cat([torch.full((w,), float(w)) for w in widths])
        w1 = 2 * torch.rand(self.total) - 1
        b1 = 2 * torch.rand(self.total) - 1
        w2 = (2 * torch.rand(self.total) - 1) / fan_in.sqrt()
        b2 = (2 * torch.rand(n) - 1) / torch.tensor(widths, dtype=torch.float).sqrt()
        self.theta = torch.cat([w1, b1, w2, b2]).to(device)
        self.theta.grad = torch.zeros_like(self.theta)
        group = torch.repeat_interleave(torch.arange(n), torch.tensor(widths))
        self.pick = torch.nn.functional.one_hot(group, n).float().to(device)
        self.activation = activation

    def _parts(self) -> tuple[Any, Any, Any, Any]:
        h = self.total
        t = self.theta
        return t[:h], t[h : 2 * h], t[2 * h : 3 * h], t[3 * h :]

    def _hidden(self, x: Any) -> tuple[Any, Any]:
        """Hidden activations and their derivative with respect to the pre-activation."""
        import torch

        w1, b1, _, _ = self._parts()
        z = x * w1 + b1
        if self.activation == "tanh":
            a = torch.tanh(z)
            return a, 1 - a * a
        if self.activation == "sigmoid":
            a = torch.sigmoid(z)
            return a, a * (1 - a)
        return torch.relu(z), (z > 0).to(z.dtype)

    def __call__(self, x: Any) -> Any:
        _, _, w2, b2 = self._parts()
        return (self._hidden(x)[0] * w2) @ self.pick + b2

    def solve_readout(self, x: Any, y: Any, widths: list[int]) -> None:
        """Set each net's output weights to the exact least-squares fit on its hidden units.

        Training leaves each readout a little short of its best; solving it exactly makes
        the comparison one of what each width can represent, not of how far Adam got.
        """
        import torch

        h = self.total
        hidden = self._hidden(x)[0].double().cpu()
        start = 0
        for i, width in enumerate(widths):
            features = torch.cat(
                [hidden[:, start : start + width], torch.ones(x.shape[0], 1, dtype=torch.double)],
                dim=1,
            )
            solution = torch.linalg.lstsq(features, y.double().cpu(), driver="gelsd").solution
            self.theta[2 * h + start : 2 * h + start + width] = solution[:width, 0].float()
            self.theta[3 * h + i] = solution[width, 0].float()
            start += width

    def backward(self, x: Any, y: Any) -> None:
        """Put the gradient of the summed mean squared errors into theta.grad."""
        h = self.total
        _, _, w2, b2 = self._parts()
        a, slope = self._hidden(x)
        d_out = (2.0 / x.shape[0]) * ((a * w2) @ self.pick + b2 - y)
        d_a = d_out @ self.pick.T
        d_z = d_a * w2 * slope
        g = self.theta.grad
        g[:h] = (x * d_z).sum(0)
        g[h : 2 * h] = d_z.sum(0)
        g[2 * h : 3 * h] = (a * d_a).sum(0)
        g[3 * h :] = d_out.sum(0)


def _linear_fit(x: Any, y: Any) -> tuple[float, float]:
    """Least-squares slope and intercept, exactly (float64)."""
    import torch

    design = torch.cat([x, torch.ones_like(x)], dim=1).double()
    solution = torch.linalg.lstsq(design.cpu(), y.double().cpu()).solution
    return solution[0, 0].item(), solution[1, 0].item()


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed)
    f = TARGETS[params["target"]]
    # Samples spread over the whole domain: an even grid, each point jittered within its cell.
    n = params["points"]
    cell = 2 * DOMAIN / n
    jitter = torch.rand(n, 1, generator=generator(seed))
    x = (-DOMAIN + cell * (torch.arange(n, dtype=torch.float)[:, None] + jitter)).to(device)
    y = f(x)
    grid = torch.linspace(-DOMAIN, DOMAIN, GRID, device=device)[:, None]
    truth = f(grid)
    widths = [params["width_small"], params["width_mid"], params["width_large"]]
    nets = _Nets(widths, params["activation"], device)
    opt = torch.optim.Adam([nets.theta], lr=params["lr"])
    steps = params["steps"]
    # Cosine decay lets each net settle into its best fit instead of ending on a noisy step.
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    every = report_every(steps, 25)
    for step in range(steps):
        nets.backward(x, y)
        opt.step()
        schedule.step()
        if (step + 1) % every == 0:
            progress((step + 1) / steps, "training the three nets", None)

    with torch.no_grad():
        nets.solve_readout(x, y, widths)
        fits = nets(grid)
        # A diverged net is shown at a capped error, never as NaN.
        fits = torch.nan_to_num(fits, nan=1e3, posinf=1e3, neginf=-1e3).clamp(-1e3, 1e3)
        errors = ((fits - truth) ** 2).mean(0).tolist()
        train_errors = ((nets(x) - y) ** 2).mean(0).nan_to_num(1e6).clamp(max=1e6).tolist()
    slope, intercept = _linear_fit(x, y)
    line = slope * grid + intercept
    linear_error = ((line - truth) ** 2).mean().item()
    linear_train = ((slope * x + intercept - y) ** 2).mean().item()
    variance = truth.var(unbiased=False).item()

    labels = [f"width {w}" for w in widths]
    falls = all(errors[i + 1] * FALL <= errors[i] for i in range(len(widths) - 1))
    line_fails = linear_error >= LINEAR_SHARE * variance and linear_error >= LINEAR_GAP * errors[-1]
    claims = [
        Claim(
            "Error falls with width: "
            + " -> ".join(f"{fmt(e)} ({w} units)" for e, w in zip(errors, widths, strict=True))
            + f", each at least {FALL:g}x below the last",
            falls,
        ),
        Claim(
            f"The linear model cannot fit: error {fmt(linear_error)}, at least "
            f"{LINEAR_SHARE:g} of the curve's variance {fmt(variance)} and {LINEAR_GAP:g}x the "
            f"{widths[-1]}-unit net's {fmt(errors[-1])}",
            line_fails,
        ),
    ]
    rows: list[tuple[Any, ...]] = [
        ("linear regression", 2, *floats([linear_error, linear_train], 4))
    ]
    rows += [
        (label, 3 * w + 1, *floats([errors[i], train_errors[i]], 4))
        for i, (label, w) in enumerate(zip(labels, widths, strict=True))
    ]
    metrics = {"linear_error": linear_error, "target_variance": variance}
    metrics |= {f"error_width_{i}": e for i, e in enumerate(errors)}
    metrics |= {f"train_error_width_{i}": e for i, e in enumerate(train_errors)}
    xs = floats(grid.squeeze(1).tolist())
    series: dict[str, Any] = {"target": {"x": xs, "y": floats(truth.squeeze(1).tolist())}}
    series["linear regression"] = {"x": xs, "y": floats(line.squeeze(1).tolist())}
    for i, label in enumerate(labels):
        series[label] = {"x": xs, "y": floats(fits[:, i].tolist())}
    return DemoOutput(
        series=series,
        table=Table.of(["model", "parameters", "test error (MSE)", "train error (MSE)"], rows),
        metrics=metrics,
        claims=claims,
        fixed_takeaway=(
            f"A straight line leaves error {fmt(linear_error)} on this curve; one hidden layer "
            f"of {widths[-1]} {params['activation']} units brings it to {fmt(errors[-1])}: "
            f"width buys the bends a linear model lacks."
        ),
        plot=PlotSpec(title=f"fits of the {params['target']} curve", x_label="x", y_label="y"),
    )
