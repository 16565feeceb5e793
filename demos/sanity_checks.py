"""Sanity checks before a long training run: initial loss, overfitting a tiny set, early steps.

Three checks that catch most bugs in a classifier's set-up. At initialisation, with small
output weights, the softmax is close to uniform, so the cross-entropy should be ln C for C
classes; a loss far from it means the init or the loss is wrong. A network that cannot drive
the loss to nearly zero on 20 examples has a bug (or far too little capacity). And in the very
first steps the accuracy can leap while the loss hardly moves: the argmax flips as soon as the
right logit edges ahead, long before the probabilities become confident.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from demos._common import Ticker, floats, fmt, generator, one_thread, setup
from studyapp.demo_api import (
    Claim,
    DemoOutput,
    DemoSpec,
    PlotSpec,
    Progress,
    Table,
    device_param,
    float_param,
    int_param,
)

FEATURES, HIDDEN, POINTS = 20, 64, 1000
INIT_TOL = 0.1  # initial loss within this of ln C
MEMORIZED_LOSS = 0.05  # "memorized": every tiny-set example right and the loss at most this
FLAT = 0.10  # "loss flat": fallen by at most this fraction when accuracy reaches the target
FULL_LR, TINY_LR = 0.05, 0.01  # SGD on the full set, Adam on the tiny set

SPEC = DemoSpec(
    id="sanity_checks",
    title="Sanity checks: initial loss, overfit a tiny set",
    summary="Check a 10-class MLP's initial loss against ln C and memorize 20 examples.",
    topics=(
        "sanity checks",
        "initial loss = log C",
        "overfit a tiny set",
        "loss flat while accuracy rises",
    ),
    params=(
        int_param("classes", 10, 2, 100, "number of classes C"),
        float_param("noise", 1.0, 0.0, 5.0, "spread of each class around its centre"),
        float_param(
            "init_scale",
            0.1,
            0.01,
            100.0,
            "factor on the last layer's initial weights",
            log_scale=True,
        ),
        int_param("tiny_set", 20, 2, 100, "examples in the set to memorize"),
        int_param("tiny_steps", 100, 10, 2000, "Adam steps on the tiny set"),
        int_param("steps", 60, 10, 2000, "SGD steps on the full set"),
        device_param(),
    ),
    tiny={"tiny_steps": 60, "steps": 15},
    timeout_s=60,
)


def _blobs(torch: Any, classes: int, noise: float, seed: int) -> tuple[Any, Any]:
    """POINTS examples around `classes` random centres in FEATURES dimensions."""
    g = generator(seed)
    centres = torch.randn(classes, FEATURES, generator=g)
    y = torch.randint(0, classes, (POINTS,), generator=g)
    x = centres[y] + noise * torch.randn(POINTS, FEATURES, generator=g)
    return x, y


def _model(torch: Any, classes: int, init_scale: float) -> Any:
    nn = torch.nn
    model = nn.Sequential(nn.Linear(FEATURES, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, classes))
    with torch.no_grad():
        model[2].weight.mul_(init_scale)
        model[2].bias.zero_()
    return model


def _train(
    torch: Any, model: Any, opt: Any, x: Any, y: Any, steps: int, tick: Any
) -> tuple[list[float], list[float]]:
    """Full-batch training; loss and accuracy before each step and after the last."""
    losses: list[float] = []
    accuracy: list[float] = []
    for step in range(steps + 1):
        logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits, y)
        losses.append(loss.item())
        accuracy.append((logits.argmax(dim=1) == y).float().mean().item())
        if step == steps:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
        tick()
    return losses, accuracy


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    with one_thread():
        return _run(torch, device, params, seed, progress)


def _run(
    torch: Any, device: Any, params: Mapping[str, Any], seed: int, progress: Progress
) -> DemoOutput:
    classes, scale = params["classes"], params["init_scale"]
    steps, tiny_n, tiny_steps = params["steps"], params["tiny_set"], params["tiny_steps"]
    total = steps + tiny_steps
    tick = Ticker(progress, total, "training")

    x, y = _blobs(torch, classes, params["noise"], seed)
    x, y = x.to(device), y.to(device)
    model = _model(torch, classes, scale).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=FULL_LR)
    full_loss, full_acc = _train(torch, model, opt, x, y, steps, tick)

    tiny_model = _model(torch, classes, scale).to(device)
    tiny_opt = torch.optim.Adam(tiny_model.parameters(), lr=TINY_LR)
    tiny_loss, tiny_acc = _train(
        torch, tiny_model, tiny_opt, x[:tiny_n], y[:tiny_n], tiny_steps, tick
    )

    ln_c = math.log(classes)
    initial = full_loss[0]
    target = 0.5 + 0.5 / classes
    reach = next((i for i, a in enumerate(full_acc) if a >= target), None)
    drop = (initial - full_loss[reach]) / initial if reach is not None else math.nan
    claims = [
        Claim(
            f"The initial loss ({fmt(initial)}) is within {INIT_TOL:g} of ln C = ln {classes} "
            f"= {fmt(ln_c)} (off by {fmt(abs(initial - ln_c))})",
            abs(initial - ln_c) <= INIT_TOL,
        ),
        Claim(
            f"{tiny_n} examples are memorized: after {tiny_steps} Adam steps the accuracy on "
            f"them is {tiny_acc[-1]:.0%} and the loss {fmt(tiny_loss[-1])} "
            f"(at most {MEMORIZED_LOSS:g})",
            tiny_acc[-1] == 1.0 and tiny_loss[-1] <= MEMORIZED_LOSS,
        ),
        Claim(
            _flat_text(full_acc[0], target, reach, drop),
            reach is not None and drop <= FLAT,
        ),
    ]
    series = {
        "loss, all data": _thin(full_loss),
        "accuracy, all data": _thin(full_acc),
        f"loss, {tiny_n} examples": _thin(tiny_loss),
        f"accuracy, {tiny_n} examples": _thin(tiny_acc),
    }
    metrics = {
        "initial_loss": initial,
        "ln_classes": ln_c,
        "tiny_final_loss": tiny_loss[-1],
        "tiny_final_accuracy": tiny_acc[-1],
        "full_initial_accuracy": full_acc[0],
        "full_final_accuracy": full_acc[-1],
        "full_final_loss": full_loss[-1],
        "target_accuracy": target,
        "steps_to_target": float(reach if reach is not None else steps + 1),
        "loss_drop_at_target": drop if reach is not None else 1.0,
    }
    rows = [
        ("initial loss", fmt(initial), f"ln C = {fmt(ln_c)}"),
        (f"{tiny_n}-example loss after {tiny_steps} steps", fmt(tiny_loss[-1]), "near 0"),
        (f"{tiny_n}-example accuracy", f"{tiny_acc[-1]:.0%}", "100%"),
        ("full-set accuracy at start", f"{full_acc[0]:.0%}", f"chance = {1 / classes:.0%}"),
        (f"full-set accuracy after {steps} steps", f"{full_acc[-1]:.0%}", ""),
        (f"full-set loss after {steps} steps", fmt(full_loss[-1]), ""),
    ]
    return DemoOutput(
        series=series,
        table=Table.of(["check", "value", "expected"], rows),
        metrics=metrics,
        claims=claims,
        fixed_takeaway=(
            f"Before training the loss was {fmt(initial)} against ln {classes} = {fmt(ln_c)}, and "
            f"the net drove {tiny_n} examples to loss {fmt(tiny_loss[-1])}: the set-up is sound, "
            f"so a long run is worth starting."
        ),
        plot=PlotSpec(title="loss and accuracy", x_label="step", y_label="loss / accuracy"),
    )


def _thin(ys: list[float], limit: int = 500) -> dict[str, list[float]]:
    """At most about `limit` points of a curve against its step, always keeping the last."""
    index = list(range(0, len(ys), max(1, math.ceil(len(ys) / limit))))
    if index[-1] != len(ys) - 1:
        index.append(len(ys) - 1)
    return {"x": [float(i) for i in index], "y": floats(ys[i] for i in index)}


def _flat_text(start: float, target: float, reach: int | None, drop: float) -> str:
    if reach is None:
        return (
            f"Accuracy never reached {target:.0%} on the full set, so the early loss-vs-accuracy "
            f"check could not be made"
        )
    return (
        f"Loss stays nearly flat while accuracy jumps: by step {reach}, when accuracy first "
        f"reaches {target:.0%} (from {start:.0%}), the loss has fallen only {drop:.1%} "
        f"(at most {FLAT:.0%})"
    )
