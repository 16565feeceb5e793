"""Constant vs Xavier initialization: identical hidden units never stop being identical.

A small tanh MLP (two hidden layers) learns to tell two noisy concentric rings apart, once
started with every weight and bias set to one constant and once with Xavier (Glorot) random
weights, trained the same way. From a constant start all hidden units of a layer compute the
same function, receive the same gradient and get the same update, so they stay identical at
every step (checked on the run's weights): the net acts like one unit per layer, its output
is a monotone function of one projection of the input, and it can do no better than one
straight boundary (checked against the best straight line). Whether the Xavier-initialized
net separates the rings on held-out points within the run is the experiment.
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

Q_BETTER = Question(
    "better",
    "Trained the same way, which start reaches the higher accuracy on held-out points?",
    ("all weights one constant", "Xavier random weights", "about the same (within 5 points)"),
)

SPEC = DemoSpec(
    id="xavier_vs_constant_init",
    title="Constant vs Xavier initialization",
    summary="Train one tanh MLP on two rings from all-constant weights and from Xavier weights.",
    topics=("initialization", "symmetry", "Xavier"),
    params=(
        float_param("constant", 0.5, -2.0, 2.0, "value every weight and bias starts at"),
        int_param("steps", 300, 10, 2000, "full-batch Adam steps for each network"),
        float_param("lr", 0.05, 1e-4, 0.5, "Adam learning rate", log_scale=True),
        int_param("width", 16, 2, 64, "hidden units in each of the two hidden layers"),
        int_param("points", 400, 40, 2000, "training points (half on each ring)"),
        device_param(),
    ),
    tiny={"steps": 150, "width": 8, "points": 200},
    questions=(Q_BETTER,),
    timeout_s=60,
)

_INNER_RADIUS = 0.7
_RING_NOISE = 0.05
_TEST_POINTS = 1000
_LEARNS = 0.9  # "separates the rings" = held-out accuracy above this
_GAP = 0.2  # and at least this far above the constant-init net's
_SAME = 0.05  # "about the same" held-out accuracy
_ANGLES = 360
NAMES = ("constant", "xavier")


def _rings(torch: Any, points: int, g: Any) -> tuple[Any, Any]:
    """Two noisy concentric rings, class 1 inside, drawn from the data stream `g`."""
    y = torch.arange(points) % 2
    angle = 2.0 * torch.pi * torch.rand(points, generator=g)
    radius = torch.where(y == 1, _INNER_RADIUS, 1.0)
    x = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    return x + _RING_NOISE * torch.randn(x.shape, generator=g), y


class _Pair:
    """The constant-init net (index 0) and the Xavier net (index 1), side by side.

    Each weight tensor holds both nets, one per leading index; Adam works entry by entry, so
    one Adam over the pair trains each net exactly as its own Adam would.
    """

    def __init__(self, torch: Any, width: int, constant: float, device: Any) -> None:
        dims = [2, width, width, 2]
        self.weights, self.biases = [], []
        for fan_in, fan_out in zip(dims, dims[1:], strict=False):
            w = torch.empty(2, fan_in, fan_out)
            w[0] = constant
            torch.nn.init.xavier_uniform_(w[1])
            b = torch.zeros(2, 1, fan_out)
            b[0] = constant
            self.weights.append(w.to(device).requires_grad_())
            self.biases.append(b.to(device).requires_grad_())
        self.torch = torch

    def parameters(self) -> list[Any]:
        return [*self.weights, *self.biases]

    def __call__(self, x: Any) -> Any:
        h = x.expand(2, -1, -1)
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = self.torch.baddbmm(b, h, w)
            if i < len(self.weights) - 1:
                h = self.torch.tanh(h)
        return h

    def row_spread(self) -> Any:
        """Per net: the largest difference between any hidden unit's incoming weights and
        the first unit's, over both hidden layers."""
        spreads = [(w - w[:, :, :1]).abs().amax(dim=(1, 2)) for w in self.weights[:2]]
        return self.torch.maximum(*spreads).detach()


