"""Universal approximation: what width and depth buy a network that fits a curve.

Networks are trained on samples of a curve on [-5, 5] and scored on held-out points that lie
between the training samples. Nets with one hidden layer at three widths (2, 6 and 64 units by
default, compared in increasing order) show what width buys; a stack of several hidden layers
of the middle width shows what depth buys, with its parameter count beside it; the best
straight line (linear regression, solved exactly) is the baseline. Every net is trained the
same way (full-batch Adam, cosine-decayed, the best of a few learning rates and random starts
by final training error), and the errors shown are what training reached on points it never
saw. With `activation=none` every layer is linear, so no width or depth takes a net past the
straight line. The claims and answers say which of these the run's own numbers show.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
    int_param,
)

DOMAIN = 5.0  # curves are fitted on [-DOMAIN, DOMAIN]
TARGETS: dict[str, Callable[[Any], Any]] = {
    "wiggle": lambda x: (0.8 * math.pi * x).sin() * (-((x / DOMAIN) ** 2)).exp(),
    "sine": lambda x: (0.4 * math.pi * x).sin(),
    "bump": lambda x: (-(x**2) / 2).exp(),
    "abs": lambda x: x.abs() / DOMAIN,
    "step": lambda x: (x > 0).to(x.dtype),
}
ACTIVATIONS = ("tanh", "relu", "sigmoid", "none")

Q_WIDTH = Question(
    "width",
    "One hidden layer of narrow, middle, then wide width (2, 6, 64 units by default): what "
    "does the error on held-out points do?",
    ("it falls at each step", "it stops falling at some step", "it rises again at some step"),
)
Q_DEPTH = Question(
    "depth",
    "Stacking more hidden layers of the middle width instead of one: does the held-out error "
    "fall by at least 1.5x?",
    ("yes, it falls", "no, it stays about the same", "no, it rises"),
)

SPEC = DemoSpec(
    id="universal_approx",
    title="Universal approximation: width, depth and a straight line",
    summary="Fit one curve with 1 hidden layer of 2, 6, 64 units, with a deeper stack and a line.",
    topics=(
        "neural network vs linear regression",
        "activation functions",
        "hidden layers",
        "depth",
    ),
    params=(
        choice_param("target", "wiggle", tuple(TARGETS), "the curve to fit on [-5, 5]"),
        int_param("width_small", 2, 1, 64, "units of the narrow one-layer net (widths are sorted)"),
        int_param("width_mid", 6, 1, 64, "units of the middle one-layer net"),
        int_param("width_large", 64, 1, 64, "units of the wide one-layer net"),
        int_param("depth", 3, 2, 5, "hidden layers of the deep net, each of the middle width"),
        choice_param(
            "activation", "tanh", ACTIVATIONS, "hidden activation (none: every layer is linear)"
        ),
        int_param("steps", 1500, 50, 2000, "full-batch Adam steps"),
        int_param("points", 100, 10, 200, "training samples of the curve"),
        device_param(),
    ),
    tiny={"steps": 600, "points": 60, "width_large": 32},
    questions=(Q_WIDTH, Q_DEPTH),
    timeout_s=60,
)

TEST_POINTS = 200  # held-out points on [-DOMAIN, DOMAIN], between the training samples
LEARNING_RATES = (0.01, 0.03, 0.1)  # each shape keeps its best run by final training error
STARTS = 2  # random starts per learning rate
FALL = 1.5  # "falls" = each bigger net's held-out error at least this many times lower
RISE = 1.5  # "rises" = at least this many times higher
LINEAR_GAP = 5.0  # "beats the line" = held-out error at least this many times lower


@dataclass(frozen=True)
class Fit:
    """One shape's best run (learning rate and start) by final training error."""

    train_error: float
    test_error: float
    lr: float
    parameters: int
    curve: list[float]


def _parameters(depth: int, width: int) -> int:
    """Weights and biases of a 1-in, 1-out net with `depth` hidden layers of `width` units."""
    return 2 * width + (depth - 1) * (width * width + width) + width + 1


