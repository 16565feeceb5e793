"""Signal propagation at initialization: does a deep stack's signal keep its size?

One batch of random inputs goes forward through a stack of square layers without biases (no
training), and the standard deviation of the activations is recorded after every layer, once
per weight init. He (Kaiming) init draws weights with variance 2/fan_in, chosen to make up for
ReLU zeroing about half of its inputs; Xavier (Glorot) init, variance 1/fan_in here, is chosen
for tanh, and with ReLU loses about a factor sqrt(2) of std per layer. A third scale,
N(0, 0.01^2) or N(0, 1), is too small or too large. Each layer multiplies the signal by a
factor, so a mismatch compounds with depth, and in narrow layers the factors scatter. The
claims say what this run's stds did.
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

Q_XAVIER = Question(
    "xavier",
    "With Xavier init, how much smaller is the activation std at the last layer than at layer 1?",
    ("less than 100x smaller", "100x to a million times smaller", "over a million times smaller"),
)
Q_THIRD = Question(
    "third",
    "With the third init (small: N(0, 0.01^2), large: N(0, 1)), the std at the last layer is:",
    ("over 100x smaller than at layer 1", "within 100x of layer 1's", "over 100x larger"),
)

SPEC = DemoSpec(
    id="init_signal_propagation",
    title="Signal propagation through a deep stack",
    summary="Activation std per layer through a deep ReLU or tanh stack: He, Xavier, bad scales.",
    topics=(
        "Xavier/Glorot",
        "He/Kaiming",
        "too small / too large init",
        "deeper nets more sensitive",
    ),
    params=(
        choice_param("activation", "relu", ("relu", "tanh"), "nonlinearity after every layer"),
        choice_param(
            "init",
            "small",
            ("small", "large"),
            "third init compared with He and Xavier: N(0, 0.01^2) or N(0, 1)",
        ),
        int_param("depth", 50, 2, 100, "number of layers"),
        int_param("width", 256, 16, 512, "units per layer"),
        int_param("batch", 128, 8, 512, "random input vectors pushed through"),
        device_param(),
    ),
    tiny={"depth": 30, "width": 128, "batch": 32},
    questions=(Q_XAVIER, Q_THIRD),
    timeout_s=60,
)

_THIRD_STD = {"small": 0.01, "large": 1.0}
_SMALL_FACTOR = 10.0  # He's std stays within this factor over all layers
_ORDERS = 100.0  # "orders of magnitude" = at least this factor
_MANY_ORDERS = 1e6
_FLOOR, _CEILING = 1e-300, 1e300


def _init_weight(torch: Any, weight: Any, init: str) -> None:
    nn = torch.nn
    if init == "he":
        nn.init.kaiming_normal_(weight, nonlinearity="relu")
    elif init == "xavier":
        nn.init.xavier_normal_(weight)
    else:
        nn.init.normal_(weight, std=_THIRD_STD[init])


def _stds(torch: Any, x: Any, init: str, params: Mapping[str, Any], tick: Any) -> list[float]:
    """The activation std after each layer of a fresh stack initialized with `init`."""
    act = torch.relu if params["activation"] == "relu" else torch.tanh
    width = params["width"]
    h = x
    out = []
    for _ in range(params["depth"]):
        weight = torch.empty(width, width, dtype=x.dtype, device=x.device)
        _init_weight(torch, weight, init)
        h = act(h @ weight.T)
        std = h.std().item()
        out.append(min(max(std, _FLOOR), _CEILING) if math.isfinite(std) else _CEILING)
        tick()
    return out


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    activation, depth = params["activation"], params["depth"]
    # Inputs and weights come from one seeded stream, one after the other, so no weight
    # matrix repeats the input numbers.
    x = torch.randn(params["batch"], params["width"], dtype=torch.float64).to(device)
    third = params["init"]
    inits = ("he", "xavier", third)
    total = depth * len(inits)
    tick = Ticker(progress, total, lambda done: f"layer {(done - 1) % depth + 1} of {depth}")

    stds = {init: floats(_stds(torch, x, init, params, tick)) for init in inits}
    layers = list(range(1, depth + 1))
    labels = {"he": "He", "xavier": "Xavier", third: f"{third} N(0, {_THIRD_STD[third]:g}^2)"}

    he, xavier, other = stds["he"], stds["xavier"], stds[third]
    he_spread = max(he) / min(he)
    xavier_drop = xavier[0] / xavier[-1]
    other_change = other[-1] / other[0]
    width = params["width"]
    metrics = {f"std_first_{i}": stds[i][0] for i in inits}
    metrics |= {f"std_last_{i}": stds[i][-1] for i in inits}
    metrics |= {"he_spread": he_spread, "xavier_drop": xavier_drop}
    claims = [
        _he_claim(activation, depth, width, he, he_spread),
        _xavier_claim(activation, depth, xavier, xavier_drop),
    ]
    answers = {
        Q_XAVIER.id: Answer(
            Q_XAVIER.options[0]
            if xavier_drop < _ORDERS
            else Q_XAVIER.options[1]
            if xavier_drop < _MANY_ORDERS
            else Q_XAVIER.options[2],
            f"With Xavier init the std goes from {fmt(xavier[0])} at layer 1 to "
            f"{fmt(xavier[-1])} at layer {depth}, {fmt(xavier_drop)}x smaller.",
        ),
        Q_THIRD.id: Answer(
            Q_THIRD.options[0]
            if other_change * _ORDERS <= 1
            else Q_THIRD.options[2]
            if other_change >= _ORDERS
            else Q_THIRD.options[1],
            f"With {labels[third]} weights the std goes from {fmt(other[0])} at layer 1 to "
            f"{fmt(other[-1])} at layer {depth}.",
        ),
    }
    shown = sorted({1, max(1, depth // 2), depth})
    rows = [(labels[i], *(fmt(stds[i][n - 1]) for n in shown)) for i in inits]
    return DemoOutput(
        series={labels[i]: {"x": [float(n) for n in layers], "y": stds[i]} for i in inits},
        table=Table.of(["init", *(f"std layer {n}" for n in shown)], rows),
        metrics=metrics,
        claims=claims,
        setup=(
            f"One batch of {params['batch']} random inputs goes forward through {depth} fresh "
            f"{activation} layers of {width} units, without biases and without training, once "
            "per init."
        ),
        answers=answers,
        plot=PlotSpec(title="activation std per layer", x_label="layer", y_label="std", log_y=True),
    )


def _he_claim(activation: str, depth: int, width: int, he: list[float], spread: float) -> Claim:
    course = (
        f"largest / smallest = {fmt(spread)}; layer 1 {fmt(he[0])}, layer {depth} {fmt(he[-1])}"
    )
    if activation == "relu":
        lesson = (
            "He init's variance 2/fan_in makes up for the half of each layer's pre-activations "
            f"that ReLU sets to zero: the std stayed within {fmt(spread)}x over {depth} layers."
        )
    else:
        lesson = f"He init kept the {activation} signal within {fmt(spread)}x over {depth} layers."
    return Claim.experiment(
        f"He init keeps the {activation} activation std within a factor of {_SMALL_FACTOR:g} "
        f"over all {depth} layers ({course})",
        spread <= _SMALL_FACTOR,
        lesson=lesson,
        otherwise=(
            f"He init did not keep the std within {_SMALL_FACTOR:g}x over {depth} layers of "
            f"{width} units: {course}."
        ),
    )


def _xavier_claim(activation: str, depth: int, xavier: list[float], drop: float) -> Claim:
    """What Xavier init does to the signal: lost with ReLU, kept (slowly decaying) with tanh."""
    course = f"from {fmt(xavier[0])} at layer 1 to {fmt(xavier[-1])} at layer {depth}"
    per_layer = drop ** (1 / max(1, depth - 1))
    if activation == "relu":
        return Claim.experiment(
            f"Xavier init with relu shrinks the std by orders of magnitude: {course} "
            f"({fmt(drop)}x, at least {_ORDERS:g}x)",
            drop >= _ORDERS,
            lesson=(
                f"Xavier init (variance 1/fan_in) suits tanh, not ReLU: the std fell "
                f"{fmt(drop)}x over {depth} ReLU layers, a factor {per_layer:.2f} per layer "
                "(halving the variance at each layer gives 1.41)."
            ),
            otherwise=(
                f"Over {depth} ReLU layers Xavier's std fell {fmt(drop)}x (a factor "
                f"{per_layer:.2f} per layer), less than two orders of magnitude."
            ),
        )
    return Claim.experiment(
        f"Xavier init with {activation}, the scale it was made for, loses no orders of "
        f"magnitude: {course} ({fmt(drop)}x, under {_ORDERS:g}x)",
        drop < _ORDERS,
        lesson=f"Xavier's scale suits tanh: over {depth} layers the std fell only {fmt(drop)}x.",
        otherwise=f"Even with tanh, Xavier's std fell {fmt(drop)}x over {depth} layers.",
    )
