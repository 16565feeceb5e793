"""Gradient flow through a deep MLP: how much gradient each layer receives at the start.

One batch goes forward through a deep MLP and one backward pass follows; for every hidden
layer the demo records the norm of the gradient of the loss with respect to that layer's
pre-activations (the error signal backprop hands down, which sets the size of the layer's
weight and bias gradients). The backward pass multiplies in each layer's activation slope and
weights: a sigmoid's slope is at most 1/4, so its first layers may receive almost nothing
(vanishing gradients); ReLU passes the gradient unchanged where it is active, and He init
(variance 2/fan_in) is meant to make up for the units it switches off. A third activation,
tanh or leaky ReLU, can be compared, and a mismatched init can push tanh into exploding
gradients. The claims say what this run's gradients did.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from demos._common import Ticker, floats, fmt, one_thread, setup
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

Q_SIGMOID = Question(
    "sigmoid",
    "How much less gradient does the sigmoid net's first layer get than its last layer?",
    ("less than 10x less", "10x to 10,000x less", "over 10,000x less"),
)
Q_THIRD = Question(
    "third",
    "With the third activation (tanh or leaky ReLU), the first layer's gradient, against the "
    "last layer's, is:",
    ("over 10x smaller (vanishing)", "within 10x of it", "over 10x larger (exploding)"),
)

SPEC = DemoSpec(
    id="activation_gradient_flow",
    title="Gradient flow: sigmoid vs ReLU",
    summary="One backward pass through a 20-layer MLP: gradient norm per layer, per activation.",
    topics=("sigmoid", "tanh", "ReLU", "leaky ReLU", "vanishing / exploding gradients"),
    params=(
        choice_param(
            "activation",
            "tanh",
            ("tanh", "leaky_relu"),
            "third activation compared with sigmoid and ReLU",
        ),
        choice_param(
            "init",
            "matched",
            ("matched", "xavier", "he"),
            "weight init: matched (He for ReLU-like, Xavier for sigmoid/tanh) or one for all",
        ),
        int_param("depth", 20, 2, 100, "hidden layers"),
        int_param("width", 128, 8, 512, "units per hidden layer"),
        int_param("batch", 64, 1, 512, "random inputs in the batch"),
        device_param(),
    ),
    tiny={"depth": 15, "width": 128, "batch": 32},
    questions=(Q_SIGMOID, Q_THIRD),
    timeout_s=60,
)

_OUTPUTS = 10
_MANY_ORDERS = 1e4  # "many orders of magnitude" = at least this factor
_SMALL_FACTOR = 5.0
_FLOOR, _CEILING = 1e-300, 1e300
_RELU_LIKE = ("relu", "leaky_relu")


def _init_name(activation: str, init: str) -> str:
    if init != "matched":
        return init
    return "he" if activation in _RELU_LIKE else "xavier"


def _activation(torch: Any, name: str) -> Any:
    functional = torch.nn.functional
    return {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "leaky_relu": lambda t: functional.leaky_relu(t, 0.01),
    }[name]


def _clamp(value: float) -> float:
    return min(max(value, _FLOOR), _CEILING) if math.isfinite(value) else _CEILING


def _gradient_norms(
    torch: Any, x: Any, y: Any, activation: str, init: str, depth: int, tick: Any
) -> list[float]:
    """Norm of dLoss/d(pre-activation) at each hidden layer after one backward pass."""
    nn = torch.nn
    width = x.shape[1]
    act = _activation(torch, activation)
    layers = [nn.Linear(width, width, dtype=x.dtype, device=x.device) for _ in range(depth)]
    readout = nn.Linear(width, y.shape[1], dtype=x.dtype, device=x.device)
    for layer in [*layers, readout]:
        if init == "he" and layer is not readout:
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        else:
            nn.init.xavier_normal_(layer.weight)
        nn.init.zeros_(layer.bias)
    h = x
    pre_activations = []
    for layer in layers:
        z = layer(h)
        z.retain_grad()
        pre_activations.append(z)
        h = act(z)
        tick()
    nn.functional.mse_loss(readout(h), y).backward()
    return [_clamp(z.grad.norm().item()) for z in pre_activations]


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    depth = params["depth"]
    x = torch.randn(params["batch"], params["width"], dtype=torch.float64).to(device)
    y = torch.randn(params["batch"], _OUTPUTS, dtype=torch.float64).to(device)
    activations = ("sigmoid", "relu", params["activation"])
    inits = {a: _init_name(a, params["init"]) for a in activations}
    total = depth * len(activations)
    tick = Ticker(progress, total, "forward and backward pass")

    norms = {a: floats(_gradient_norms(torch, x, y, a, inits[a], depth, tick)) for a in activations}
    labels = {a: f"{a} ({inits[a]} init)" for a in activations}
    sig, relu = norms["sigmoid"], norms["relu"]
    third = params["activation"]
    sigmoid_ratio = sig[-1] / sig[0]
    relu_spread = max(relu) / min(relu)
    third_ratio = norms[third][-1] / norms[third][0]
    metrics = {f"grad_first_{a}": norms[a][0] for a in activations}
    metrics |= {f"grad_last_{a}": norms[a][-1] for a in activations}
    metrics |= {
        "sigmoid_last_over_first": sigmoid_ratio,
        "relu_spread": relu_spread,
        "third_last_over_first": third_ratio,
    }
    claims = [
        _sigmoid_claim(sig, depth, sigmoid_ratio),
        _relu_claim(relu, depth, inits["relu"], relu_spread),
    ]
    answers = {
        Q_SIGMOID.id: Answer(
            Q_SIGMOID.options[0]
            if sigmoid_ratio < 10
            else Q_SIGMOID.options[1]
            if sigmoid_ratio < _MANY_ORDERS
            else Q_SIGMOID.options[2],
            f"Sigmoid's first layer gets {fmt(sig[0])} and its last layer {fmt(sig[-1])}: "
            f"{fmt(sigmoid_ratio)}x less.",
        ),
        Q_THIRD.id: Answer(
            Q_THIRD.options[0]
            if third_ratio >= 10
            else Q_THIRD.options[2]
            if third_ratio <= 0.1
            else Q_THIRD.options[1],
            f"With {third} ({inits[third]} init) the first layer gets {fmt(norms[third][0])} "
            f"and the last {fmt(norms[third][-1])}.",
        ),
    }
    rows = [
        (a, inits[a], fmt(norms[a][0]), fmt(norms[a][-1]), fmt(norms[a][-1] / norms[a][0]))
        for a in activations
    ]
    layer_numbers = [float(n) for n in range(1, depth + 1)]
    return DemoOutput(
        series={labels[a]: {"x": layer_numbers, "y": norms[a]} for a in activations},
        table=Table.of(
            ["activation", "init", "grad layer 1", f"grad layer {depth}", "last / first"], rows
        ),
        metrics=metrics,
        claims=claims,
        setup=(
            f"One batch of {params['batch']} random inputs and targets goes forward and back once "
            f"through {depth} fresh hidden layers of {params['width']} units per activation "
            "(biases zero, mean squared error, no training)."
        ),
        answers=answers,
        plot=PlotSpec(
            title="gradient norm per layer", x_label="layer", y_label="|dL/dz|", log_y=True
        ),
    )


def _sigmoid_claim(sig: list[float], depth: int, ratio: float) -> Claim:
    per_layer = ratio ** (1 / max(1, depth - 1))
    return Claim.experiment(
        f"Sigmoid's first-layer gradient ({fmt(sig[0])}) is many orders of magnitude below "
        f"its last layer's ({fmt(sig[-1])}): {fmt(ratio)}x, at least {_MANY_ORDERS:.0e}x",
        ratio >= _MANY_ORDERS,
        lesson=(
            "Sigmoid's slope is at most 1/4 and the backward pass multiplies in one slope per "
            f"layer: over {depth} layers the first layer gets {fmt(ratio)}x less gradient than "
            f"the last, a factor {per_layer:.2f} per layer. The gradient vanishes."
        ),
        otherwise=(
            f"Over {depth} layers sigmoid's first layer gets {fmt(ratio)}x less gradient than "
            f"its last (a factor {per_layer:.2f} per layer), under four orders of magnitude."
        ),
    )


def _relu_claim(relu: list[float], depth: int, init: str, spread: float) -> Claim:
    course = (
        f"largest / smallest = {fmt(spread)}; layer 1 {fmt(relu[0])}, layer {depth} {fmt(relu[-1])}"
    )
    why = ", and He init makes up for the units it switches off" if init == "he" else ""
    return Claim.experiment(
        f"ReLU with {init} init keeps every layer's gradient within a factor of "
        f"{_SMALL_FACTOR:g} ({course})",
        spread <= _SMALL_FACTOR,
        lesson=(
            f"ReLU passes the gradient unchanged where it is active{why}: every layer's "
            f"gradient stayed within {fmt(spread)}x of the others over {depth} layers."
        ),
        otherwise=(
            f"ReLU with {init} init did not keep the layers' gradients within "
            f"{_SMALL_FACTOR:g}x of each other: {course}."
        ),
    )