class _Nets:
    """Nets of one shape side by side, trained at once by batched matrix products.

    Each net is one slice of the batch (one learning rate and one random start). All weights
    live in one flat vector, so the hand-written Adam below is a handful of tensor operations,
    each entry at its own net's learning rate. The backward pass is the chain rule written
    out; its agreement with autograd is tested.
    """

    def __init__(self, depth: int, width: int, lrs: list[float], activation: str, device: Any):
        import torch

        count = len(lrs)
        dims = [1] + [width] * depth + [1]
        shapes = [(count, dims[i], dims[i + 1]) for i in range(depth + 1)]
        shapes += [(count, 1, d) for d in dims[1:]]
        sizes = [math.prod(s) for s in shapes]
        self.theta = torch.empty(sum(sizes), device=device)
        self.grad = torch.zeros_like(self.theta)
        params = [v.view(s) for v, s in zip(self.theta.split(sizes), shapes, strict=True)]
        grads = [v.view(s) for v, s in zip(self.grad.split(sizes), shapes, strict=True)]
        self.weights, self.biases = params[: depth + 1], params[depth + 1 :]
        self.weight_grads, self.bias_grads = grads[: depth + 1], grads[depth + 1 :]
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            # As nn.Linear starts: uniform in +-1/sqrt(fan_in), from the seeded torch stream.
            bound = dims[i] ** -0.5
            w.copy_(bound * (2 * torch.rand(w.shape) - 1))
            b.copy_(bound * (2 * torch.rand(b.shape) - 1))
        per_net = torch.tensor(lrs, device=device)
        self.lr = torch.cat([per_net.repeat_interleave(math.prod(s[1:])) for s in shapes])
        self.activation = activation
        self._m = torch.zeros_like(self.theta)
        self._v = torch.zeros_like(self.theta)
        self._t = 0

    def _act(self, z: Any) -> tuple[Any, Any]:
        """The activation of z and its slope."""
        import torch

        if self.activation == "tanh":
            a = torch.tanh(z)
            return a, 1 - a * a
        if self.activation == "sigmoid":
            a = torch.sigmoid(z)
            return a, a * (1 - a)
        if self.activation == "relu":
            slope = (z > 0).to(z.dtype)
            return z * slope, slope
        return z, torch.ones_like(z)

    def _forward(self, x: Any) -> tuple[Any, list[Any], list[Any]]:
        import torch

        h = x.expand(len(self.weights[0]), -1, -1)
        inputs, slopes = [h], []
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            h, slope = self._act(torch.baddbmm(b, h, w))
            inputs.append(h)
            slopes.append(slope)
        return torch.baddbmm(self.biases[-1], h, self.weights[-1]), inputs, slopes

    def __call__(self, x: Any) -> Any:
        """Each net's output at the points x (n x 1), as nets x n x 1."""
        return self._forward(x)[0]

    def backward(self, x: Any, y: Any) -> None:
        """Put the gradient of each net's mean squared error into `grad`."""
        import torch

        out, inputs, slopes = self._forward(x)
        d = (2.0 / x.shape[0]) * (out - y)
        for i in range(len(self.weights) - 1, -1, -1):
            torch.bmm(inputs[i].transpose(1, 2), d, out=self.weight_grads[i])
            torch.sum(d, dim=1, keepdim=True, out=self.bias_grads[i])
            if i > 0:
                d = torch.bmm(d, self.weights[i].transpose(1, 2)) * slopes[i - 1]

    def adam_step(self, scale: float, betas: tuple[float, float] = (0.9, 0.999)) -> None:
        """One Adam step (as torch.optim.Adam takes it) at each net's rate times `scale`."""
        b1, b2 = betas
        self._t += 1
        self._m.lerp_(self.grad, 1 - b1)
        self._v.mul_(b2).addcmul_(self.grad, self.grad, value=1 - b2)
        denominator = (self._v / (1 - b2**self._t)).sqrt_().add_(1e-8)
        self.theta.addcdiv_(self._m * (self.lr * (-scale / (1 - b1**self._t))), denominator)


def _train(
    depth: int,
    width: int,
    activation: str,
    data: tuple[Any, Any, Any, Any],
    steps: int,
    tick: Callable[[], None],
) -> Fit:
    """Train one shape at every learning rate from several starts; keep the best by training
    error, and score it on the held-out points."""
    import torch

    x, y, x_test, y_test = data
    lrs = [lr for lr in LEARNING_RATES for _ in range(STARTS)]
    nets = _Nets(depth, width, lrs, activation, x.device)
    for step in range(steps):
        nets.backward(x, y)
        nets.adam_step(0.5 * (1 + math.cos(math.pi * step / steps)))
        tick()
    with torch.no_grad():
        train = _mse(nets(x), y)
        test = _mse(nets(x_test), y_test)
        best = min(range(len(lrs)), key=train.__getitem__)
        curve = _cap(nets(x_test)[best, :, 0])
    return Fit(
        train[best], test[best], lrs[best], _parameters(depth, width), floats(curve.tolist())
    )


