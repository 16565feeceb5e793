"""Batch size and gradient noise: a minibatch gradient's variance falls as 1/B.

At fixed weights, every training example has its own gradient; the full-batch gradient is
their mean, and a minibatch gradient is the mean of B of them drawn without replacement. Its
variance around the full gradient is sigma^2 / B * (N - B) / (N - 1), where sigma^2 is the
per-example variance: four times the batch, half the noise (in standard deviation). The demo
computes per-example gradients with `torch.func`, draws many minibatches for each batch size,
and measures the variance; it also runs a shuffled `DataLoader` for a few epochs and counts the
iterations: ceil(N / B) per epoch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from demos._common import floats, fmt, generator, one_thread, setup
from studyapp.demo_api import (
    Claim,
    DemoOutput,
    DemoSpec,
    PlotSpec,
    Progress,
    Table,
    int_param,
)

FEATURES = 20
SLOPE_BAND = (-1.15, -0.85)  # "about 1/B": the log-log slope lies in this band
THEORY_TOL = 0.25  # each measured variance within this fraction of the formula
SMALL = 8  # the slope is fitted over batch sizes up to N / SMALL, where (N-B)/(N-1) ~ 1
CHUNK = 4_000_000  # most numbers held at once when drawing minibatches
REPORTS = 25  # minibatch draws are made in about this many chunks, one progress report each

SPEC = DemoSpec(
    id="batch_size_noise",
    title="Batch size and gradient noise",
    summary="Minibatch gradient variance against batch size, and iterations per epoch.",
    topics=(
        "batch size",
        "gradient noise",
        "epochs vs iterations",
        "batch gradient descent",
        "minibatch gradient descent",
        "stochastic gradient descent",
    ),
    params=(
        int_param("points", 1000, 64, 10000, "training examples N"),
        int_param("max_batch", 256, 4, 4096, "largest batch size (1, 2, 4, ... up to N/2)"),
        int_param("draws", 1000, 50, 5000, "minibatches drawn per batch size"),
        int_param("epochs", 2, 1, 5, "epochs the DataLoader runs for the iteration count"),
    ),
    tiny={"points": 500, "max_batch": 64, "draws": 400, "epochs": 1},
    timeout_s=60,
)


def _per_example_grads(torch: Any, n: int, seed: int) -> tuple[Any, Any, Any]:
    """Data and each example's gradient of a linear model's squared error, at fixed weights."""
    from torch.func import grad, vmap

    g = generator(seed)
    x = torch.randn(n, FEATURES, generator=g, dtype=torch.float64)
    w_true = torch.randn(FEATURES, generator=g, dtype=torch.float64)
    y = x @ w_true + 0.5 * torch.randn(n, generator=g, dtype=torch.float64)
    w = torch.zeros(FEATURES, dtype=torch.float64)

    def loss(weights: Any, xi: Any, yi: Any) -> Any:
        return (xi @ weights - yi) ** 2

    per_example = vmap(grad(loss), in_dims=(None, 0, 0))(w, x, y)
    return x, y, per_example


def _minibatch_variance(
    torch: Any, grads: Any, sizes: list[int], draws: int, seed: int, tick: Any
) -> dict[int, float]:
    """Mean squared distance of minibatch gradients from the full gradient, per batch size.

    Each draw is a random permutation; a batch of size B is its first B examples, so the batch
    is drawn without replacement, as a shuffled DataLoader does.
    """
    n = grads.shape[0]
    full = grads.mean(dim=0)
    g = generator(seed + 1)
    total = {b: 0.0 for b in sizes}
    fit = CHUNK // max(n, max(sizes) * grads.shape[1])
    per_chunk = max(1, min(math.ceil(draws / REPORTS), fit))
    done = 0
    while done < draws:
        count = min(per_chunk, draws - done)
        perms = torch.rand(count, n, generator=g).argsort(dim=1)
        for b in sizes:
            means = grads[perms[:, :b]].mean(dim=1)
            total[b] += float(((means - full) ** 2).sum())
        done += count
        tick(done / draws)
    return {b: total[b] / draws for b in sizes}


def _iterations(torch: Any, x: Any, y: Any, batch: int, epochs: int, seed: int) -> int:
    """Count the minibatches a shuffled DataLoader yields over `epochs` epochs.

    The sampler hands out whole index batches, so each minibatch is one tensor gather.
    """
    from torch.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset

    data = TensorDataset(x, y)
    batches = BatchSampler(RandomSampler(data, generator=generator(seed)), batch, drop_last=False)
    loader = DataLoader(data, sampler=batches, batch_size=None)
    return sum(1 for _ in range(epochs) for _ in loader)


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, _ = setup(seed, "cpu")
    with one_thread():
        return _run(torch, params, seed, progress)


def _run(torch: Any, params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    n, epochs = params["points"], params["epochs"]
    top = min(params["max_batch"], n // 2)
    sizes = [2**i for i in range(int(math.log2(top)) + 1)]
    x, y, grads = _per_example_grads(torch, n, seed)
    sigma2 = float(((grads - grads.mean(dim=0)) ** 2).sum(dim=1).mean())

    def tick(fraction: float) -> None:
        progress(0.8 * fraction, "drawing minibatches")

    measured = _minibatch_variance(torch, grads, sizes, params["draws"], seed, tick)
    theory = {b: sigma2 / b * (n - b) / (n - 1) for b in sizes}
    counts = {}
    for i, b in enumerate(sizes):
        counts[b] = _iterations(torch, x, y, b, epochs, seed)
        progress(0.8 + 0.2 * (i + 1) / len(sizes), f"DataLoader, batch {b}")
    expected = {b: math.ceil(n / b) * epochs for b in sizes}

    small = [b for b in sizes if b <= n // SMALL]
    slope = _slope([math.log(b) for b in small], [math.log(measured[b]) for b in small])
    worst = max(abs(measured[b] / theory[b] - 1) for b in sizes)
    mismatched = [b for b in sizes if counts[b] != expected[b]]
    example = sizes[-1]
    claims = [
        Claim(
            f"Variance falls about as 1/B: the log-log slope over B = 1..{small[-1]} is "
            f"{slope:.3f} (within {SLOPE_BAND[0]:g}..{SLOPE_BAND[1]:g}), and every measured "
            f"variance is within {fmt(worst * 100)}% of sigma^2/B * (N-B)/(N-1) "
            f"(at most {THEORY_TOL:.0%})",
            SLOPE_BAND[0] <= slope <= SLOPE_BAND[1] and worst <= THEORY_TOL,
        ),
        Claim(
            f"The DataLoader ran ceil(N/B) x epochs iterations for every batch size "
            f"(N = {n}, B = {example}: ceil({n}/{example}) x {epochs} = {expected[example]}, "
            f"counted {counts[example]}; B = 1: {counts[1]})",
            not mismatched,
        ),
    ]
    xs = [float(math.log2(b)) for b in sizes]
    series = {
        "measured variance": {"x": xs, "y": floats(measured[b] for b in sizes)},
        "sigma^2/B (N-B)/(N-1)": {"x": xs, "y": floats(theory[b] for b in sizes)},
    }
    metrics = {f"variance_b{b}": measured[b] for b in sizes}
    metrics |= {f"iterations_b{b}": float(counts[b]) for b in sizes}
    metrics |= {"sigma2": sigma2, "slope": slope, "worst_relative_gap": worst}
    rows = [
        (b, fmt(measured[b]), fmt(theory[b]), math.ceil(n / b), counts[b])
        for b in sizes[:: max(1, math.ceil(len(sizes) / 12))]
    ]
    return DemoOutput(
        series=series,
        table=Table.of(
            ["batch size", "variance", "formula", "iterations/epoch", f"{epochs}-epoch count"],
            rows,
        ),
        metrics=metrics,
        claims=claims,
        fixed_takeaway=(
            f"Going from B = 1 to B = {example} cut the gradient variance from "
            f"{fmt(measured[1])} to {fmt(measured[example])} (slope {slope:.2f} on log-log), "
            f"while an epoch shrank from {n} iterations to {math.ceil(n / example)}."
        ),
        plot=PlotSpec(
            title="minibatch gradient variance",
            x_label="log2 batch size",
            y_label="E|g_B - g|^2",
            log_y=True,
        ),
    )


def _slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys against xs."""
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((a - mx) * (b - my) for a, b in zip(xs, ys, strict=True)) / sum(
        (a - mx) ** 2 for a in xs
    )
