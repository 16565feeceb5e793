"""Residual (skip) connections vs a plain stack of the same layers, as the nets get deeper.

Two ReLU MLPs learn to tell two noisy concentric rings apart. Between an input and an output
layer both have `blocks` blocks of two linear layers: the plain net feeds each block's output
to the next block, the residual net adds it to the block's input (h <- h + F(h), He et al.
2016, in the pre-activation form F(h) = W2 relu(W1 relu(h))). Both start from the very same
weights (`init`: PyTorch's default nn.Linear initialization, or He's); only the identity
shortcuts differ. Each net trains with full-batch SGD with momentum at each of five learning
rates and is scored at its best one, so neither is judged at a learning rate that suits only
the other.

The run repeats this at 2, 4, 8, ... hidden layers and at 2 x `blocks` (the deepest) and
measures, at every depth, the training loss reached after `steps` steps, the norm of the
gradient that reaches the first layer at initialization, and how much of the gradient at the
last hidden layer reaches the first. It shows how the gap between the two nets changes
with depth (`view=depth`), the loss curves at the deepest setting (`view=training`), and the
gradient norm of every layer at initialization (`view=gradient`). It measures trainability,
so every loss is a training loss.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
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

LRS = (0.01, 0.03, 0.1, 0.3, 1.0)  # each net is scored at the best of these
MOMENTUM = 0.9
POINTS = 128
RING_NOISE = 0.1
GAP = 0.1  # training losses this far apart are "clearly" different
RATIO = 100.0  # first-layer gradients this many times apart are "far" apart
LOSS_CAP = 1e3  # a copy whose loss passes this (or stops being finite) has diverged
LAST = 5  # the final loss is the mean of the last LAST steps
NETS = ("plain", "residual")

RACE_OPTIONS = (
    "the residual net, by 0.1 or more",
    "neither: they end within 0.1 of each other",
    "the plain net, by 0.1 or more",
)
GRADIENT_OPTIONS = (
    "more than 100 times smaller (it vanishes)",
    "within a factor of 100, or larger",
)

SPEC = DemoSpec(
    id="residual_vs_plain",
    title="Residual connections vs a plain deep net",
    summary=(
        "Train plain and residual ReLU MLPs of growing depth from the same weights, each at its "
        "best learning rate, and compare their training loss and first-layer gradient."
    ),
    topics=(
        "residual connections",
        "skip connections",
        "ResNet",
        "vanishing gradients",
        "deep networks",
    ),
    params=(
        int_param(
            "blocks",
            4,
            2,
            16,
            "two-layer blocks at the deepest setting (hidden layers = 2 x blocks); the run "
            "also trains 1, 2, 4, ... blocks",
        ),
        int_param("steps", 150, 20, 500, "full-batch SGD steps of every net"),
        int_param("width", 32, 8, 32, "units per hidden layer"),
        choice_param(
            "init",
            "default",
            ("default", "he"),
            "the weights both nets start from: PyTorch's default nn.Linear initialization, "
            "or He (Kaiming) normal with zero biases",
        ),
        choice_param(
            "view",
            "depth",
            ("depth", "training", "gradient"),
            "plot final loss and first-layer gradient vs depth, the loss curves at the deepest "
            "setting, or every layer's gradient at initialization",
            plot_only=True,
        ),
        device_param(),
    ),
    tiny={"blocks": 4, "steps": 80},
    timeout_s=60,
    questions=(
        Question(
            "race",
            "At the deepest setting, after the same steps with each net at its best learning "
            "rate, which net ends with the lower training loss?",
            RACE_OPTIONS,
        ),
        Question(
            "gradient",
            "At initialization and the deepest setting, how does the gradient at the plain net's "
            "first hidden layer compare with the gradient at its last hidden layer?",
            GRADIENT_OPTIONS,
        ),
    ),
)


def _rings(torch: Any, gen: Any, points: int) -> tuple[Any, Any]:
    """Two noisy concentric rings (radius 1 and 0.5), class 1 inside."""
    y = torch.arange(points) % 2
    angle = 2 * math.pi * torch.rand(points, generator=gen)
    radius = torch.where(y == 1, 0.5, 1.0)
    x = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    return x + RING_NOISE * torch.randn(points, 2, generator=gen), y


def _layer(torch: Any, fan_in: int, fan_out: int, init: str) -> tuple[Any, Any]:
    """One linear layer's weight (fan_in, fan_out) and bias (1, fan_out)."""
    layer = torch.nn.Linear(fan_in, fan_out)  # PyTorch's default initialization
    if init == "he":
        torch.nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        torch.nn.init.zeros_(layer.bias)
    return layer.weight.detach().T.contiguous(), layer.bias.detach()[None]


