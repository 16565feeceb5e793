"""Batch normalization in a deep sigmoid network: same net, same learning rate, with and
without BN.

A 10-layer sigmoid MLP learns to tell two noisy concentric rings apart with plain full-batch
SGD. Without normalization the sigmoids' small slopes shrink the gradient layer after layer
and the pre-activations drift away from the sigmoid's steep middle, so the loss sits at
ln 2 and the accuracy at chance. With a BatchNorm layer next to every sigmoid each layer sees
inputs with zero mean and unit variance (then a learned scale and shift), the gradient
reaches the early layers and the same learning rate trains the net. The `bn` knob places BN
before the sigmoid (as in the original paper), after it, or nowhere.
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
    choice_param,
    device_param,
    float_param,
    int_param,
)

SPEC = DemoSpec(
    id="batchnorm_deep_net",
    title="Batch normalization in a deep sigmoid net",
    summary="Train a 10-layer sigmoid MLP with and without BatchNorm at the same learning rate.",
    topics=("batch normalization", "normalization layers", "where to put BN"),
    params=(
        choice_param(
            "bn",
            "before",
            ("before", "after", "off"),
            "where BatchNorm sits in the BN network: before or after each sigmoid, or nowhere",
        ),
        int_param("depth", 10, 2, 30, "hidden layers"),
        float_param(
            "lr", 0.3, 1e-3, 5.0, "SGD learning rate, the same for both nets", log_scale=True
        ),
        int_param("steps", 200, 10, 2000, "full-batch SGD steps"),
        int_param("width", 32, 4, 128, "units per hidden layer"),
        int_param("points", 256, 32, 2000, "training points (half on each ring)"),
        device_param(),
    ),
    tiny={"steps": 120, "width": 16, "depth": 8, "points": 128},
    timeout_s=60,
)

_INNER_RADIUS = 0.5
_RING_NOISE = 0.1
_TEST_POINTS = 1000
_CLEARLY = 0.2  # "clearly higher" = at least this much more accuracy
_LOSS_CAP = 1e6  # a diverging loss is drawn at this height


def _rings(torch: Any, points: int) -> tuple[Any, Any]:
    """Two noisy concentric rings, class 1 inside, drawn from the seeded stream."""
    y = torch.arange(points) % 2
    angle = 2.0 * torch.pi * torch.rand(points)
    radius = torch.where(y == 1, _INNER_RADIUS, 1.0)
    x = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    return x + _RING_NOISE * torch.randn(x.shape), y


def _model(torch: Any, depth: int, width: int, bn: str) -> Any:
    nn = torch.nn
    layers: list[Any] = []
    fan_in = 2
    for _ in range(depth):
        layers.append(nn.Linear(fan_in, width))
        if bn == "before":
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.Sigmoid())
        if bn == "after":
            layers.append(nn.BatchNorm1d(width))
        fan_in = width
    layers.append(nn.Linear(fan_in, 2))
    return nn.Sequential(*layers)


def _set_running_stats(torch: Any, model: Any, x: Any) -> None:
    """Make every BN layer's running statistics those of the full training set."""
    norms = [m for m in model if isinstance(m, torch.nn.BatchNorm1d)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average: after one pass, the full-batch statistics
    model.train()
    with torch.no_grad():
        model(x)
    model.eval()


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    x, y = (t.to(device) for t in _rings(torch, params["points"]))
    x_test, y_test = (t.to(device) for t in _rings(torch, _TEST_POINTS))
    variants = {"plain": "off", "with BN": params["bn"]}
    steps = params["steps"]
    every = report_every(steps * len(variants))
    loss_curves: dict[str, list[float]] = {}
    acc_curves: dict[str, list[float]] = {}
    test_acc: dict[str, float] = {}
    done = 0
    for name, bn in variants.items():
        torch.manual_seed(seed)  # both nets start from the same linear weights
        model = _model(torch, params["depth"], params["width"], bn).to(device)
        opt = torch.optim.SGD(model.parameters(), lr=params["lr"])
        losses, accs = [], []
        for _ in range(steps):
            opt.zero_grad()
            logits = model(x)
            loss = torch.nn.functional.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            losses.append(min(loss.item(), _LOSS_CAP) if loss.isfinite() else _LOSS_CAP)
            accs.append((logits.argmax(1) == y).float().mean().item())
            done += 1
            if done % every == 0:
                progress(done / (steps * len(variants)), name, {**loss_curves, name: losses})
        _set_running_stats(torch, model, x)
        with torch.no_grad():
            test_acc[name] = (model(x_test).argmax(1) == y_test).float().mean().item()
        loss_curves[name] = floats(losses)
        acc_curves[name] = floats(accs)

    plain, normed = test_acc["plain"], test_acc["with BN"]
    final_loss = {n: c[-1] for n, c in loss_curves.items()}
    metrics = {f"test_accuracy_{n.replace(' ', '_')}": a for n, a in test_acc.items()}
    metrics |= {f"final_loss_{n.replace(' ', '_')}": v for n, v in final_loss.items()}
    metrics |= {f"train_accuracy_{n.replace(' ', '_')}": c[-1] for n, c in acc_curves.items()}
    metrics |= {
        f"diverged_{n.replace(' ', '_')}": float(max(c) >= _LOSS_CAP)
        for n, c in loss_curves.items()
    }
    claims = [
        Claim(
            f"With BN ({params['bn']} the sigmoid) the test accuracy after {steps} steps at "
            f"lr {params['lr']:g} is clearly higher: {fmt(normed)} vs {fmt(plain)} without "
            f"(at least {_CLEARLY:g} more)",
            normed >= plain + _CLEARLY,
        ),
    ]
    rows = [
        (
            n,
            variants[n],
            round(final_loss[n], 4),
            round(acc_curves[n][-1], 3),
            round(test_acc[n], 3),
        )
        for n in variants
    ]
    series: dict[str, Any] = {f"loss {n}": c for n, c in loss_curves.items()}
    series |= {f"train accuracy {n}": c for n, c in acc_curves.items()}
    return DemoOutput(
        series=series,
        table=Table.of(["network", "BN", "final loss", "train accuracy", "test accuracy"], rows),
        metrics=metrics,
        claims=claims,
        fixed_takeaway=(
            f"Same {params['depth']}-layer sigmoid net, same lr {params['lr']:g}: without BN "
            f"the loss stays at {fmt(final_loss['plain'])} (accuracy {fmt(plain)}); with BN it "
            f"falls to {fmt(final_loss['with BN'])} (accuracy {fmt(normed)})."
        ),
        plot=PlotSpec(title="training loss and accuracy", x_label="step", y_label="value"),
    )