CAP = 1e6  # a diverged net is shown at a capped error, never as NaN


def _mse(pred: Any, y: Any) -> list[float]:
    errors = ((pred - y) ** 2).mean(dim=(1, 2))
    return errors.nan_to_num(CAP, CAP, CAP).clamp(max=CAP).tolist()


def _cap(values: Any) -> Any:
    return values.nan_to_num(1e3, 1e3, -1e3).clamp(-1e3, 1e3)


def _linear_fit(x: Any, y: Any) -> tuple[float, float]:
    """Least-squares slope and intercept, exactly (float64)."""
    import torch

    design = torch.cat([x, torch.ones_like(x)], dim=1).double().cpu()
    solution = torch.linalg.lstsq(design, y.double().cpu()).solution
    return solution[0, 0].item(), solution[1, 0].item()


def _trend(errors: list[float]) -> str:
    """How a sequence of held-out errors moves: "falls", "rises" (somewhere) or "flat"."""
    if all(b * FALL <= a for a, b in zip(errors, errors[1:], strict=False)):
        return "falls"
    if any(b >= RISE * min(errors[: i + 1]) for i, b in enumerate(errors[1:])):
        return "rises"
    return "flat"


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _samples(torch: Any, count: int, g: Any, device: Any) -> Any:
    """`count` points spread over the domain: an even grid, each jittered within its cell."""
    cell = 2 * DOMAIN / count
    jitter = torch.rand(count, 1, generator=g)
    return (-DOMAIN + cell * (torch.arange(count, dtype=torch.float)[:, None] + jitter)).to(device)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    f = TARGETS[params["target"]]
    g = generator(seed)
    x = _samples(torch, params["points"], g, device)
    x_test = _samples(torch, TEST_POINTS, g, device)
    data = (x, f(x), x_test, f(x_test))
    widths = sorted([params["width_small"], params["width_mid"], params["width_large"]])
    depth, activation, steps = params["depth"], params["activation"], params["steps"]
    tick = Ticker(progress, 4 * steps, "training the nets", times=25)
    wide = [_train(1, width, activation, data, steps, tick) for width in widths]
    deep = _train(depth, widths[1], activation, data, steps, tick)

    slope, intercept = _linear_fit(x, data[1])
    line_test = ((slope * x_test + intercept - data[3]) ** 2).mean().item()
    line_train = ((slope * x + intercept - data[1]) ** 2).mean().item()
    variance = data[3].var(unbiased=False).item()

    test = [fit.test_error for fit in wide]
    width_trend = _trend(test)
    depth_trend = _trend([wide[1].test_error, deep.test_error])
    best = min([*wide, deep], key=lambda fit: fit.test_error)
    claims = [
        _width_claim(widths, wide, width_trend),
        _depth_claim(widths[1], depth, wide[1], deep, depth_trend),
        _line_claim(line_test, best, variance, activation),
    ]
    answers = {
        Q_WIDTH.id: Answer(
            {"falls": Q_WIDTH.options[0], "rises": Q_WIDTH.options[2]}.get(
                width_trend, Q_WIDTH.options[1]
            ),
            "Held-out error: "
            + ", ".join(f"{fmt(e)} at {w} units" for e, w in zip(test, widths, strict=True))
            + ".",
        ),
        Q_DEPTH.id: Answer(
            {"falls": Q_DEPTH.options[0], "rises": Q_DEPTH.options[2]}.get(
                depth_trend, Q_DEPTH.options[1]
            ),
            f"{depth} layers of {widths[1]} units reach {fmt(deep.test_error)} on held-out "
            f"points, one layer reaches {fmt(wide[1].test_error)}.",
        ),
    }

    rows: list[tuple[Any, ...]] = [
        ("linear regression", 2, "exact", *floats([line_test, line_train], 4))
    ]
    labels = [f"1 x {w} units" for w in widths] + [f"{depth} x {widths[1]} units"]
    labels = [
        label + " (again)" if label in labels[:i] else label for i, label in enumerate(labels)
    ]
    rows += [
        (label, fit.parameters, fit.lr, *floats([fit.test_error, fit.train_error], 4))
        for label, fit in zip(labels, [*wide, deep], strict=True)
    ]
    metrics = {
        "linear_error": line_test,
        "linear_train_error": line_train,
        "target_variance": variance,
        "deep_error": deep.test_error,
        "deep_train_error": deep.train_error,
    }
    metrics |= {f"error_width_{i}": fit.test_error for i, fit in enumerate(wide)}
    metrics |= {f"train_error_width_{i}": fit.train_error for i, fit in enumerate(wide)}
    xs = floats(x_test.squeeze(1).tolist())
    series: dict[str, Any] = {"target": {"x": xs, "y": floats(data[3].squeeze(1).tolist())}}
    series["linear regression"] = {
        "x": xs,
        "y": floats((slope * x_test + intercept).squeeze(1).tolist()),
    }
    for label, fit in zip(labels, [*wide, deep], strict=True):
        series[label] = {"x": xs, "y": fit.curve}
    return DemoOutput(
        series=series,
        table=Table.of(
            ["model", "parameters", "learning rate", "held-out error (MSE)", "train error (MSE)"],
            rows,
        ),
        metrics=metrics,
        claims=claims,
        setup=(
            f"Every net is trained by {steps} steps of full-batch Adam (cosine-decayed) from "
            f"{STARTS} random starts at each learning rate "
            f"{', '.join(f'{lr:g}' for lr in LEARNING_RATES)}, keeping the run with the lowest "
            f"final training error on the {params['points']} samples; errors are measured on "
            f"{TEST_POINTS} held-out points between them."
        ),
        answers=answers,
        plot=PlotSpec(
            title=f"fits of the {params['target']} curve on held-out points",
            x_label="x",
            y_label="y",
        ),
    )