class _Copies:
    """Several copies of one MLP trained side by side, one per (net, learning rate).

    Every weight has a leading copy dimension and each layer is one batched matrix product, so
    the ten runs of a depth (two nets x five learning rates) cost about as much as one. A
    copy's `skip` is 1 for the residual net and 0 for the plain one; that is the only
    difference between them.
    """

    def __init__(
        self, torch: Any, seed: int, blocks: int, width: int, init: str, device: Any
    ) -> None:
        self.torch = torch
        torch.manual_seed(seed)
        shapes = [(2, width)] + [(width, width)] * (2 * blocks) + [(width, 2)]
        layers = [_layer(torch, a, b, init) for a, b in shapes]
        self.copies = len(NETS) * len(LRS)
        self.params = [
            t.to(device).expand(self.copies, -1, -1).clone().requires_grad_()
            for layer in layers
            for t in layer
        ]
        self.velocity = [torch.zeros_like(p) for p in self.params]
        per_net = len(LRS)
        self.skip = torch.tensor([0.0] * per_net + [1.0] * per_net, device=device).view(-1, 1, 1)
        self.lr = torch.tensor(list(LRS) * len(NETS), device=device).view(-1, 1, 1)
        self.alive = torch.ones(self.copies, dtype=torch.bool, device=device)
        self.blocks = blocks

    def losses(self, x: Any, y: Any, states: list[Any] | None = None) -> Any:
        """Cross-entropy of every copy on (x, y): a tensor (copies,).

        With `states`, the hidden state after the input layer and after every block is
        appended to it, so the gradient with respect to each can be taken.
        """
        torch, p = self.torch, self.params
        relu = torch.nn.functional.relu
        h = torch.baddbmm(p[1], x.expand(self.copies, -1, -1), p[0])
        if states is not None:
            states.append(h)
        for b in range(self.blocks):
            w1, b1, w2, b2 = p[2 + 4 * b : 6 + 4 * b]
            branch = torch.baddbmm(b2, relu(torch.baddbmm(b1, relu(h), w1)), w2)
            h = self.skip * h + branch
            if states is not None:
                states.append(h)
        logits = torch.baddbmm(p[-1], relu(h), p[-2])
        per_point = torch.nn.functional.cross_entropy(
            logits.reshape(-1, 2), y.repeat(self.copies), reduction="none"
        )
        return per_point.view(self.copies, -1).mean(dim=1)

    def backward_signal(self, x: Any, y: Any) -> list[list[float]]:
        """‖∂loss/∂h‖ after the input layer and after every block, for each copy."""
        states: list[Any] = []
        losses = self.losses(x, y, states)
        grads = self.torch.autograd.grad(losses.sum(), states)
        return [[g[c].norm().item() for g in grads] for c in range(self.copies)]

    def step(self, x: Any, y: Any) -> tuple[list[float], list[Any]]:
        """One SGD-with-momentum step of every copy; returns the losses before it and the grads."""
        torch = self.torch
        losses = self.losses(x, y)
        grads = torch.autograd.grad(losses.sum(), self.params)
        values = losses.detach()
        self.alive &= torch.isfinite(values) & (values < LOSS_CAP)
        keep = self.alive.view(-1, 1, 1).float()
        with torch.no_grad():
            for p, v, g in zip(self.params, self.velocity, grads, strict=True):
                g = torch.nan_to_num(g) * keep
                v.mul_(MOMENTUM).add_(g)
                p.sub_(self.lr * v)
                p.mul_(keep)  # a diverged copy is parked at zero so it stays finite
        return [
            v if ok else math.inf
            for v, ok in zip(values.tolist(), self.alive.tolist(), strict=True)
        ], grads


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _depths(blocks: int) -> list[int]:
    """1, 2, 4, ... blocks, up to and including `blocks`."""
    depths = [1]
    while depths[-1] * 2 < blocks:
        depths.append(depths[-1] * 2)
    return depths + [blocks] if depths[-1] != blocks else depths


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    x, y = (t.to(device) for t in _rings(torch, generator(seed), POINTS))
    steps = params["steps"]
    depths = _depths(params["blocks"])
    tick = Ticker(progress, steps * sum(depths), "training")
    results = {}
    for blocks in depths:
        copies = _Copies(torch, seed, blocks, params["width"], params["init"], device)
        # Every copy starts from the same weights: copy 0 is the plain net, copy len(LRS) the
        # residual one.
        signal = copies.backward_signal(x, y)
        losses, grads = copies.step(x, y)
        first_layer = [grads[0][c].norm().item() for c in (0, len(LRS))]
        curves = [losses]
        for _ in range(steps - 1):
            curves.append(copies.step(x, y)[0])
            for _ in range(blocks):
                tick()
        results[blocks] = _summary(curves, [signal[0], signal[len(LRS)]], first_layer)
    return _report(params, depths, results)


