"""Signal propagation at initialization: the weight scale decides whether a deep net's
activations survive 50 layers.

One batch of random inputs goes forward through a deep stack of square layers (no training),
and the standard deviation of the activations is recorded after every layer. He (Kaiming)
init draws weights with variance 2/fan_in, which exactly makes up for ReLU zeroing half of
its inputs, so the signal keeps its size. Xavier (Glorot) init, variance 1/fan_in here, is
right for tanh but loses a factor of about sqrt(2) per ReLU layer: after 50 layers the
signal has shrunk by orders of magnitude. A third scale, too small or too large, shows the
same compounding in either direction; the deeper the net, the larger the damage.
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
    id="init_signal_propagation",
    title="Signal propagation through 50 layers",
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
    timeout_s=60,
)

_THIRD_STD = {"small": 0.01, "large": 1.0}
_SMALL_FACTOR = 10.0  # He's std stays within this factor over all layers
_ORDERS = 100.0  # "orders of magnitude" = at least this factor
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

    he, xavier = stds["he"], stds["xavier"]
    he_spread = max(he) / min(he)
    xavier_drop = xavier[0] / xavier[-1]
    metrics = {f"std_first_{i}": stds[i][0] for i in inits}
    metrics |= {f"std_last_{i}": stds[i][-1] for i in inits}
    metrics |= {"he_spread": he_spread, "xavier_drop": xavier_drop}
    claims = [
        Claim(
            f"He init keeps the {activation} activation std within a factor of "
            f"{_SMALL_FACTOR:g} over all {depth} layers (largest / smallest = {fmt(he_spread)}; "
            f"layer 1 {fmt(he[0])}, layer {depth} {fmt(he[-1])})",
            he_spread <= _SMALL_FACTOR,
        ),
        _xavier_claim(activation, depth, xavier, xavier_drop),
    ]
    middle = depth // 2
    rows = [(labels[i], fmt(stds[i][0]), fmt(stds[i][middle - 1]), fmt(stds[i][-1])) for i in inits]
    return DemoOutput(
        series={labels[i]: {"x": [float(n) for n in layers], "y": stds[i]} for i in inits},
        table=Table.of(["init", "std layer 1", f"std layer {middle}", f"std layer {depth}"], rows),
        metrics=metrics,
        claims=claims,
        fixed_takeaway=_takeaway(activation, depth, he, xavier),
        plot=PlotSpec(title="activation std per layer", x_label="layer", y_label="std", log_y=True),
    )


def _xavier_claim(activation: str, depth: int, xavier: list[float], drop: float) -> Claim:
    """What Xavier init does to the signal: lost with ReLU, kept (slowly decaying) with tanh."""
    course = f"from {fmt(xavier[0])} at layer 1 to {fmt(xavier[-1])} at layer {depth}"
    if activation == "relu":
        return Claim(
            f"Xavier init with relu shrinks the std by orders of magnitude: {course} "
            f"({fmt(drop)}x, at least {_ORDERS:g}x)",
            drop >= _ORDERS,
        )
    return Claim(
        f"Xavier init with {activation}, the scale it was made for, loses no orders of "
        f"magnitude: {course} ({fmt(drop)}x, under {_ORDERS:g}x)",
        drop < _ORDERS,
    )


def _takeaway(activation: str, depth: int, he: list[float], xavier: list[float]) -> str:
    ends = f"He init ends with std {fmt(he[-1])} and Xavier with {fmt(xavier[-1])}"
    if activation == "relu":
        return (
            f"Through {depth} relu layers {ends}: ReLU halves the variance at every layer, "
            "He's factor 2 makes up for it and Xavier's does not, and the loss compounds with "
            "depth. The init must match the activation."
        )
    return (
        f"Through {depth} {activation} layers {ends}: tanh passes small signals at gain 1, "
        "so Xavier's scale keeps them, decaying only slowly, while the same scale with ReLU "
        "loses orders of magnitude. The init must match the activation."
    )
