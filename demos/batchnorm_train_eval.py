"""Batch norm in train mode vs eval mode, with small batches.

In train mode a BatchNorm layer normalizes each unit with the mean and variance of the current
batch and updates running averages of them; in eval mode it uses those running averages, so a
sample's output no longer depends on the other samples in its batch. With a batch of a few
samples the batch statistics are noisy estimates of the data's.

An MLP with two BatchNorm layers learns to classify four Gaussian blobs in 8 dimensions. The
same network, from the same initial weights, is trained twice for the same number of epochs:
with batches of `batch` samples and with batches of 64, each with SGD (momentum 0.9) at a
learning rate proportional to its batch size (the linear scaling rule, Goyal et al. 2017).
Both are scored on held-out data in eval mode, in train mode on held-out batches of their own
batch size, and in eval mode with the running statistics replaced by the training set's exact
ones, which shows how well the running averages (weighted by `momentum`, PyTorch's
convention: new = (1 - momentum) x old + momentum x batch) stood in for them.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
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
    choice_param,
    device_param,
    float_param,
    int_param,
)

DIMS, CLASSES, WIDTH = 8, 4, 32
SEPARATION = 2.5  # spread of the class centres, in units of the blobs' standard deviation
POINTS, HELD_OUT = 256, 2000
CURVE_SAMPLES = 512  # held-out points scored after every epoch
LARGE = 64  # the batch size the small batches are compared with
MOMENTUM_SGD = 0.9
MODE_GAP = 0.05  # train- and eval-mode accuracies this far apart differ
BATCH_GAP = 0.03  # "worse" in eval mode = at least this much lower accuracy
STATS_GAP = 0.02  # running statistics "do as well" as exact ones = within this accuracy
CURVE_POINTS = 300

MODE_OPTIONS = (
    "lower in train mode, by 0.05 or more",
    "within 0.05 of each other",
    "higher in train mode, by 0.05 or more",
)
BATCH_OPTIONS = ("worse, by more than 0.03", "within 0.03 of it, or better")

SPEC = DemoSpec(
    id="batchnorm_train_eval",
    title="Batch norm: train-mode vs eval-mode statistics with small batches",
    summary=(
        "Train the same BatchNorm MLP with tiny and with large batches and score both in train "
        "mode (batch statistics) and eval mode (running averages)."
    ),
    topics=(
        "batch normalization",
        "batch norm at test time",
        "running mean and variance",
        "batch size",
        "train vs eval mode",
    ),
    params=(
        int_param("batch", 4, 2, 32, "batch size of the small-batch model"),
        float_param(
            "momentum",
            0.1,
            0.001,
            1.0,
            "BatchNorm momentum: the weight of each new batch in the running averages",
            log_scale=True,
        ),
        float_param(
            "lr",
            0.2,
            0.01,
            1.0,
            "SGD learning rate for batches of 64; a batch of B samples uses lr x B / 64",
            log_scale=True,
        ),
        int_param("epochs", 8, 1, 30, "passes over the training set, the same for both models"),
        choice_param(
            "view",
            "accuracy",
            ("accuracy", "statistics"),
            "plot held-out accuracy per epoch, or one unit's batch mean and running mean at "
            "every step of the small-batch model",
        ),
        device_param(),
    ),
    tiny={"epochs": 4},
    timeout_s=60,
    questions=(
        Question(
            "modes",
            "For the model trained with small batches, how does its held-out accuracy in train "
            "mode (statistics of each batch) compare with eval mode (running averages)?",
            MODE_OPTIONS,
        ),
        Question(
            "batch",
            "In eval mode, how does the model trained with small batches do on held-out data "
            "compared with the one trained with batches of 64?",
            BATCH_OPTIONS,
        ),
    ),
)


def _blobs(torch: Any, gen: Any, points: int, centres: Any) -> tuple[Any, Any]:
    y = torch.randint(0, CLASSES, (points,), generator=gen)
    return centres[y] + torch.randn(points, DIMS, generator=gen), y


def _build(torch: Any, seed: int, momentum: float) -> Any:
    nn = torch.nn
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(DIMS, WIDTH),
        nn.BatchNorm1d(WIDTH, momentum=momentum),
        nn.ReLU(),
        nn.Linear(WIDTH, WIDTH),
        nn.BatchNorm1d(WIDTH, momentum=momentum),
        nn.ReLU(),
        nn.Linear(WIDTH, CLASSES),
    )


def _norms(torch: Any, model: Any) -> list[Any]:
    return [m for m in model if isinstance(m, torch.nn.BatchNorm1d)]


def _accuracy(torch: Any, model: Any, x: Any, y: Any, batch: int | None = None) -> float:
    """Held-out accuracy in eval mode, or in train mode on consecutive batches of `batch`.

    Train mode runs on a copy, so the model's running statistics stay as training left them.
    """
    with torch.no_grad():
        if batch is None:
            model.eval()
            logits = model(x)
        else:
            scratch = copy.deepcopy(model).train()
            usable = len(x) - len(x) % batch
            logits = torch.cat([scratch(x[i : i + batch]) for i in range(0, usable, batch)])
            y = y[:usable]
    return (logits.argmax(1) == y).float().mean().item()


def _with_exact_statistics(torch: Any, model: Any, x: Any) -> Any:
    """A copy whose BN layers hold the exact mean and variance of `x` at the final weights."""
    exact = copy.deepcopy(model)
    for norm in _norms(torch, exact):
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average: after one batch, that batch's statistics
    exact.train()
    with torch.no_grad():
        exact(x)
    return exact.eval()


def _train(
    torch: Any,
    model: Any,
    data: Mapping[str, Any],
    batch: int,
    params: Mapping[str, Any],
    gen: Any,
    tick: Callable[[], None],
) -> dict[str, Any]:
    """SGD with momentum at lr x batch / 64; held-out accuracy in both modes after every epoch."""
    x, y = data["x"], data["y"]
    opt = torch.optim.SGD(
        model.parameters(), lr=params["lr"] * batch / LARGE, momentum=MOMENTUM_SGD
    )
    first = _norms(torch, model)[0]
    trace: dict[str, list[float]] = {"batch mean": [], "running mean": []}

    def record(module: Any, inputs: tuple[Any, ...], output: Any) -> None:
        trace["batch mean"].append(inputs[0][:, 0].mean().item())

    curves: dict[str, list[float]] = {"eval mode": [], "train mode": []}
    steps = 0
    for _ in range(params["epochs"]):
        order = torch.randperm(len(x), generator=gen).to(x.device)
        model.train()
        hook = first.register_forward_hook(record)
        # A last batch of fewer samples is dropped: BN needs at least 2, and every batch has
        # the same size.
        for start in range(0, len(x) - batch + 1, batch):
            idx = order[start : start + batch]
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            trace["running mean"].append(first.running_mean[0].item())
            steps += 1
            tick()
        hook.remove()
        xc, yc = data["x_curve"], data["y_curve"]
        curves["eval mode"].append(_accuracy(torch, model, xc, yc))
        curves["train mode"].append(_accuracy(torch, model, xc, yc, batch))
    return {"curves": curves, "trace": trace, "steps": steps}


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    gen = generator(seed)
    centres = SEPARATION * torch.randn(CLASSES, DIMS, generator=gen)
    x, y = _blobs(torch, gen, POINTS, centres)
    x_test, y_test = _blobs(torch, gen, HELD_OUT, centres)
    data = {
        "x": x.to(device),
        "y": y.to(device),
        "x_test": x_test.to(device),
        "y_test": y_test.to(device),
        "x_curve": x_test[:CURVE_SAMPLES].to(device),
        "y_curve": y_test[:CURVE_SAMPLES].to(device),
    }
    small = params["batch"]
    total = params["epochs"] * (POINTS // small + POINTS // LARGE)
    tick = Ticker(progress, total, "training")
    stream = gen.get_state()
    models: dict[int, Any] = {}
    runs: dict[int, dict[str, Any]] = {}
    for batch in (small, LARGE):
        model = _build(torch, seed, params["momentum"]).to(device)
        gen.set_state(stream)
        runs[batch] = _train(torch, model, data, batch, params, gen, tick)
        models[batch] = model
    scores = {
        batch: {
            "eval": _accuracy(torch, model, data["x_test"], data["y_test"]),
            "train": _accuracy(torch, model, data["x_test"], data["y_test"], batch),
            "exact": _accuracy(
                torch,
                _with_exact_statistics(torch, model, data["x"]),
                data["x_test"],
                data["y_test"],
            ),
        }
        for batch, model in models.items()
    }
    drift = _running_error(torch, models[small], data["x"])
    checks = _checks(torch, models[small], data, small, params["momentum"])
    return _report(params, scores, runs, drift, checks)


def _running_error(torch: Any, model: Any, x: Any) -> float:
    """How far the first BN layer's running mean is from the training set's exact mean.

    Averaged over units, in units of each unit's exact standard deviation.
    """
    exact = _norms(torch, _with_exact_statistics(torch, model, x))[0]
    running = _norms(torch, model)[0]
    error = (running.running_mean - exact.running_mean).abs() / exact.running_var.sqrt()
    return error.mean().item()


def _relative(a: Any, b: Any) -> float:
    """Largest difference between two tensors, relative to the largest entry of `b`."""
    return (a - b).abs().max().item() / max(b.abs().max().item(), 1e-30)


def _checks(
    torch: Any, model: Any, data: Mapping[str, Any], batch: int, momentum: float
) -> dict[str, float]:
    """Numbers behind the checks, on the small-batch model after training."""
    x = data["x_test"]
    sample = x[:1]
    partners = (x[1:batch], x[batch : 2 * batch - 1])  # two different sets of batch-mates
    out: dict[str, float] = {}
    with torch.no_grad():
        for mode in ("eval", "train"):
            net = copy.deepcopy(model).train(mode == "train")
            first, second = (net(torch.cat([sample, p]))[0] for p in partners)
            out[f"partner_effect_{mode}"] = (first - second).abs().max().item()
        net = copy.deepcopy(model).train()
        norm = _norms(torch, net)[0]
        old_mean, old_var = norm.running_mean.clone(), norm.running_var.clone()
        inputs = net[0](x[:batch])
        output = norm(inputs)
        mean = inputs.mean(dim=0)
        normalized = (inputs - mean) / (inputs.var(dim=0, unbiased=False) + norm.eps).sqrt()
        expected = normalized * norm.weight + norm.bias
        var = inputs.var(dim=0, unbiased=True)
        new_mean = (1 - momentum) * old_mean + momentum * mean
        new_var = (1 - momentum) * old_var + momentum * var
        update = max(_relative(norm.running_mean, new_mean), _relative(norm.running_var, new_var))
    out["normalize_error"] = (output - expected).abs().max().item() / expected.abs().max().item()
    out["median_abs_normalized"] = normalized.abs().median().item()
    out["update_error"] = update
    return out


def _report(
    params: Mapping[str, Any],
    scores: Mapping[int, Mapping[str, float]],
    runs: Mapping[int, Mapping[str, Any]],
    drift: float,
    checks: Mapping[str, float],
) -> DemoOutput:
    b, m = params["batch"], params["momentum"]
    s, big = scores[b], scores[LARGE]
    mode_gap = s["eval"] - s["train"]
    modes = (
        MODE_OPTIONS[0]
        if mode_gap >= MODE_GAP
        else MODE_OPTIONS[2]
        if mode_gap <= -MODE_GAP
        else MODE_OPTIONS[1]
    )
    worse = s["eval"] < big["eval"] - BATCH_GAP
    steps = runs[b]["steps"]
    claims = [
        _modes_claim(b, s, big, modes),
        _batch_claim(b, s, big, worse),
        _momentum_claim(b, m, s, drift, steps),
        Claim.check(
            f"In eval mode a held-out sample's output does not depend on the other samples in "
            f"its batch (changing them moves it by {fmt(checks['partner_effect_eval'])}); in "
            f"train mode it does (by {fmt(checks['partner_effect_train'])})",
            checks["partner_effect_eval"] < 1e-5 and checks["partner_effect_train"] > 1e-4,
        ),
        Claim.check(
            f"In train mode BN normalizes each unit with the statistics of its batch of {b}: "
            f"(x - batch mean) / √(batch variance + eps) x γ + β (largest relative deviation "
            f"{fmt(checks['normalize_error'])})"
            + (
                "; with 2 samples a unit's two normalized values are ±d/√(d² + eps) for their "
                "half-difference d, so ±1 unless the two nearly coincide (median |value| "
                f"{fmt(checks['median_abs_normalized'])})"
                if b == 2
                else ""
            ),
            checks["normalize_error"] < 1e-4,
        ),
        Claim.check(
            f"One train-mode batch updates the running averages as new = (1 - {m:g}) x old + "
            f"{m:g} x batch statistic, with the unbiased variance (largest relative deviation "
            f"{fmt(checks['update_error'])})",
            checks["update_error"] < 1e-4,
        ),
    ]
    answers = {
        "modes": Answer(
            modes,
            f"Held-out accuracy of the batch-{b} model: {s['train']:.3f} in train mode, "
            f"{s['eval']:.3f} in eval mode.",
        ),
        "batch": Answer(
            BATCH_OPTIONS[0] if worse else BATCH_OPTIONS[1],
            f"Held-out accuracy in eval mode: {s['eval']:.3f} with batches of {b}, "
            f"{big['eval']:.3f} with batches of {LARGE}.",
        ),
    }
    return DemoOutput(
        series=_series(params, runs),
        table=_table(params, scores),
        metrics=_metrics(params, scores, drift, checks),
        claims=claims,
        plot=(
            PlotSpec(
                title="held-out accuracy after each epoch", x_label="epoch", y_label="accuracy"
            )
            if params["view"] == "accuracy"
            else PlotSpec(
                title=f"unit 1 of the first BN layer, batches of {b}",
                x_label="SGD step",
                y_label="mean of the unit's input",
            )
        ),
        setup=(
            f"Both models start from the same weights and see the {POINTS} training points "
            f"{params['epochs']} times with SGD (momentum {MOMENTUM_SGD:g}) at lr "
            f"{params['lr']:g} x batch / {LARGE}: {fmt(params['lr'] * b / LARGE)} for batches "
            f"of {b}, {params['lr']:g} for batches of {LARGE}; BN momentum {m:g} in both."
        ),
        answers=answers,
    )


def _modes_claim(b: int, s: Mapping[str, float], big: Mapping[str, float], modes: str) -> Claim:
    large = (
        f"(batches of {LARGE}: {big['train']:.3f} in train mode, {big['eval']:.3f} in eval mode)"
    )
    if modes == MODE_OPTIONS[1]:
        otherwise = (
            f"Trained with batches of {b}, the model scores {s['train']:.3f} in train mode and "
            f"{s['eval']:.3f} in eval mode: less than {MODE_GAP:g} apart {large}."
        )
    else:
        otherwise = (
            f"Trained with batches of {b}, the model scores {s['train']:.3f} in train mode, "
            f"higher than {s['eval']:.3f} in eval mode with its running averages "
            f"({s['exact']:.3f} with the training set's exact statistics) {large}."
        )
    return Claim.experiment(
        f"Trained with batches of {b}, the model's held-out accuracy in train mode, on "
        f"held-out batches of {b} ({s['train']:.3f}), is at least {MODE_GAP:g} below its "
        f"accuracy in eval mode ({s['eval']:.3f})",
        modes == MODE_OPTIONS[0],
        lesson=(
            f"The same trained weights score {s['train']:.3f} on held-out data when BN uses the "
            f"statistics of each batch of {b} (train mode) and {s['eval']:.3f} with its running "
            f"averages (eval mode): the mean and variance of {b} samples are noisy, so in train "
            f"mode each prediction depends on which samples share its batch {large}."
        ),
        otherwise=otherwise,
    )


def _batch_claim(b: int, s: Mapping[str, float], big: Mapping[str, float], worse: bool) -> Claim:
    exact = f"{s['exact']:.3f} with the training set's exact statistics"
    if s["exact"] >= big["eval"] - 0.01:
        blame = "so its running averages are what fall short"
    elif s["exact"] <= s["eval"] + 0.01:
        blame = "the exact statistics do no better, so its weights fall short"
    else:
        blame = "so both its weights and its running averages fall short"
    return Claim.experiment(
        f"In eval mode the batch-{b} model's held-out accuracy ({s['eval']:.3f}) is at most "
        f"{BATCH_GAP:g} below the batch-{LARGE} model's ({big['eval']:.3f})",
        not worse,
        lesson=(
            f"In eval mode the batch-{b} model reaches {s['eval']:.3f} on held-out data against "
            f"{big['eval']:.3f} for the batch-{LARGE} model ({exact}): at test time the running "
            f"averages stand in for the noisy statistics of {b}-sample batches."
        ),
        otherwise=(
            f"In eval mode the batch-{b} model reaches only {s['eval']:.3f} on held-out data "
            f"against {big['eval']:.3f} for the batch-{LARGE} model, and {exact}: {blame}."
        ),
    )


def _momentum_claim(b: int, m: float, s: Mapping[str, float], drift: float, steps: int) -> Claim:
    window = 1 / m
    span = f"about {window:.0f} batches" if window >= 1.5 else "about 1 batch"
    if window >= steps:
        span += (
            f", more than the {steps} steps of training: their starting values (mean 0, "
            f"variance 1) still carry a weight of {(1 - m) ** steps:.2f}"
        )
    measured = (
        f"eval mode with them scores {s['eval']:.3f}, against {s['exact']:.3f} with the "
        f"training set's exact statistics; their mean is {fmt(drift)} standard deviations off "
        f"on average"
    )
    if window < 4:
        otherwise = (
            f"With momentum {m:g} the running averages cover {span}, each of {b} samples; "
            f"{measured}."
        )
    else:
        otherwise = f"With momentum {m:g} the running averages cover {span}; {measured}."
    return Claim.experiment(
        f"With momentum {m:g} the batch-{b} model's running averages give a held-out accuracy "
        f"({s['eval']:.3f}) within {STATS_GAP:g} of the training set's exact statistics "
        f"({s['exact']:.3f})",
        s["eval"] >= s["exact"] - STATS_GAP,
        lesson=(
            f"With momentum {m:g} the running averages cover {span}; {measured}: close enough "
            f"to stand in for the exact statistics."
        ),
        otherwise=otherwise,
    )


def _thin(values: list[float]) -> dict[str, list[float]]:
    stride = max(1, math.ceil(len(values) / CURVE_POINTS))
    xs = list(range(0, len(values), stride))
    return {"x": [float(i + 1) for i in xs], "y": floats(values[i] for i in xs)}


def _series(params: Mapping[str, Any], runs: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
    if params["view"] == "statistics":
        trace = runs[params["batch"]]["trace"]
        return {name: _thin(values) for name, values in trace.items()}
    series: dict[str, Any] = {}
    epochs = [float(e + 1) for e in range(params["epochs"])]
    for batch, result in runs.items():
        for mode, values in result["curves"].items():
            series[f"batch {batch}, {mode}"] = {"x": epochs, "y": floats(values)}
    return series


def _table(params: Mapping[str, Any], scores: Mapping[int, Mapping[str, float]]) -> Table:
    rows = [
        (
            batch,
            round(s["train"], 3),
            round(s["eval"], 3),
            round(s["exact"], 3),
        )
        for batch, s in scores.items()
    ]
    return Table.of(
        [
            "trained with batch",
            "train mode (own batch size)",
            "eval mode (running averages)",
            "eval mode (exact statistics)",
        ],
        rows,
    )


def _metrics(
    params: Mapping[str, Any],
    scores: Mapping[int, Mapping[str, float]],
    drift: float,
    checks: Mapping[str, float],
) -> dict[str, float]:
    metrics: dict[str, float] = {"running_mean_error_small": drift, **checks}
    for batch, name in ((params["batch"], "small"), (LARGE, "large")):
        for mode, value in scores[batch].items():
            metrics[f"accuracy_{name}_{mode}"] = value
    return metrics