def _summary(
    curves: list[list[float]], signals: list[list[float]], first_layer: list[float]
) -> dict[str, Any]:
    """Each net's best learning rate, its final loss and curve, and its gradients at init."""
    out: dict[str, Any] = {}
    for n, net in enumerate(NETS):
        finals = []
        for i in range(len(LRS)):
            copy = n * len(LRS) + i
            tail = [row[copy] for row in curves[-LAST:]]
            finals.append(sum(tail) / len(tail))
        best = min(range(len(LRS)), key=lambda i: finals[i])
        copy = n * len(LRS) + best
        out[net] = {
            "final": finals[best],
            "lr": LRS[best],
            "curve": [row[copy] for row in curves],
            "signal": signals[n],
            "shrink": signals[n][0] / signals[n][-1],
            "first_grad": first_layer[n],
        }
    return out


def _net_text(result: Mapping[str, Any]) -> str:
    if not math.isfinite(result["final"]):
        return "diverged at every learning rate"
    return f"{fmt(result['final'])} (lr {result['lr']:g})"


def _gap(result: Mapping[str, Any]) -> float | None:
    """Plain minus residual final training loss; None when either diverged at every lr."""
    plain, residual = (result[n]["final"] for n in NETS)
    if math.isfinite(plain) and math.isfinite(residual):
        return plain - residual
    return None


def _gap_text(result: Mapping[str, Any]) -> str:
    gap = _gap(result)
    if gap is not None:
        return fmt(gap)
    lost = " and ".join(f"the {n} net" for n in NETS if not math.isfinite(result[n]["final"]))
    return f"undefined ({lost} diverged at every learning rate)"