def _best_line_accuracy(torch: Any, x: Any, y: Any, also: Any) -> float:
    """The best accuracy a straight boundary reaches on (x, y): every threshold along each of
    _ANGLES directions and along +-`also` (the constant-init net's own direction)."""
    angle = torch.arange(_ANGLES, dtype=x.dtype, device=x.device) * (2.0 * torch.pi / _ANGLES)
    directions = torch.cat(
        [torch.stack([torch.cos(angle), torch.sin(angle)], dim=1), also[None], -also[None]]
    )
    order = (x @ directions.T).argsort(dim=0)
    labels = y[order].to(x.dtype)
    # Class 1 on one side of a threshold and class 0 on the other, for every threshold.
    ones_below = torch.cat([torch.zeros_like(labels[:1]), labels.cumsum(0)])
    count = torch.arange(len(y) + 1, dtype=x.dtype, device=x.device).unsqueeze(1)
    correct = ones_below + (len(y) - count) - (labels.sum(0) - ones_below)
    return (correct.max().item() / len(y)) if len(y) else 0.0


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    g = generator(seed)
    x, y = (t.to(device) for t in _rings(torch, params["points"], g))
    x_test, y_test = (t.to(device) for t in _rings(torch, _TEST_POINTS, g))
    nets = _Pair(torch, params["width"], params["constant"], device)
    opt = torch.optim.Adam(nets.parameters(), lr=params["lr"], foreach=True)
    steps = params["steps"]
    every = report_every(steps)
    accuracy, spread = [], []
    for step in range(steps):
        opt.zero_grad()
        logits = nets(x)
        losses = torch.stack([torch.nn.functional.cross_entropy(o, y) for o in logits])
        losses.sum().backward()
        opt.step()
        accuracy.append((logits.argmax(-1) == y).float().mean(dim=1).detach())
        spread.append(nets.row_spread())
        if (step + 1) % every == 0:
            progress((step + 1) / steps, "training both nets", None)

    with torch.no_grad():
        train_acc = (nets(x).argmax(-1) == y).float().mean(dim=1).tolist()
        test_acc = (nets(x_test).argmax(-1) == y_test).float().mean(dim=1).tolist()
        first_rows = nets.weights[0][:, :, :3].transpose(1, 2).tolist()
    curves = torch.stack(accuracy).T.tolist()
    spreads = torch.stack(spread).T.tolist()
    # Every first-layer unit of the constant net has the same incoming weights: one direction.
    best_line = _best_line_accuracy(torch, x, y, nets.weights[0][0, :, 0].detach())
    const_spread = max(spreads[0])
    constant, xavier = test_acc
    claims = [
        Claim.experiment(
            f"Xavier init separates the rings: held-out accuracy {fmt(xavier)} (above "
            f"{_LEARNS:g} and at least {_GAP:g} above constant init's {fmt(constant)})",
            xavier > _LEARNS and xavier >= constant + _GAP,
            lesson=(
                f"Random (Xavier) weights break the symmetry: the units learn different "
                f"features and the net separates the rings (held-out accuracy {fmt(xavier)}, "
                f"against {fmt(constant)} from a constant start)."
            ),
            otherwise=(
                f"Xavier init did not separate the rings in {steps} steps at learning rate "
                f"{params['lr']:g}: held-out accuracy {fmt(xavier)}, against {fmt(constant)} "
                "from a constant start."
            ),
        ),
        Claim.check(
            f"From constant init every hidden unit keeps identical weights at all {steps} steps "
            f"(largest difference between two units' weights {fmt(const_spread)}, exactly 0)",
            const_spread == 0.0,
        ),
        Claim.check(
            f"A constant-init net does no better than one straight boundary: training accuracy "
            f"{fmt(train_acc[0])}, the best straight line's {fmt(best_line)}",
            train_acc[0] <= best_line,
        ),
    ]
    if abs(xavier - constant) <= _SAME:
        better, why = Q_BETTER.options[2], "about the same"
    elif constant > xavier:
        better, why = Q_BETTER.options[0], "the constant start is higher"
    else:
        better, why = Q_BETTER.options[1], "Xavier is higher"
    answers = {
        Q_BETTER.id: Answer(
            better,
            f"Held-out accuracy {fmt(xavier)} from Xavier weights and {fmt(constant)} from a "
            f"constant start: {why}.",
        )
    }
    table_rows = [
        (name, f"unit {i + 1}", *(round(w, 4) for w in row))
        for name, rows in zip(NAMES, first_rows, strict=True)
        for i, row in enumerate(rows)
    ]
    metrics = {f"test_accuracy_{n}": a for n, a in zip(NAMES, test_acc, strict=True)}
    metrics |= {f"train_accuracy_{n}": a for n, a in zip(NAMES, train_acc, strict=True)}
    metrics |= {f"max_row_difference_{n}": max(s) for n, s in zip(NAMES, spreads, strict=True)}
    metrics |= {"best_straight_line_accuracy": best_line}
    series: dict[str, Any] = {
        f"training accuracy {n}": floats(c) for n, c in zip(NAMES, curves, strict=True)
    }
    series |= {f"row difference {n}": floats(s) for n, s in zip(NAMES, spreads, strict=True)}
    return DemoOutput(
        series=series,
        table=Table.of(["init", "hidden unit", "weight from x1", "weight from x2"], table_rows),
        metrics=metrics,
        claims=claims,
        setup=(
            f"Both nets (two tanh layers of {params['width']} units) train by {steps} full-batch "
            f"Adam steps at learning rate {params['lr']:g} on the same {params['points']} "
            f"points; accuracy is measured on {_TEST_POINTS} held-out points. The constant net "
            f"starts with every weight and bias at {params['constant']:g}."
        ),
        answers=answers,
        plot=PlotSpec(title="accuracy and hidden-row difference", x_label="step", y_label="value"),
    )