def _width_claim(widths: list[int], fits: list[Fit], trend: str) -> Claim:
    test = [fit.test_error for fit in fits]
    course = " -> ".join(f"{fmt(e)} ({w} units)" for e, w in zip(test, widths, strict=True))
    instead = f"Width did not lower the held-out error {FALL:g}x at each step here: {course}."
    if trend == "rises":
        # The first net whose held-out error rose above the best narrower net's.
        i = next(i for i in range(1, len(test)) if test[i] >= RISE * min(test[:i]))
        j = min(range(i), key=test.__getitem__)
        fit_better = fits[i].train_error < fits[j].train_error
        instead = (
            f"More width did not keep helping here: held-out error went {course}. The "
            f"{widths[i]}-unit net fits the training samples "
            f"{'better' if fit_better else 'no better'} than the {widths[j]}-unit net (training "
            f"error {fmt(fits[i].train_error)} against {fmt(fits[j].train_error)}) and the "
            "held-out points worse."
        )
    return Claim.experiment(
        f"Held-out error falls with width, each net at least {FALL:g}x below the last: {course}",
        trend == "falls",
        lesson=(
            f"Wider nets fit the curve better: held-out error falls from {fmt(test[0])} with "
            f"{widths[0]} units to {fmt(test[-1])} with {widths[-1]}."
        ),
        otherwise=instead,
    )


def _depth_claim(width: int, depth: int, shallow: Fit, deep: Fit, trend: str) -> Claim:
    numbers = (
        f"{depth} layers of {width} units ({deep.parameters} parameters) reach "
        f"{fmt(deep.test_error)}, one layer ({shallow.parameters} parameters) "
        f"{fmt(shallow.test_error)}"
    )
    return Claim.experiment(
        f"Depth lowers the held-out error at least {FALL:g}x: {numbers}",
        trend == "falls",
        lesson=(
            f"Stacking layers of the same {width} units also buys fit ({fmt(deep.test_error)} "
            f"against {fmt(shallow.test_error)}), along with more parameters."
        ),
        otherwise=f"Depth did not lower the held-out error {FALL:g}x here: {numbers}.",
    )


def _line_claim(line: float, best: Fit, variance: float, activation: str) -> Claim:
    numbers = (
        f"the straight line's held-out error is {fmt(line)} (the curve's variance is "
        f"{fmt(variance)}), the best net's {fmt(best.test_error)}"
    )
    instead = f"No net beat the straight line {LINEAR_GAP:g}x here: {numbers}."
    if activation == "none":
        instead = (
            "With no activation function every layer is linear, so every net computes a "
            f"straight line too: the best net's held-out error is {fmt(best.test_error)}, the "
            f"least-squares line's {fmt(line)}."
        )
    return Claim.experiment(
        f"The best net beats the straight line at least {LINEAR_GAP:g}x: {numbers}",
        best.test_error * LINEAR_GAP <= line,
        lesson=(
            f"A straight line cannot follow the curve ({fmt(line)}); a trained net with a "
            f"nonlinear activation can ({fmt(best.test_error)})."
        ),
        otherwise=instead,
    )