def _report(params: Mapping[str, Any], depths: list[int], results: Mapping[int, Any]) -> DemoOutput:
    steps, deepest, shallowest = params["steps"], depths[-1], depths[0]
    res = results[deepest]
    layers, first_layers = 2 * deepest, 2 * shallowest
    plain, residual = res["plain"], res["residual"]
    gap, first_gap = _gap(res), _gap(results[shallowest])
    capped = min(plain["final"], LOSS_CAP) - min(residual["final"], LOSS_CAP)
    race = (
        RACE_OPTIONS[0] if capped >= GAP else RACE_OPTIONS[2] if capped <= -GAP else RACE_OPTIONS[1]
    )
    claims = [
        _race_claim(params, res, race),
        _signal_claim(layers, plain["shrink"], residual["shrink"]),
        Claim.experiment(
            f"The gap between the nets' training losses (plain minus residual) grows by at "
            f"least {GAP:g} from {first_layers} to {layers} hidden layers: "
            f"{_gap_text(results[shallowest])} then {_gap_text(res)}",
            gap is not None and first_gap is not None and gap - first_gap >= GAP,
            lesson=(
                f"The deeper stack widens the gap: at {first_layers} hidden layers the "
                f"plain net ends {_gap_text(results[shallowest])} above the residual one, at "
                f"{layers} hidden layers {_gap_text(res)} above."
            ),
            otherwise=(
                f"The gap between the nets did not grow by {GAP:g} from {first_layers} to "
                f"{layers} hidden layers: plain minus residual was "
                f"{_gap_text(results[shallowest])}, then {_gap_text(res)}."
            ),
        ),
    ]
    vanishes = plain["shrink"] < 1 / RATIO
    answers = {
        "race": Answer(
            race,
            f"Training loss after {steps} steps at {layers} hidden layers: plain "
            f"{_net_text(plain)}, residual {_net_text(residual)}.",
        ),
        "gradient": Answer(
            GRADIENT_OPTIONS[0] if vanishes else GRADIENT_OPTIONS[1],
            f"At initialization the plain net's gradient at its first hidden layer was "
            f"{fmt(plain['shrink'])} times the one at its last (residual net: "
            f"{fmt(residual['shrink'])}).",
        ),
    }
    return DemoOutput(
        series=_series(params, depths, results),
        table=_table(depths, results),
        metrics=_metrics(depths, results),
        claims=claims,
        plot=_plot(params["view"]),
        setup=(
            f"Both nets start from the same {params['init']} weights and train on the same "
            f"{POINTS} points with full-batch SGD (momentum {MOMENTUM:g}) for {steps} steps at "
            f"each of the learning rates {', '.join(f'{lr:g}' for lr in LRS)}; each net is "
            f"scored at the one that gives it the lowest final training loss."
        ),
        answers=answers,
    )


def _race_claim(params: Mapping[str, Any], res: Mapping[str, Any], race: str) -> Claim:
    steps, layers = params["steps"], 2 * params["blocks"]
    plain, residual = res["plain"], res["residual"]
    both = f"plain {_net_text(plain)}, residual {_net_text(residual)}"
    if race == RACE_OPTIONS[1]:
        otherwise = (
            f"At {layers} hidden layers both nets reach a similar training loss after {steps} "
            f"steps ({both}): within {GAP:g} of each other."
        )
    elif race == RACE_OPTIONS[2]:
        otherwise = (
            f"At {layers} hidden layers the plain net ends with the lower training loss after "
            f"{steps} steps ({both})."
        )
    else:
        otherwise = f"At {layers} hidden layers after {steps} steps: {both}."
    return Claim.experiment(
        f"At {layers} hidden layers, after {steps} steps at each net's best learning rate, the "
        f"residual net's training loss is at least {GAP:g} below the plain net's ({both})",
        race == RACE_OPTIONS[0],
        lesson=(
            f"At {layers} hidden layers, each at its best learning rate, the plain net's training "
            f"loss ends at {_net_text(plain)} and the residual net's at {_net_text(residual)}: "
            f"the same layers train further when each block adds its output to an identity "
            f"shortcut."
        ),
        otherwise=otherwise,
    )


def _signal_claim(layers: int, plain: float, residual: float) -> Claim:
    """Does the gradient vanish on its way back through the plain net but not the residual one?"""
    plain_vanishes = plain < 1 / RATIO
    residual_holds = 1 / RATIO <= residual <= RATIO
    measured = (
        f"from the last hidden layer to the first the gradient changes by a factor "
        f"{fmt(plain)} in the plain net and {fmt(residual)} in the residual net"
    )
    reasons = []
    if not plain_vanishes:
        reasons.append(f"the plain net's gradient does not shrink {RATIO:g}-fold")
    if residual > RATIO:
        reasons.append(f"the residual net's grows more than {RATIO:g}-fold")
    elif residual < 1 / RATIO:
        reasons.append(f"the residual net's shrinks {RATIO:g}-fold too")
    why = " and ".join(reasons) or "as the claim says"
    return Claim.experiment(
        f"At initialization the gradient shrinks more than {RATIO:g}-fold on its way back "
        f"through the plain net's {layers} hidden layers ({fmt(plain)} of it reaches the first) "
        f"but stays within a factor {RATIO:g} through the residual net's ({fmt(residual)})",
        plain_vanishes and residual_holds,
        lesson=(
            f"At initialization only {fmt(plain)} of the plain net's gradient at its last hidden "
            f"layer reaches its first, while the residual net keeps {fmt(residual)} of it: the "
            f"plain net's gradient is multiplied by every layer's weights and ReLU slopes in "
            f"turn, while each shortcut adds an identity path around its block."
        ),
        otherwise=f"At initialization {measured}: {why}.",
    )


