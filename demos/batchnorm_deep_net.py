"""Batch normalization in a deep sigmoid network: the same net with and without BN, each at
the learning rate that suits it.

A deep sigmoid MLP learns to tell two noisy concentric rings apart with full-batch SGD. Both
nets start from the same weights; each trains at five learning rates (0.03 to 3) and is judged
at the one with the lowest loss on a validation set, on test points it never saw. Going
backwards, each sigmoid layer multiplies the gradient by its slope (at most 1/4) and by its
weights, so without BN it can shrink layer after layer; with a BatchNorm layer next to every
sigmoid each layer sees inputs of zero mean and unit variance (then a learned scale and
shift). The run measures, before the first step, each net's first-layer weight gradient
against its output layer's, and reports whether the deep net learns in the step budget with
BN and without it. The `bn` knob places BN before each sigmoid (as in the original paper),
after it, or nowhere. For predictions on held-out points each BN layer normalizes with the
mean and variance of the whole training set, the statistics `BatchNorm1d`'s running averages
estimate for its eval mode.

The layers are written out by hand (an affine map, BN, a sigmoid), with one copy of the
weights per learning rate stacked in a batch dimension, so the whole sweep trains in one pass.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
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

LEARNS = ("yes, above 90%", "partly, 60% to 90%", "no, 60% or less (chance is 50%)")
VANISH = (
    # Within 10x happens only in the shallowest, narrowest nets (depth 2, width 4, some seeds).
    "about as large (within 10x)",
    "10x to 1000x smaller",
    "more than 1000x smaller",
)

SPEC = DemoSpec(
    id="batchnorm_deep_net",
    title="Batch normalization in a deep sigmoid net",
    summary="Train a deep sigmoid MLP with and without BatchNorm, each at its best learning rate.",
    topics=("batch normalization", "normalization layers", "where to put BN"),
    params=(
        choice_param(
            "bn",
            "before",
            ("before", "after", "off"),
            "where BatchNorm sits in the BN network: before or after each sigmoid, or nowhere",
        ),
        int_param("depth", 10, 2, 20, "hidden layers"),
        int_param("steps", 100, 20, 1000, "full-batch SGD steps at each learning rate"),
        int_param("width", 32, 4, 32, "units per hidden layer"),
        int_param("points", 128, 32, 128, "training points (half on each ring)"),
        device_param(),
    ),
    tiny={"steps": 80, "width": 16, "depth": 6, "points": 96},
    questions=(
        Question(
            "plain_learns",
            "At its best learning rate, does the net without BN tell the rings apart on "
            "held-out points?",
            LEARNS,
        ),
        Question(
            "vanish",
            "Before training, how does the plain net's first-layer gradient compare with its "
            "output layer's?",
            VANISH,
        ),
    ),
    timeout_s=60,
)

LEARNING_RATES = (0.03, 0.1, 0.3, 1.0, 3.0)
EPS = 1e-5  # BatchNorm1d's default
AHEAD = 0.2  # BN "helps": its test accuracy at least this much above the plain net's
FLOW = 1000.0  # BN "keeps the gradient": its first/last ratio at least this many times larger
TEST_POINTS = 1000
INNER_RADIUS, RING_NOISE = 0.5, 0.1
LOSS_CAP = 1e6  # a diverged loss is drawn and tabulated at this height
WHERE = {"before": "before each sigmoid", "after": "after each sigmoid"}
SECOND = {  # the second net, as the claims name it
    "before": "with BN before each sigmoid",
    "after": "with BN after each sigmoid",
    "off": "in the second net (bn=off, so no BN either)",
}


def _rings(torch: Any, points: int, g: Any) -> tuple[Any, Any]:
    """Two noisy concentric rings, class 1 inside, alternating labels."""
    y = torch.arange(points) % 2
    angle = 2.0 * torch.pi * torch.rand(points, generator=g)
    radius = torch.where(y == 1, INNER_RADIUS, 1.0)
    x = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    return x + RING_NOISE * torch.randn(x.shape, generator=g), y


@dataclass
class _Net:
    """One copy of the net per learning rate: every tensor has the copies in dimension 0."""

    bn: str
    weights: list[Any]  # (copies, fan_in, fan_out)
    biases: list[Any]  # (copies, 1, fan_out)
    gains: list[Any]  # BN's learned scale, (copies, 1, width)
    shifts: list[Any]  # BN's learned shift

    @property
    def parameters(self) -> list[Any]:
        extra = self.gains + self.shifts if self.bn != "off" else []
        return self.weights + self.biases + extra


def _net(torch: Any, start: list[tuple[Any, Any]], bn: str, copies: int, device: Any) -> _Net:
    """Copies of the starting weights, ready to train; BN starts as the plain standardization."""

    def stack(t: Any) -> Any:
        return t.to(device).expand(copies, *t.shape).clone().requires_grad_()

    width = start[0][0].shape[1]
    ones = torch.ones(1, width)
    return _Net(
        bn,
        [stack(w) for w, _ in start],
        [stack(b.unsqueeze(0)) for _, b in start],
        [stack(ones) for _ in start[:-1]],
        [stack(torch.zeros_like(ones)) for _ in start[:-1]],
    )


def _start(torch: Any, depth: int, width: int) -> list[tuple[Any, Any]]:
    """Weights and biases drawn as `nn.Linear` draws them: uniform in +-1/sqrt(fan_in)."""
    layers = []
    fan_in = 2
    for i in range(depth + 1):
        fan_out = 2 if i == depth else width
        bound = 1.0 / math.sqrt(fan_in)
        w = (2.0 * torch.rand(fan_in, fan_out) - 1.0) * bound
        b = (2.0 * torch.rand(fan_out) - 1.0) * bound
        layers.append((w, b))
        fan_in = fan_out
    return layers


def _forward(torch: Any, net: _Net, x: Any, stats: list[Any] | None = None) -> tuple[Any, list]:
    """Logits of every copy, and the BN statistics used.

    Without `stats` each BN layer normalizes with the batch's own mean and variance (training
    mode); with them, it uses those (eval mode, given the training set's statistics).
    """
    used: list[tuple[Any, Any]] = []

    def norm(h: Any, i: int) -> Any:
        if stats is None:
            mean, var = h.mean(dim=1, keepdim=True), h.var(dim=1, unbiased=False, keepdim=True)
        else:
            mean, var = stats[i]
        used.append((mean, var))
        return (h - mean) / torch.sqrt(var + EPS) * net.gains[i] + net.shifts[i]

    h = x.expand(net.weights[0].shape[0], *x.shape)
    for i in range(len(net.weights) - 1):
        h = torch.baddbmm(net.biases[i], h, net.weights[i])
        if net.bn == "before":
            h = norm(h, i)
        h = torch.sigmoid(h)
        if net.bn == "after":
            h = norm(h, i)
    return torch.baddbmm(net.biases[-1], h, net.weights[-1]), used


def _losses(torch: Any, logits: Any, y: Any) -> Any:
    """Each copy's mean cross-entropy."""
    copies = logits.shape[0]
    flat = torch.nn.functional.cross_entropy(
        logits.reshape(-1, 2), y.repeat(copies), reduction="none"
    )
    return flat.view(copies, -1).mean(dim=1)


@dataclass
class _Trained:
    losses: list[list[float]]  # per copy, the training loss before each step
    accuracy: list[list[float]]  # per copy, the training accuracy before each step
    flow: float  # first-layer / output-layer gradient norm, at the start
    val_loss: list[float]
    test_accuracy: list[float]
    diverged: list[bool]

    @property
    def best(self) -> int:
        return min(range(len(self.val_loss)), key=lambda i: self.val_loss[i])


def _train(
    torch: Any, net: _Net, data: Mapping[str, tuple[Any, Any]], steps: int, tick: Any
) -> _Trained:
    x, y = data["train"]
    rates = torch.tensor(LEARNING_RATES, device=x.device).view(-1, 1, 1)
    losses, accuracy = [], []
    flow = math.nan
    for step in range(steps):
        logits, _ = _forward(torch, net, x)
        loss = _losses(torch, logits, y)
        for p in net.parameters:
            p.grad = None
        loss.sum().backward()  # copies share nothing, so each gets its own gradient
        if step == 0:
            first, last = net.weights[0].grad[0].norm(), net.weights[-1].grad[0].norm()
            flow = float(first / last)
        with torch.no_grad():
            for p in net.parameters:
                p -= rates * p.grad
        losses.append(loss.detach())
        accuracy.append((logits.argmax(dim=2) == y).float().mean(dim=1))
        tick()
    with torch.no_grad():
        _, stats = _forward(torch, net, x)
        val = _losses(torch, _forward(torch, net, data["val"][0], stats)[0], data["val"][1])
        test_logits, _ = _forward(torch, net, data["test"][0], stats)
        test_acc = (test_logits.argmax(dim=2) == data["test"][1]).float().mean(dim=1)
    curves = torch.stack(losses).T
    diverged = ~torch.isfinite(curves).all(dim=1) | ~torch.isfinite(val)
    return _Trained(
        losses=[floats(c.nan_to_num(LOSS_CAP, LOSS_CAP).clamp(max=LOSS_CAP)) for c in curves],
        accuracy=[floats(c) for c in torch.stack(accuracy).T],
        flow=flow,
        val_loss=[
            LOSS_CAP if d else min(float(v), LOSS_CAP) for v, d in zip(val, diverged, strict=True)
        ],
        test_accuracy=[float(a) for a in test_acc],
        diverged=[bool(d) for d in diverged],
    )


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    g = generator(seed)
    data = {
        "train": _rings(torch, params["points"], g),
        "val": _rings(torch, params["points"], g),
        "test": _rings(torch, TEST_POINTS, g),
    }
    data = {k: (x.to(device), y.to(device)) for k, (x, y) in data.items()}
    start = _start(torch, params["depth"], params["width"])
    steps, bn = params["steps"], params["bn"]
    variants = {"plain": "off", "with BN": bn}
    tick = Ticker(progress, steps * len(variants), "training")
    runs = {
        name: _train(
            torch, _net(torch, start, kind, len(LEARNING_RATES), device), data, steps, tick
        )
        for name, kind in variants.items()
    }
    plain, normed = runs["plain"], runs["with BN"]
    pick = {name: r.best for name, r in runs.items()}
    acc = {name: r.test_accuracy[pick[name]] for name, r in runs.items()}
    lr = {name: LEARNING_RATES[pick[name]] for name in runs}

    claims = [_accuracy_claim(params, acc, lr), _flow_claim(params, plain.flow, normed.flow)]
    answers = {
        "plain_learns": Answer(
            _learns(acc["plain"]),
            f"Without BN the net's test accuracy at its best learning rate ({lr['plain']:g}) "
            f"is {fmt(acc['plain'])}.",
        ),
        "vanish": Answer(
            _vanish(plain.flow),
            f"Before training the plain net's first-layer gradient is {fmt(plain.flow)} times "
            f"its output layer's.",
        ),
    }
    series: dict[str, Any] = {}
    for name, r in runs.items():
        series[f"loss {name} (lr {lr[name]:g})"] = r.losses[pick[name]]
        series[f"train accuracy {name} (lr {lr[name]:g})"] = r.accuracy[pick[name]]
    rows = [
        (
            name,
            rate,
            "diverged" if r.diverged[i] else round(r.losses[i][-1], 4),
            "diverged" if r.diverged[i] else round(r.val_loss[i], 4),
            round(r.test_accuracy[i], 3),
            "yes" if i == pick[name] else "",
        )
        for name, r in runs.items()
        for i, rate in enumerate(LEARNING_RATES)
    ]
    metrics: dict[str, float] = {}
    for name, r in runs.items():
        key = name.replace(" ", "_")
        metrics[f"test_accuracy_{key}"] = acc[name]
        metrics[f"learning_rate_{key}"] = lr[name]
        metrics[f"final_loss_{key}"] = r.losses[pick[name]][-1]
        metrics[f"train_accuracy_{key}"] = r.accuracy[pick[name]][-1]
        metrics[f"gradient_ratio_{key}"] = r.flow
    return DemoOutput(
        series=series,
        table=Table.of(
            [
                "network",
                "learning rate",
                "final training loss",
                "validation loss",
                "test accuracy",
                "picked",
            ],
            rows,
        ),
        metrics=metrics,
        claims=claims,
        setup=(
            f"Both nets start from the same weights and run {steps} full-batch SGD steps at each "
            f"learning rate in {', '.join(f'{r:g}' for r in LEARNING_RATES)}; each is judged at "
            f"the rate with the lowest validation loss, on {TEST_POINTS} test points."
        ),
        answers=answers,
        plot=PlotSpec(
            title="training loss and accuracy at each net's picked learning rate",
            x_label="step",
            y_label="loss / accuracy",
        ),
    )


def _accuracy_claim(
    params: Mapping[str, Any], acc: Mapping[str, float], lr: Mapping[str, float]
) -> Claim:
    bn, depth, steps = params["bn"], params["depth"], params["steps"]
    normed, plain = acc["with BN"], acc["plain"]
    if bn == "off":
        otherwise = (
            f"With bn=off both nets are the same plain net, so they reach the same test accuracy "
            f"({fmt(plain)}): set bn to before or after to compare."
        )
    else:
        otherwise = (
            f"BN {WHERE[bn]} is less than {AHEAD:g} ahead here: after {steps} steps at each "
            f"net's best learning rate the test accuracy is {fmt(normed)} with it and "
            f"{fmt(plain)} without."
        )
    return Claim.experiment(
        f"Test accuracy at each net's best learning rate: {fmt(plain)} without BN at lr "
        f"{lr['plain']:g}, {fmt(normed)} {SECOND[bn]} at lr {lr['with BN']:g}; BN ahead by at "
        f"least {AHEAD:g}",
        normed >= plain + AHEAD,
        lesson=(
            f"The {depth}-layer sigmoid net {SECOND[bn]} reaches test accuracy {fmt(normed)} in "
            f"{steps} steps; without BN its best learning rate gives only {fmt(plain)}."
        ),
        otherwise=otherwise,
    )


def _flow_claim(params: Mapping[str, Any], plain: float, normed: float) -> Claim:
    bn = params["bn"]
    if bn == "off":
        otherwise = (
            f"With bn=off both nets are the same plain net: the first layer's gradient is "
            f"{fmt(plain)} times the output layer's in each."
        )
    else:
        factor = f"a factor of {fmt(normed / plain)}" if plain > 0 else "no change"
        otherwise = (
            f"Here the first layer's gradient is {fmt(normed)} times the output layer's with BN "
            f"and {fmt(plain)} times without: {factor}, short of {FLOW:g}x."
        )
    return Claim.experiment(
        f"Before training, the first layer's gradient relative to the output layer's: "
        f"{fmt(plain)} without BN, {fmt(normed)} {SECOND[bn]} (at least {FLOW:g}x larger with BN)",
        normed >= FLOW * plain,
        lesson=(
            f"Without BN the gradient reaching the first layer is {fmt(plain)} times the output "
            f"layer's; with BN it is {fmt(normed)} times: normalizing each layer's input keeps "
            f"the gradient from vanishing on its way down."
        ),
        otherwise=otherwise,
    )


def _learns(accuracy: float) -> str:
    if accuracy > 0.9:
        return LEARNS[0]
    return LEARNS[1] if accuracy > 0.6 else LEARNS[2]


def _vanish(ratio: float) -> str:
    if ratio >= 0.1:
        return VANISH[0]
    return VANISH[1] if ratio >= 1e-3 else VANISH[2]
