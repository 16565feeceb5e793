"""Cross-entropy vs squared error on one sigmoid neuron: the learning slowdown.

A single sigmoid neuron gets input 1 and must output 0. From the default start, w = b = 2, its
output sits near 1 on the flat tail of the sigmoid: badly wrong. With the quadratic cost the
gradient on each weight is (output - target) times sigma'(z), the sigmoid's slope, which is
tiny on the tail; with cross-entropy that factor cancels and the gradient is just
(output - target), largest when the neuron is most wrong. Both costs start from the same
weights and run gradient descent at the same learning rate. The run measures how soon each
gets the output below the `escape` level, and where along the way each takes its largest step:
a neuron that learns slowest when it is most wrong is the learning slowdown. Start the neuron
off the tail (w0 = b0 = 0.5) or on the right side (w0, b0 negative) to see when there is none.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from demos._common import first_below, floats, fmt, report_every, setup
from studyapp.demo_api import (
    Answer,
    Claim,
    DemoOutput,
    DemoSpec,
    PlotSpec,
    Progress,
    Question,
    Table,
    float_param,
    int_param,
)

SLOWDOWN = 5.0  # "many times sooner": cross-entropy escapes at least this many times sooner
PLATEAU = 0.2  # MSE "starts on a plateau": its first step at most this fraction of its largest
INPUT, TARGET = 1.0, 0.0
RACE = (
    f"cross-entropy, at least {SLOWDOWN:g}x sooner",
    f"cross-entropy, but less than {SLOWDOWN:g}x sooner",
    "both at the same epoch",
    "neither within the epochs given",
    # A decoy: at the same rate MSE's gradient is sigma'(z) <= 1/4 times cross-entropy's, so
    # no setting within bounds lets it get there first.
    "MSE",
)
LARGEST = ("at the first step, when the neuron is most wrong", "at a later step")

SPEC = DemoSpec(
    id="ce_vs_mse",
    title="Cross-entropy vs squared error on a saturated neuron",
    summary="Train one saturated sigmoid neuron towards 0 with MSE and with cross-entropy.",
    topics=("cross-entropy", "cost function", "learning slowdown"),
    params=(
        float_param("w0", 2.0, -6.0, 6.0, "starting weight of the neuron"),
        float_param("b0", 2.0, -6.0, 6.0, "starting bias of the neuron"),
        float_param(
            "lr", 0.15, 1e-3, 5.0, "learning rate of gradient descent, both costs", log_scale=True
        ),
        int_param("epochs", 300, 10, 5000, "gradient steps on the single example"),
        float_param("escape", 0.5, 0.05, 0.95, "output level that counts as out of saturation"),
    ),
    tiny={"epochs": 150, "lr": 0.5},
    questions=(
        Question(
            "race",
            "At the same learning rate, which cost gets the neuron's output below the escape "
            "level first?",
            RACE,
        ),
        Question("largest", "When does MSE take its largest step on the bias?", LARGEST),
    ),
    timeout_s=30,
)


def _train(
    cost: str, params: Mapping[str, Any], report: Callable[[int, list[float]], None]
) -> tuple[list[float], list[float]]:
    """Outputs after each epoch (index 0 = before training) and the size of each step on b."""
    import torch

    w = torch.tensor(params["w0"], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(params["b0"], dtype=torch.float64, requires_grad=True)
    x = torch.tensor(INPUT, dtype=torch.float64)
    y = torch.tensor(TARGET, dtype=torch.float64)
    outputs: list[float] = []
    steps: list[float] = []
    for epoch in range(params["epochs"] + 1):
        z = w * x + b
        a = torch.sigmoid(z)
        outputs.append(a.item())
        if epoch == params["epochs"]:
            break
        if cost == "mse":
            loss = 0.5 * (a - y) ** 2
        else:
            # Written from the logit so a fully saturated neuron still gets a finite loss.
            loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
        w.grad = b.grad = None
        loss.backward()
        steps.append(abs(params["lr"] * b.grad.item()))
        report(epoch, outputs)
        with torch.no_grad():
            w -= params["lr"] * w.grad
            b -= params["lr"] * b.grad
    return outputs, steps


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    setup(seed)
    epochs = params["epochs"]
    outputs: dict[str, list[float]] = {}
    steps: dict[str, list[float]] = {}
    names = {"mse": "MSE", "ce": "cross-entropy"}
    every = report_every(2 * epochs, 25)

    def reporter(offset: int, label: str) -> Callable[[int, list[float]], None]:
        def report(epoch: int, curve: list[float]) -> None:
            if (offset + epoch + 1) % every == 0:
                progress((offset + epoch + 1) / (2 * epochs), label, {label: curve})

        return report

    for i, cost in enumerate(names):
        outputs[cost], steps[cost] = _train(cost, params, reporter(i * epochs, names[cost]))

    escape, start = params["escape"], outputs["ce"][0]
    z0 = params["w0"] * INPUT + params["b0"]
    slope = 1.0 / (1.0 + math.exp(-z0)) * (1.0 / (1.0 + math.exp(z0)))  # sigma'(z0)
    reach = {c: first_below(outputs[c], escape) for c in names}
    ratio = steps["mse"][0] / steps["ce"][0] if steps["ce"][0] else math.nan
    largest = max(range(epochs), key=lambda i: steps["mse"][i])
    claims = [
        _race_claim(params, outputs, slope),
        _plateau_claim(steps["mse"], steps["ce"], outputs["mse"], largest, slope),
        Claim.check(
            f"At the start MSE's gradient on the bias is sigma'(z) = {fmt(slope)} times "
            f"cross-entropy's: {fmt(steps['mse'][0] / params['lr'])} against "
            f"{fmt(steps['ce'][0] / params['lr'])} (ratio {fmt(ratio)})",
            math.isclose(ratio, slope, rel_tol=1e-9),
        ),
    ]
    answers = {
        "race": Answer(_race_outcome(reach["ce"], reach["mse"]), _race_why(reach, escape, epochs)),
        "largest": Answer(
            LARGEST[0] if largest == 0 else LARGEST[1],
            f"MSE's largest step on the bias, {fmt(steps['mse'][largest])}, comes at epoch "
            f"{largest + 1}; its first is {fmt(steps['mse'][0])}.",
        ),
    }
    checkpoints = sorted({0, epochs // 10, epochs // 4, epochs // 2, epochs - 1})
    rows = [
        (e, *floats([outputs["mse"][e], outputs["ce"][e], steps["mse"][e], steps["ce"][e]], 4))
        for e in checkpoints
    ]
    metrics = {"output_start": start, "gradient_ratio": ratio, "sigmoid_slope_start": slope}
    metrics |= {f"output_final_{c}": outputs[c][-1] for c in names}
    metrics |= {f"first_step_{c}": steps[c][0] for c in names}
    metrics |= {f"largest_step_{c}": max(steps[c]) for c in names}
    metrics["largest_step_epoch_mse"] = float(largest + 1)
    metrics |= {
        f"epochs_to_escape_{c}": float(epochs + 1 if r is None else r) for c, r in reach.items()
    }
    return DemoOutput(
        series={names[c]: _curve(outputs[c]) for c in names},
        table=Table.of(
            [
                "epoch",
                "output (MSE)",
                "output (cross-entropy)",
                "step on b (MSE)",
                "step on b (cross-entropy)",
            ],
            rows,
        ),
        metrics=metrics,
        claims=claims,
        setup=(
            f"Both costs start from w = {params['w0']:g}, b = {params['b0']:g} (output "
            f"{fmt(start)}, target 0) and run gradient descent on the one example at the same "
            f"learning rate, {params['lr']:g}, so they differ only in the gradient each cost gives."
        ),
        answers=answers,
        plot=PlotSpec(title="neuron output (target 0)", x_label="epoch", y_label="output"),
    )


def _race_outcome(ce: int | None, mse: int | None) -> str:
    if ce is None and mse is None:
        return RACE[3]
    if ce == mse:
        return RACE[2]
    if ce is None or (mse is not None and mse < ce):
        return RACE[4]
    return RACE[0] if mse is None or mse >= SLOWDOWN * ce else RACE[1]


def _output(a: float) -> str:
    """An output as the sentences show it: enough digits to tell 0.999994 from 1."""
    return f"{a:.6f}" if 0.999 < a < 1 else fmt(a)


def _when(reach: int | None, epochs: int) -> str:
    return f"never in {epochs} epochs" if reach is None else f"at epoch {reach}"


def _race_why(reach: Mapping[str, int | None], escape: float, epochs: int) -> str:
    def drops(k: int | None) -> str:
        if k == 0:
            return f"starts below {fmt(escape)}"
        if k is None:
            return f"stays above {fmt(escape)} for all {epochs} epochs"
        return f"gets below {fmt(escape)} at epoch {k}"

    return f"With cross-entropy the output {drops(reach['ce'])}; with MSE it {drops(reach['mse'])}."


def _race_claim(
    params: Mapping[str, Any], outputs: Mapping[str, list[float]], slope: float
) -> Claim:
    escape, epochs, lr = params["escape"], params["epochs"], params["lr"]
    start = _output(outputs["ce"][0])
    ce, mse = (first_below(outputs[c], escape) for c in ("ce", "mse"))
    if ce == 0:
        text = (
            f"At lr {lr:g} cross-entropy gets the output below {fmt(escape)} at least "
            f"{SLOWDOWN:g}x sooner than MSE: the output starts at {start}, already below"
        )
    else:
        text = (
            f"At lr {lr:g}, from output {start}, the output gets below {fmt(escape)} "
            f"{_when(ce, epochs)} with cross-entropy and {_when(mse, epochs)} with MSE (MSE at "
            f"least {SLOWDOWN:g}x later, or never)"
        )
    holds = ce is not None and ce > 0 and (mse is None or mse >= SLOWDOWN * ce)
    if ce == 0:
        otherwise = (
            f"The neuron starts at output {start}, already below {fmt(escape)}: there is no "
            f"saturation to escape."
        )
    elif ce is None:
        otherwise = (
            f"Cross-entropy does not get the output below {fmt(escape)} within {epochs} epochs "
            f"at lr {lr:g} (it ends at {_output(outputs['ce'][-1])}, MSE at "
            f"{_output(outputs['mse'][-1])}): the run is too short to race."
        )
    else:
        otherwise = (
            f"Cross-entropy gets the output below {fmt(escape)} at epoch {ce} and MSE "
            f"{_when(mse, epochs)}, less than {SLOWDOWN:g}x later; the neuron starts at output "
            f"{start}, where sigma'(z) = {fmt(slope)}."
        )
    later = (
        f"needs until epoch {mse}"
        if mse is not None
        else f"is still above it after {epochs} epochs"
    )
    return Claim.experiment(
        text,
        holds,
        lesson=(
            f"Cross-entropy gets the neuron from output {start} below {fmt(escape)} at epoch "
            f"{ce}; MSE, at the same learning rate, {later}."
        ),
        otherwise=otherwise,
    )


def _plateau_claim(
    mse: list[float], ce: list[float], outputs: list[float], largest: int, slope: float
) -> Claim:
    share = mse[0] / mse[largest] if mse[largest] else 1.0
    if share > PLATEAU and largest == len(mse) - 1:
        otherwise = (
            f"MSE's steps were still growing when the run ended: in {len(mse)} epochs its step "
            f"on the bias went from {fmt(mse[0])} to {fmt(mse[-1])} and its output only from "
            f"{_output(outputs[0])} to {_output(outputs[-1])}, so the run is too short to see "
            f"where MSE learns fastest."
        )
    else:
        otherwise = (
            f"Starting at output {_output(outputs[0])}, where sigma'(z) = {fmt(slope)}, MSE's "
            f"first step is already {share:.0%} of its largest: there is no slow start to see "
            f"here."
        )
    return Claim.experiment(
        f"MSE's first step on the bias ({fmt(mse[0])}) is at most {PLATEAU:.0%} of its largest "
        f"({fmt(mse[largest])}, epoch {largest + 1}): {share:.1%}; cross-entropy's first step "
        f"({fmt(ce[0])}) is {'its largest' if ce[0] >= max(ce) else 'not its largest'}",
        share <= PLATEAU,
        lesson=(
            f"MSE learns slowest when the neuron is most wrong: its first step is {share:.0%} of "
            f"the largest it takes later, because sigma'(z) = {fmt(slope)} on the flat tail "
            f"scales its gradient down, while cross-entropy's gradient, (output - target), is "
            f"largest at the start."
        ),
        otherwise=otherwise,
    )


def _curve(values: list[float], limit: int = 500) -> dict[str, list[float]] | list[float]:
    """The curve itself when short, else about `limit` points with their epochs as x."""
    if len(values) <= limit:
        return floats(values)
    step = -(-len(values) // limit)
    idx = list(range(0, len(values), step))
    if idx[-1] != len(values) - 1:
        idx.append(len(values) - 1)
    return {"x": floats(idx), "y": floats(values[i] for i in idx)}
