"""Early stopping: keep the weights of the best validation epoch instead of the last ones.

An MLP with two tanh hidden layers (at the default width, over 4,000 weights for 20 points; its
first layer drawn 4x wider than torch's default so its units can bend sharply) learns a smooth
curve from a small set of noisy points with full-batch Adam, one step per epoch, for a fixed
number of epochs. After every epoch it is scored on a separate validation set. Early stopping
watches that score: it stops once the validation loss has not improved for `patience` epochs
and keeps the weights of its best epoch. The run trains on to the end anyway, so both sets of
weights exist, and scores each once on a third, fresh test set that neither training nor
stopping ever saw. It measures whether the kept weights beat the last ones on that test set,
whether the training loss kept falling while the validation loss rose, and whether the
patience was long enough to find the lowest validation loss of the whole run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from demos._common import floats, fmt, generator, one_thread, report_every, setup
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
    float_param,
    int_param,
)

LOW, HIGH = -2.0, 2.0
VAL_POINTS = 60
TEST_POINTS = 1000
LR = 0.01
FIRST_LAYER_SCALE = 4.0  # first-layer weights this much wider than torch's default: sharp bends
BETTER = 0.9  # "lower test error": at most this fraction of the last weights' test MSE
FELL = 0.5  # "training loss kept falling": the last epoch's at most this fraction of the best's
ROSE = 1.2  # "validation loss turned up": the last epoch's at least this multiple of the lowest
FOUND = 1.01  # "found the lowest validation loss": within 1% of the whole run's lowest
SAME = 0.05  # test errors within 5% count as the same
CURVE_POINTS = 300  # at most this many points per plotted curve

SPEC = DemoSpec(
    id="early_stopping",
    title="Early stopping",
    summary="A wide MLP on a few noisy points: stop at the best validation epoch, or train on?",
    topics=(
        "early stopping",
        "overfitting",
        "validation set",
        "training vs validation curves",
        "patience",
        "regularization",
    ),
    params=(
        float_param("noise", 0.5, 0.0, 1.5, "standard deviation of the label noise"),
        int_param(
            "patience", 100, 1, 1000, "epochs without a better validation loss before stopping"
        ),
        int_param("epochs", 1000, 50, 5000, "epochs of training (one full-batch Adam step each)"),
        int_param("width", 64, 4, 256, "hidden units in each of the two hidden layers"),
        int_param("points", 20, 10, 200, "noisy training points"),
        choice_param("view", "curves", ("curves", "fit"), "loss per epoch, or the fitted curves"),
        device_param(),
    ),
    tiny={"epochs": 400, "patience": 50},
    questions=(
        Question(
            "test",
            "On fresh test points, which weights score the lower error: those early stopping "
            "keeps, or those after all the epochs?",
            (
                "the early-stopped weights",
                "the weights after all epochs",
                "within 5% of each other",
            ),
        ),
        Question(
            "turn",
            "When does the validation loss reach its lowest point?",
            ("in the first quarter of training", "in the middle half", "in the last quarter"),
        ),
    ),
    timeout_s=120,
)


def _curve(x: Any) -> Any:
    return (2.0 * x).sin()


def _data(torch: Any, seed: int, points: int, noise: float) -> list[Any]:
    """Training, validation and test points on [-2, 2], each with its own noise draws."""
    gen = generator(seed)
    out = []
    for n in (points, VAL_POINTS, TEST_POINTS):
        x = LOW + (HIGH - LOW) * torch.rand(n, 1, generator=gen)
        out += [x, _curve(x) + noise * torch.randn(n, 1, generator=gen)]
    return out


def _net(torch: Any, width: int) -> Any:
    nn = torch.nn
    net = nn.Sequential(
        nn.Linear(1, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1)
    )
    with torch.no_grad():
        net[0].weight.mul_(FIRST_LAYER_SCALE)
        net[0].bias.mul_(FIRST_LAYER_SCALE)
    return net


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    epochs, patience = params["epochs"], params["patience"]
    x, y, x_val, y_val, x_test, y_test = (
        t.to(device) for t in _data(torch, seed, params["points"], params["noise"])
    )
    net = _net(torch, params["width"]).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=LR, foreach=True)
    both = torch.cat([x, x_val])
    n = len(x)
    train_curve, val_curve = [], []
    best_val, best_epoch, stopped_at = math.inf, 0, None
    kept: list[Any] = [p.detach().clone() for p in net.parameters()]
    every = report_every(epochs)
    # One forward pass scores the weights after `epoch` steps on both sets; the gradient
    # flows from the training points only.
    for epoch in range(epochs + 1):
        out = net(both)
        loss = ((out[:n] - y) ** 2).mean()
        val = ((out[n:].detach() - y_val) ** 2).mean().item()
        train_curve.append(loss.item())
        val_curve.append(val)
        if stopped_at is None:
            if val < best_val:
                best_val, best_epoch = val, epoch
                kept = [p.detach().clone() for p in net.parameters()]
            elif epoch - best_epoch >= patience:
                stopped_at = epoch
        if epoch == epochs:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (epoch + 1) % every == 0:
            progress((epoch + 1) / epochs, f"epoch {epoch + 1} of {epochs}")

    last = [p.detach().clone() for p in net.parameters()]
    grid = torch.linspace(LOW, HIGH, 200, device=device).unsqueeze(1)
    with torch.no_grad():
        test_last = ((net(x_test) - y_test) ** 2).mean().item()
        fit_last = net(grid).flatten()
        for p, value in zip(net.parameters(), kept, strict=True):
            p.copy_(value)
        test_kept = ((net(x_test) - y_test) ** 2).mean().item()
        fit_kept = net(grid).flatten()
        for p, value in zip(net.parameters(), last, strict=True):
            p.copy_(value)

    lowest_epoch = min(range(len(val_curve)), key=val_curve.__getitem__)
    r = {
        "epochs": epochs,
        "patience": patience,
        "best": best_epoch,
        "stop": stopped_at,
        "lowest": lowest_epoch,
        "train_best": train_curve[best_epoch],
        "train_lowest": train_curve[lowest_epoch],
        "train_last": train_curve[-1],
        "val_best": val_curve[best_epoch],
        "val_last": val_curve[-1],
        "val_lowest": val_curve[lowest_epoch],
        "test_kept": test_kept,
        "test_last": test_last,
    }
    claims = [_test_claim(r), _curves_claim(r), _patience_claim(r)]
    answers = {"test": _test_answer(r), "turn": _turn_answer(r)}

    if params["view"] == "fit":
        series: dict[str, Any] = {
            "training points": {"x": floats(x.flatten()), "y": floats(y.flatten())},
            "true curve": {"x": floats(grid.flatten()), "y": floats(_curve(grid).flatten())},
            f"early-stopped (epoch {best_epoch})": {
                "x": floats(grid.flatten()),
                "y": floats(fit_kept),
            },
            f"after all {epochs} epochs": {"x": floats(grid.flatten()), "y": floats(fit_last)},
        }
        plot = PlotSpec(title="fitted curves", x_label="x", y_label="y")
    else:
        idx = _thin(epochs + 1)
        series = {
            "training MSE": {
                "x": [float(i) for i in idx],
                "y": floats(train_curve[i] for i in idx),
            },
            "validation MSE": {
                "x": [float(i) for i in idx],
                "y": floats(val_curve[i] for i in idx),
            },
            "kept epoch": {
                "x": [float(best_epoch)] * 2,
                "y": floats([min(train_curve), max(val_curve)]),
            },
        }
        plot = PlotSpec(title="loss per epoch", x_label="epoch", y_label="MSE", log_y=True)

    stop_text = f"epoch {stopped_at}" if stopped_at is not None else "never"
    rows = [
        (
            f"early stopping (kept epoch {best_epoch}, stopped {stop_text})",
            round(r["train_best"], 4),
            round(r["val_best"], 4),
            round(test_kept, 4),
        ),
        (
            f"all {epochs} epochs",
            round(r["train_last"], 4),
            round(r["val_last"], 4),
            round(test_last, 4),
        ),
    ]
    metrics = {
        "best_epoch": float(best_epoch),
        "stop_epoch": float(stopped_at if stopped_at is not None else epochs),
        "lowest_val_epoch": float(lowest_epoch),
        "train_mse_best": r["train_best"],
        "train_mse_last": r["train_last"],
        "val_mse_best": r["val_best"],
        "val_mse_last": r["val_last"],
        "val_mse_lowest": r["val_lowest"],
        "test_mse_kept": test_kept,
        "test_mse_last": test_last,
        "noise_variance": params["noise"] ** 2,
    }
    return DemoOutput(
        series=series,
        table=Table.of(["weights", "train MSE", "validation MSE", "test MSE"], rows),
        metrics=metrics,
        claims=claims,
        plot=plot,
        setup=(
            f"{params['points']} training, {VAL_POINTS} validation and {TEST_POINTS} test points, "
            f"each set drawn separately; validation alone decides when to stop, and the test set "
            f"is scored once per set of weights, after training."
        ),
        answers=answers,
    )


def _test_claim(r: dict[str, Any]) -> Claim:
    kept, last = r["test_kept"], r["test_last"]
    text = (
        f"The weights early stopping keeps (epoch {r['best']}) score a test MSE of {fmt(kept)}, "
        f"at most {BETTER:g}x the {fmt(last)} of the weights after all {r['epochs']} epochs"
    )
    if kept >= last:
        otherwise = (
            f"The weights early stopping kept (epoch {r['best']}) did no better on the test set: "
            f"{fmt(kept)} against {fmt(last)} after all {r['epochs']} epochs."
        )
    else:
        otherwise = (
            f"Stopping early gained less than {1 - BETTER:.0%} on the test set: the kept weights "
            f"(epoch {r['best']}) score {fmt(kept)} against {fmt(last)} after all "
            f"{r['epochs']} epochs."
        )
    if r["stop"] is not None:
        saved = f", and training could have stopped at epoch {r['stop']}"
    else:
        saved = f", though patience {r['patience']} never ran out"
    return Claim.experiment(
        text,
        kept <= BETTER * last,
        lesson=(
            f"Keeping the weights of the best validation epoch ({r['best']}) generalised better: "
            f"{fmt(kept)} on fresh test points against {fmt(last)} after all {r['epochs']} "
            f"epochs{saved}."
        ),
        otherwise=otherwise,
    )


def _curves_claim(r: dict[str, Any]) -> Claim:
    low, end = r["lowest"], r["epochs"]
    train_low, train_end = r["train_lowest"], r["train_last"]
    val_low, val_end = r["val_lowest"], r["val_last"]
    text = (
        f"After epoch {low}, where the validation MSE is lowest, the training MSE keeps falling "
        f"({fmt(train_low)} to {fmt(train_end)}) while the validation MSE turns up "
        f"({fmt(val_low)} to {fmt(val_end)})"
    )
    falls = train_end <= FELL * train_low
    rises = val_end >= ROSE * val_low
    if low == end:
        otherwise = f"The validation MSE was lowest at the last epoch ({end}): it never turned up."
    elif not falls:
        otherwise = (
            f"Past epoch {low} the training MSE did not halve ({fmt(train_low)} to "
            f"{fmt(train_end)}); the validation MSE went from {fmt(val_low)} to {fmt(val_end)}."
        )
    else:
        otherwise = (
            f"Past epoch {low} the validation MSE rose by less than {ROSE - 1:.0%} "
            f"({fmt(val_low)} to {fmt(val_end)}) while the training MSE fell from "
            f"{fmt(train_low)} to {fmt(train_end)}."
        )
    return Claim.experiment(
        text,
        falls and rises,
        lesson=(
            f"Past epoch {low} more training fit the training points better (MSE "
            f"{fmt(train_low)} to {fmt(train_end)}) and new points worse (validation "
            f"{fmt(val_low)} to {fmt(val_end)})."
        ),
        otherwise=otherwise,
    )


def _patience_claim(r: dict[str, Any]) -> Claim:
    return Claim.experiment(
        f"With patience {r['patience']} the kept epoch ({r['best']}, validation MSE "
        f"{fmt(r['val_best'])}) is within 1% of the lowest validation MSE of the whole run "
        f"({fmt(r['val_lowest'])} at epoch {r['lowest']})",
        r["val_best"] <= FOUND * r["val_lowest"],
        lesson=(
            f"A patience of {r['patience']} epochs waited long enough: the kept weights have the "
            f"run's lowest validation loss."
        ),
        otherwise=(
            f"Patience {r['patience']} stopped too soon: it kept epoch {r['best']} (validation "
            f"{fmt(r['val_best'])}), but epoch {r['lowest']} later reached {fmt(r['val_lowest'])}."
        ),
    )


def _test_answer(r: dict[str, Any]) -> Answer:
    kept, last = r["test_kept"], r["test_last"]
    why = f"Test MSE: {fmt(kept)} for the early-stopped weights, {fmt(last)} after all epochs."
    if abs(kept - last) <= SAME * max(kept, last):
        return Answer("within 5% of each other", why)
    return Answer(
        "the early-stopped weights" if kept < last else "the weights after all epochs", why
    )


def _turn_answer(r: dict[str, Any]) -> Answer:
    share = r["lowest"] / r["epochs"]
    why = f"The lowest validation MSE came at epoch {r['lowest']} of {r['epochs']}."
    if share < 0.25:
        return Answer("in the first quarter of training", why)
    if share < 0.75:
        return Answer("in the middle half", why)
    return Answer("in the last quarter", why)


def _thin(count: int) -> list[int]:
    stride = max(1, math.ceil(count / CURVE_POINTS))
    idx = list(range(0, count, stride))
    return idx if idx[-1] == count - 1 else [*idx, count - 1]