def _capped(value: float) -> float:
    return min(value, LOSS_CAP)


def _series(
    params: Mapping[str, Any], depths: list[int], results: Mapping[int, Any]
) -> dict[str, Any]:
    view = params["view"]
    deepest = results[depths[-1]]
    if view == "training":
        return {
            f"{net} (lr {deepest[net]['lr']:g})": floats(_capped(v) for v in deepest[net]["curve"])
            for net in NETS
        }
    if view == "gradient":
        # The hidden state after the input layer is layer 1; block b ends at layer 1 + 2b.
        return {
            net: {
                "x": [float(1 + 2 * b) for b in range(len(deepest[net]["signal"]))],
                "y": floats(deepest[net]["signal"]),
            }
            for net in NETS
        }
    xs = [float(2 * b) for b in depths]
    series: dict[str, Any] = {}
    for net in NETS:
        series[f"final loss, {net}"] = {
            "x": xs,
            "y": floats(_capped(results[b][net]["final"]) for b in depths),
        }
        series[f"first-layer gradient, {net}"] = {
            "x": xs,
            "y": floats(results[b][net]["first_grad"] for b in depths),
        }
    return series


def _plot(view: str) -> PlotSpec:
    if view == "training":
        return PlotSpec(
            title="training loss at the deepest setting, each net at its best lr",
            x_label="SGD step",
            y_label="training loss",
            log_y=True,
        )
    if view == "gradient":
        return PlotSpec(
            title="‖∂loss/∂h‖ at initialization, through the deepest nets",
            x_label="hidden layer",
            y_label="gradient norm",
            log_y=True,
        )
    return PlotSpec(
        title="final training loss and first-layer weight gradient vs depth",
        x_label="hidden layers",
        y_label="value",
        log_y=True,
    )


def _table(depths: list[int], results: Mapping[int, Any]) -> Table:
    rows = []
    for b in depths:
        r = results[b]
        rows.append(
            (
                2 * b,
                _net_text(r["plain"]),
                _net_text(r["residual"]),
                fmt(r["plain"]["first_grad"]),
                fmt(r["residual"]["first_grad"]),
                fmt(r["plain"]["shrink"]),
                fmt(r["residual"]["shrink"]),
            )
        )
    return Table.of(
        [
            "hidden layers",
            "plain: final loss (best lr)",
            "residual: final loss (best lr)",
            "plain: first-layer gradient",
            "residual: first-layer gradient",
            "plain: gradient first/last hidden layer",
            "residual: gradient first/last hidden layer",
        ],
        rows,
    )


def _metrics(depths: list[int], results: Mapping[int, Any]) -> dict[str, float]:
    deepest = results[depths[-1]]
    metrics: dict[str, float] = {}
    for name, b in (("deepest", depths[-1]), ("shallowest", depths[0])):
        gap = _gap(results[b])
        metrics[f"gap_{name}"] = gap if gap is not None else LOSS_CAP
    for net in NETS:
        metrics[f"final_loss_{net}"] = _capped(deepest[net]["final"])
        metrics[f"diverged_{net}"] = float(not math.isfinite(deepest[net]["final"]))
        metrics[f"best_lr_{net}"] = deepest[net]["lr"]
        metrics[f"first_layer_gradient_{net}"] = deepest[net]["first_grad"]
        metrics[f"gradient_first_over_last_{net}"] = deepest[net]["shrink"]
    return metrics
