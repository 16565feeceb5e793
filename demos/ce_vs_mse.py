"""Cross-entropy vs squared error on one saturated sigmoid neuron: the learning slowdown.

A single sigmoid neuron gets input 1 and must output 0, starting from w = b = 2 so that its
output sits near 1 on the flat tail of the sigmoid. With the quadratic cost the gradient carries
a factor sigma'(z), which is tiny there, so the neuron crawls for many epochs before it learns.
With cross-entropy that factor cancels: the gradient is just (output - target), largest when
the neuron is most wrong, and the output drops at once. Both runs use the same start and rate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from demos._common import first_below, floats, fmt, report_every, setup
from studyapp.demo_api import (
    Claim,
    DemoOutput,
    DemoSpec,
    PlotSpec,
    Progress,
    Table,
    float_param,
    int_param,
)

SPEC = DemoSpec(
    id="ce_vs_mse",
    title="Cross-entropy vs squared error on a saturated neuron",
    summary="Train one saturated sigmoid neuron towards 0 with MSE and with cross-entropy.",
    topics=("cross-entropy", "cost function", "learning slowdown"),
    params=(
        float_param("w0", 2.0, -6.0, 6.0, "starting weight of the neuron"),
        float_param("b0", 2.0, -6.0, 6.0, "starting bias of the neuron"),
        float_param("lr", 0.15, 1e-3, 5.0, "learning rate of gradient descent", log_scale=True),
        int_param("epochs", 300, 10, 5000, "gradient steps on the single example"),
        float_param("escape", 0.5, 0.05, 0.95, "output level that counts as out of saturation"),
    ),
    tiny={"epochs": 120},
    timeout_s=30,
)

SLOWDOWN = 5.0  # MSE must take at least this many times as many epochs to escape
GRAD_GAP = 10.0  # and start with a gradient at least this many times smaller
INPUT, TARGET = 1.0, 0.0


def _train(
    cost: str, params: Mapping[str, Any], report: Callable[[int, list[float]], None]
) -> tuple[list[float], float]:
    """Outputs after each epoch (index 0 = before training) and the first gradient on b."""
    import torch

    w = torch.tensor(params["w0"], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(params["b0"], dtype=torch.float64, requires_grad=True)
    x = torch.tensor(INPUT, dtype=torch.float64)
    y = torch.tensor(TARGET, dtype=torch.float64)
    outputs: list[float] = []
    first_grad = 0.0
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
        if epoch == 0:
            first_grad = b.grad.item()
        report(epoch, outputs)
        with torch.no_grad():
            w -= params["lr"] * w.grad
            b -= params["lr"] * b.grad
    return outputs, first_grad


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    setup(seed)
    epochs = params["epochs"]
    outputs: dict[str, list[float]] = {}
    grads: dict[str, float] = {}
    names = {"mse": "MSE", "ce": "cross-entropy"}
    every = report_every(2 * epochs, 25)

    def reporter(offset: int, label: str) -> Callable[[int, list[float]], None]:
        def report(epoch: int, curve: list[float]) -> None:
            if (offset + epoch + 1) % every == 0:
                progress((offset + epoch + 1) / (2 * epochs), label, {label: curve})

        return report

    for i, cost in enumerate(names):
        outputs[cost], grads[cost] = _train(cost, params, reporter(i * epochs, names[cost]))

    escape = params["escape"]
    reach = {c: first_below(outputs[c], escape) for c in names}
    start = outputs["ce"][0]
    ratio = abs(grads["mse"]) / abs(grads["ce"]) if grads["ce"] else 1.0

    ce_reach, mse_reach = reach["ce"], reach["mse"]
    mse_text = (
        f"is still above it after {epochs} epochs"
        if mse_reach is None
        else f"gets there at epoch {mse_reach}"
    )
    ce_text = f"at epoch {ce_reach}" if ce_reach is not None else f"not in {epochs} epochs"
    ce_fast = ce_reach is not None and ce_reach > 0
    crawls = ce_fast and (mse_reach is None or mse_reach >= SLOWDOWN * ce_reach)
    claims = [
        Claim(
            f"Cross-entropy brings the output from {fmt(start)} below {fmt(escape)} "
            f"{ce_text}; MSE {mse_text} (needs at least {SLOWDOWN:g}x later or never)",
            crawls,
        ),
        Claim(
            f"At the start MSE's gradient on the bias ({fmt(grads['mse'])}) is "
            f"{fmt(ratio)} times cross-entropy's ({fmt(grads['ce'])}), at most "
            f"1/{GRAD_GAP:g}: the saturated sigmoid's slope sigma'(z) scales it down",
            ratio <= 1 / GRAD_GAP,
        ),
    ]
    checkpoints = sorted({0, epochs // 10, epochs // 4, epochs // 2, epochs})
    rows = [(e, *floats([outputs["mse"][e], outputs["ce"][e]], 4)) for e in checkpoints]
    metrics = {"output_start": start, "gradient_ratio": ratio}
    metrics |= {f"output_final_{c}": outputs[c][-1] for c in names}
    metrics |= {f"first_grad_b_{c}": grads[c] for c in names}
    metrics |= {
        f"epochs_to_escape_{c}": float(epochs + 1 if r is None else r) for c, r in reach.items()
    }
    return DemoOutput(
        series={names[c]: _curve(outputs[c]) for c in names},
        table=Table.of(["epoch", "output (MSE)", "output (cross-entropy)"], rows),
        metrics=metrics,
        claims=claims,
        fixed_takeaway=(
            f"Cross-entropy's gradient is just (output - target), so the badly wrong neuron "
            f"drops below {fmt(escape)} {ce_text}; MSE multiplies it by sigma'(z), tiny on the "
            f"flat tail, and {mse_text}."
        ),
        plot=PlotSpec(title="neuron output (target 0)", x_label="epoch", y_label="output"),
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
