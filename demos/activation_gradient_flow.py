"""Gradient flow through a deep MLP: how much gradient each layer receives at the start.

One batch goes forward through a deep MLP and one backward pass follows; for every hidden
layer the demo records the norm of the gradient of the loss with respect to that layer's
pre-activations (the error signal backprop hands down, which sets the size of the layer's
weight and bias gradients). A sigmoid's slope is at most 1/4, so each layer multiplies the
signal by a small number and the first layers receive almost nothing: vanishing gradients.
ReLU passes gradient through unchanged where it is active, and He init (variance 2/fan_in)
makes up for the units it switches off, so every layer gets a gradient of similar size.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from demos._common import Ticker, floats, fmt, one_thread, setup
from studyapp.demo_api import (
    Claim,
    DemoOutput,
    DemoSpec,
    PlotSpec,
    Progress,
    Table,
    choice_param,
    device_param,
    int_param,
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
    tiny={"depth": 15, "width": 64, "batch": 32},
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
    sigmoid_ratio = sig[-1] / sig[0]
    relu_spread = max(relu) / min(relu)
    metrics = {f"grad_first_{a}": norms[a][0] for a in activations}
    metrics |= {f"grad_last_{a}": norms[a][-1] for a in activations}
    metrics |= {"sigmoid_last_over_first": sigmoid_ratio, "relu_spread": relu_spread}
    claims = [
        Claim(
            f"Sigmoid's first-layer gradient ({fmt(sig[0])}) is many orders of magnitude below "
            f"its last layer's ({fmt(sig[-1])}): {fmt(sigmoid_ratio)}x, at least "
            f"{_MANY_ORDERS:.0e}x",
            sigmoid_ratio >= _MANY_ORDERS,
        ),
        Claim(
            f"ReLU with {inits['relu']} init keeps every layer's gradient within a factor of "
            f"{_SMALL_FACTOR:g} (largest / smallest = {fmt(relu_spread)}; layer 1 "
            f"{fmt(relu[0])}, layer {depth} {fmt(relu[-1])})",
            relu_spread <= _SMALL_FACTOR,
        ),
    ]
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
        fixed_takeaway=(
            f"After one backward pass through {depth} layers the sigmoid net's first layer gets "
            f"{fmt(sigmoid_ratio)}x less gradient than its last, while ReLU with {inits['relu']} "
            f"init stays "
            f"within {fmt(relu_spread)}x: the activation's slope multiplies in at every layer."
        ),
        plot=PlotSpec(
            title="gradient norm per layer", x_label="layer", y_label="|dL/dz|", log_y=True
        ),
    )
