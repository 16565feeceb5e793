"""Sanity checks before a long training run: initial loss, overfitting a tiny set, early steps.

Three checks that catch many bugs in a classifier's set-up, run on a 10-class MLP (by default)
and reported as passed or failed. At initialisation, with small output weights, the softmax is
close to uniform, so the cross-entropy should be close to ln C for C classes; a starting loss
far above it means the net starts out confidently wrong (`init_scale` scales the output
weights, so a learner can break this check on purpose). A net that cannot drive the loss to
nearly zero on 20 examples is not ready for a long run. And in the first steps the accuracy
can leap while the loss hardly moves, because the argmax flips as soon as the right logit edges
ahead, long before the probabilities become confident; whether it does at the chosen settings
is what the run measures.
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
    device_param,
    float_param,
    int_param,
)

FEATURES, HIDDEN, POINTS = 20, 64, 1000
INIT_TOL = 0.1  # initial loss within this fraction of ln C
MEMORIZED_LOSS = 0.05  # "memorized": every tiny-set example right and the loss at most this
FLAT = 0.10  # "loss flat": fallen by less than this fraction when accuracy reaches the target
FULL_LR, TINY_LR = 0.05, 0.01  # SGD on the full set, Adam on the tiny set
INITIAL = (
    "within 10% of ln C",
    "more than 10% above ln C",
    # A decoy: with labels independent of the untrained net, the expected loss is at least
    # ln C (Gibbs' inequality), so no setting reaches it.
    "more than 10% below ln C",
)
FLAT_OPTIONS = (
    "less than 10%",
    "10% or more",
    "the accuracy does not get there in the steps given",
)

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
    questions=(
        Question("initial", "Before any training, how does the loss compare with ln C?", INITIAL),
        Question(
            "flat",
            "When the accuracy on all the data first gets halfway from chance (1/C) to 100%, "
            "how much has the loss fallen from its start?",
            FLAT_OPTIONS,
        ),
    ),
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
    with torch.no_grad():
        top = float(torch.softmax(model(x), dim=1).max(dim=1).values.mean())
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
        _initial_claim(initial, classes, top, scale),
        _memorize_claim(tiny_n, tiny_steps, tiny_loss[-1], tiny_acc[-1]),
        _flat_claim(full_acc, target, reach, drop, steps),
    ]
    off = initial / ln_c - 1
    answers = {
        "initial": Answer(
            INITIAL[0] if abs(off) <= INIT_TOL else INITIAL[1] if off > 0 else INITIAL[2],
            f"The starting loss is {fmt(initial)} and ln {classes} = {fmt(ln_c)}: "
            f"{abs(off):.1%} {'above' if off >= 0 else 'below'} it.",
        ),
        "flat": Answer(
            FLAT_OPTIONS[2]
            if reach is None
            else FLAT_OPTIONS[0]
            if drop < FLAT
            else FLAT_OPTIONS[1],
            f"The accuracy stays below {target:.1%} for all {steps} steps (it ends at "
            f"{full_acc[-1]:.1%})."
            if reach is None
            else f"The accuracy reaches {target:.1%} at step {reach}, when the loss has fallen "
            f"{drop:.1%} from {fmt(initial)}.",
        ),
    }
    series = {
        "loss, all data": _thin(full_loss),
        "accuracy, all data": _thin(full_acc),
        f"loss, {tiny_n} examples": _thin(tiny_loss),
        f"accuracy, {tiny_n} examples": _thin(tiny_acc),
    }
    metrics = {
        "initial_loss": initial,
        "ln_classes": ln_c,
        "initial_top_probability": top,
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
        ("mean top-class probability at start", fmt(top), f"1/C = {fmt(1 / classes)}"),
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
        setup=(
            f"The output layer's initial weights are scaled by {scale:g}. All {POINTS} examples "
            f"train with full-batch SGD (lr {FULL_LR:g}); the first {tiny_n} train on their own, "
            f"from new weights, with Adam (lr {TINY_LR:g})."
        ),
        answers=answers,
        plot=PlotSpec(title="loss and accuracy", x_label="step", y_label="loss / accuracy"),
    )


def _thin(ys: list[float], limit: int = 500) -> dict[str, list[float]]:
    """At most about `limit` points of a curve against its step, always keeping the last."""
    index = list(range(0, len(ys), max(1, math.ceil(len(ys) / limit))))
    if index[-1] != len(ys) - 1:
        index.append(len(ys) - 1)
    return {"x": [float(i) for i in index], "y": floats(ys[i] for i in index)}


def _initial_claim(initial: float, classes: int, top: float, scale: float) -> Claim:
    ln_c = math.log(classes)
    off = initial / ln_c - 1
    # The loss is the mean of -ln p(correct class): exp(-loss) is that probability's
    # geometric mean over the examples.
    meaning = (
        f"the correct class gets a probability of {fmt(math.exp(-initial))} on (geometric) "
        f"average where a uniform start gives 1/{classes}, and the top class averages "
        f"{fmt(top)}"
    )
    return Claim.experiment(
        f"The starting loss ({fmt(initial)}) is within {INIT_TOL:.0%} of ln C = ln {classes} "
        f"= {fmt(ln_c)} ({abs(off):.1%} {'above' if off >= 0 else 'below'} it)",
        abs(off) <= INIT_TOL,
        lesson=(
            f"The starting loss {fmt(initial)} is close to ln {classes} = {fmt(ln_c)}: the net "
            f"starts without confident guesses (its top class averages probability {fmt(top)}, "
            f"where a uniform start gives 1/{classes}), as a sound set-up should."
        ),
        otherwise=(
            f"The set-up is not sound: the starting loss {fmt(initial)} is "
            f"{fmt(initial / ln_c)} times ln {classes} = {fmt(ln_c)}, so {meaning} (output "
            f"weights scaled by {scale:g})."
        ),
    )


def _memorize_claim(n: int, steps: int, loss: float, accuracy: float) -> Claim:
    return Claim.experiment(
        f"{n} examples are memorized: after {steps} Adam steps the accuracy on them is "
        f"{accuracy:.0%} and the loss {fmt(loss)} (100% and at most {MEMORIZED_LOSS:g} needed)",
        accuracy == 1.0 and loss <= MEMORIZED_LOSS,
        lesson=(
            f"The net drives {n} examples to loss {fmt(loss)} and 100% accuracy in {steps} "
            f"steps: it can fit data, so the overfitting check passes."
        ),
        otherwise=(
            f"The overfitting check fails: after {steps} Adam steps the {n} examples are still "
            f"at loss {fmt(loss)} and {accuracy:.0%} accuracy, and a set-up should memorize a "
            f"handful of examples before a long run is worth starting."
        ),
    )


def _flat_claim(
    accuracy: list[float], target: float, reach: int | None, drop: float, steps: int
) -> Claim:
    if reach is None:
        return Claim.experiment(
            f"When the accuracy first reaches {target:.1%}, the loss has fallen by less than "
            f"{FLAT:.0%}: it never reaches {target:.1%} in {steps} steps",
            False,
            lesson=f"The accuracy reached {target:.1%} while the loss stayed nearly flat.",
            otherwise=(
                f"The accuracy never reached {target:.1%} in {steps} steps (it ended at "
                f"{accuracy[-1]:.1%}), so this run cannot show accuracy leaping under a flat loss."
            ),
        )
    return Claim.experiment(
        f"When the accuracy first reaches {target:.1%} (step {reach}, from {accuracy[0]:.1%}), "
        f"the loss has fallen {drop:.1%} (less than {FLAT:.0%})",
        drop < FLAT,
        lesson=(
            f"Accuracy rose from {accuracy[0]:.1%} to {target:.1%} by step {reach} while the loss "
            f"fell only {drop:.1%}: the argmax flips as soon as the right logit edges ahead, "
            f"long before the probabilities grow confident."
        ),
        otherwise=(
            f"By step {reach}, when the accuracy reached {target:.1%}, the loss had already "
            f"fallen {drop:.1%}: here loss and accuracy moved together."
        ),
    )
