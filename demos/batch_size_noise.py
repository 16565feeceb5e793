"""Batch size: a minibatch gradient's noise, and what it buys per epoch.

At fixed weights every training example has its own gradient; the full-batch gradient is their
mean, and a minibatch gradient is the mean of B of them drawn without replacement. Its variance
around the full gradient is sigma^2 / B * (N - B) / (N - 1), where sigma^2 is the per-example
variance: four times the batch, about a quarter of the variance. The demo computes per-example
gradients of a linear regression with `torch.func`, draws many minibatches for each batch size
and checks the measured variance against that formula.

Then it races stochastic gradient descent (B = 1), minibatch descent (B = 32) and full-batch
gradient descent (B = N) on the same regression for the same number of epochs, each at the best
of nine learning rates, through a shuffled `DataLoader` whose iterations it counts: ceil(N/B)
per epoch. Small batches make many cheap, noisy updates per epoch; the full batch makes one
exact update. Which of them ends with the lowest training loss after the chosen number of
epochs, and which learning rate suits each batch size, is what the run measures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from demos._common import floats, fmt, generator, one_thread, setup
from studyapp.demo_api import (
    Answer,
    Claim,
    DemoOutput,
    DemoSpec,
    PlotSpec,
    Progress,
    Question,
    Table,
    int_param,
)

FEATURES = 20
LABEL_NOISE = 0.5  # standard deviation of the noise on the regression targets
SIGMAS = 5.0  # each measured variance within this many standard errors of the formula
SMALL = 8  # the slope is fitted over batch sizes up to N / SMALL, where (N-B)/(N-1) ~ 1
CHUNK = 4_000_000  # most numbers held at once when drawing minibatches
REPORTS = 25  # minibatch draws are made in about this many chunks, one progress report each
MINIBATCH = 32
LEARNING_RATES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
CHECKPOINTS = 10  # training loss recorded this many times per epoch (at most once per update)
DIVERGED = 1e30
PRECISION = 1e-15  # losses closer than this to the minimum are drawn at this height

WINNERS = ("SGD (B = 1)", f"minibatch (B = {MINIBATCH})", "full batch (B = N)")
VARIANCE = (
    "it falls about 4x",
    # A decoy a learner may expect from the standard deviation, which falls as 1/sqrt(B).
    "it falls about 2x",
)
FALLS = dict(zip(VARIANCE, (4.0, 2.0), strict=True))  # the factor each option stands for

SPEC = DemoSpec(
    id="batch_size_noise",
    title="Batch size: gradient noise and progress per epoch",
    summary="Minibatch gradient variance against batch size; SGD vs minibatch vs full batch.",
    topics=(
        "batch size",
        "gradient noise",
        "epochs vs iterations",
        "batch gradient descent",
        "minibatch gradient descent",
        "stochastic gradient descent",
    ),
    params=(
        int_param("points", 1000, 64, 4000, "training examples N"),
        int_param("max_batch", 256, 4, 4096, "largest batch size measured (1, 2, 4, ... to N/2)"),
        int_param("draws", 1000, 200, 5000, "minibatches drawn per batch size"),
        int_param("epochs", 2, 1, 10, "epochs of the race between batch sizes"),
    ),
    tiny={"points": 500, "max_batch": 64, "draws": 400, "epochs": 1},
    questions=(
        Question(
            "race",
            "Each at its best learning rate, which ends the chosen number of epochs with the "
            "lowest training loss?",
            WINNERS,
        ),
        Question(
            "variance",
            "At the same weights, what happens to the minibatch gradient's variance when the "
            "batch grows from 1 to 4 examples?",
            VARIANCE,
        ),
    ),
    timeout_s=60,
)


def _regression(torch: Any, n: int, seed: int) -> tuple[Any, Any]:
    g = generator(seed)
    x = torch.randn(n, FEATURES, generator=g, dtype=torch.float64)
    w_true = torch.randn(FEATURES, generator=g, dtype=torch.float64)
    y = x @ w_true + LABEL_NOISE * torch.randn(n, generator=g, dtype=torch.float64)
    return x, y


def _per_example_grads(torch: Any, x: Any, y: Any) -> Any:
    """Each example's gradient of the squared error (x.w - y)^2 at w = 0, where training starts."""
    from torch.func import grad, vmap

    def loss(weights: Any, xi: Any, yi: Any) -> Any:
        return (xi @ weights - yi) ** 2

    w = torch.zeros(FEATURES, dtype=torch.float64)
    return vmap(grad(loss), in_dims=(None, 0, 0))(w, x, y)


def _minibatch_variance(
    torch: Any, grads: Any, sizes: list[int], draws: int, seed: int, tick: Any
) -> tuple[dict[int, float], dict[int, float]]:
    """Mean squared distance of minibatch gradients from the full gradient, per batch size,
    and the standard error of each mean (it shrinks as 1/sqrt(draws)).

    Each draw is a random permutation; a batch of size B is its first B examples, so the batch
    is drawn without replacement, as a shuffled DataLoader does.
    """
    n = grads.shape[0]
    full = grads.mean(dim=0)
    g = generator(seed + 1)
    total = {b: 0.0 for b in sizes}
    squares = {b: 0.0 for b in sizes}
    fit = CHUNK // max(n, max(sizes) * grads.shape[1])
    per_chunk = max(1, min(math.ceil(draws / REPORTS), fit))
    done = 0
    while done < draws:
        count = min(per_chunk, draws - done)
        perms = torch.rand(count, n, generator=g).argsort(dim=1)
        for b in sizes:
            means = grads[perms[:, :b]].mean(dim=1)
            distance = ((means - full) ** 2).sum(dim=1)
            total[b] += float(distance.sum())
            squares[b] += float((distance**2).sum())
        done += count
        tick(done / draws)
    mean = {b: total[b] / draws for b in sizes}
    spread = {b: max(squares[b] / draws - mean[b] ** 2, 0.0) for b in sizes}
    return mean, {b: math.sqrt(spread[b] / draws) for b in sizes}


@dataclass
class _Race:
    """One batch size's run at every learning rate: excess training loss over epochs."""

    batch: int
    epochs: list[float]  # when each loss was recorded, in epochs
    excess: list[list[float]]  # per learning rate, training loss minus its minimum
    updates: int  # minibatches the DataLoader yielded

    @property
    def best(self) -> int:
        return min(range(len(LEARNING_RATES)), key=lambda i: self.excess[i][-1])

    @property
    def final(self) -> float:
        return self.excess[self.best][-1]


def _train(torch: Any, x: Any, y: Any, batch: int, epochs: int, seed: int, floor: float) -> _Race:
    """Gradient descent on the mean squared error from w = 0, one copy per learning rate,
    each minibatch drawn by a shuffled DataLoader (the same batches for every copy)."""
    from torch.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset

    data = TensorDataset(x, y)
    batches = BatchSampler(RandomSampler(data, generator=generator(seed)), batch, drop_last=False)
    loader = DataLoader(data, sampler=batches, batch_size=None)
    rates = torch.tensor(LEARNING_RATES, dtype=torch.float64)
    w = torch.zeros(FEATURES, len(rates), dtype=torch.float64)
    per_epoch = math.ceil(len(y) / batch)
    every = max(1, per_epoch // CHECKPOINTS)

    def excess() -> Any:
        loss = ((x @ w - y[:, None]) ** 2).mean(dim=0) - floor
        return loss.nan_to_num(DIVERGED, DIVERGED, DIVERGED).clamp(PRECISION, DIVERGED)

    times, curve, updates = [0.0], [excess()], 0
    for epoch in range(epochs):
        for i, (xb, yb) in enumerate(loader, start=1):
            residual = xb @ w - yb[:, None]
            w = w - rates * (2.0 * xb.T @ residual / len(yb))
            updates += 1
            if i % every == 0 or i == per_epoch:
                times.append(epoch + i / per_epoch)
                curve.append(excess())
    table = torch.stack(curve).T
    return _Race(batch, times, [floats(row) for row in table], updates)


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, _ = setup(seed, "cpu")
    with one_thread():
        return _run(torch, params, seed, progress)


def _run(torch: Any, params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    n, epochs = params["points"], params["epochs"]
    top = min(params["max_batch"], n // 2)
    sizes = [2**i for i in range(int(math.log2(top)) + 1)]
    x, y = _regression(torch, n, seed)
    grads = _per_example_grads(torch, x, y)
    sigma2 = float(((grads - grads.mean(dim=0)) ** 2).sum(dim=1).mean())

    def tick(fraction: float) -> None:
        progress(0.5 * fraction, "drawing minibatches")

    measured, error = _minibatch_variance(torch, grads, sizes, params["draws"], seed, tick)
    theory = {b: sigma2 / b * (n - b) / (n - 1) for b in sizes}

    solution = torch.linalg.lstsq(x, y.unsqueeze(1)).solution.squeeze(1)
    floor = float(((x @ solution - y) ** 2).mean())
    races: dict[str, _Race] = {}
    for i, (name, batch) in enumerate(zip(WINNERS, (1, MINIBATCH, n), strict=True)):
        races[name] = _train(torch, x, y, batch, epochs, seed + 2, floor)
        progress(0.5 + 0.5 * (i + 1) / len(WINNERS), f"training, {name}")

    small = [b for b in sizes if b <= n // SMALL]
    slope = _slope([math.log(b) for b in small], [math.log(measured[b]) for b in small])
    worst = max(abs(measured[b] / theory[b] - 1) for b in sizes)
    sigmas = max(abs(measured[b] - theory[b]) / error[b] for b in sizes)
    expected = {name: math.ceil(n / r.batch) * epochs for name, r in races.items()}
    sgd, full = races[WINNERS[0]], races[WINNERS[2]]
    winner = min(WINNERS, key=lambda name: races[name].final)
    claims = [
        _race_claim(sgd, full, epochs),
        _rate_claim(races),
        Claim.check(
            f"Variance falls as 1/B, times (N-B)/(N-1) for drawing without replacement: every "
            f"measured variance is within {SIGMAS:g} standard errors of sigma^2/B * (N-B)/(N-1) "
            f"(the farthest is {sigmas:.1f} away, a {worst:.1%} gap; log-log slope over "
            f"B = 1..{small[-1]}: {slope:.3f})",
            sigmas <= SIGMAS,
        ),
        Claim.check(
            f"The DataLoader ran ceil(N/B) x epochs iterations for each batch size (N = {n}, "
            f"{_count(epochs, 'epoch')}): "
            + ", ".join(
                f"B = {r.batch}: {r.updates} counted, {expected[name]} expected"
                for name, r in races.items()
            ),
            all(r.updates == expected[name] for name, r in races.items()),
        ),
    ]
    ratio = measured[1] / measured[4]
    answers = {
        "race": Answer(
            winner,
            f"After {_count(epochs, 'epoch')} the training loss is above its minimum by "
            f"{fmt(sgd.final)} for {WINNERS[0]}, {fmt(races[WINNERS[1]].final)} for "
            f"{WINNERS[1]} and {fmt(full.final)} for {WINNERS[2]}.",
        ),
        "variance": Answer(
            min(VARIANCE, key=lambda option: abs(math.log(ratio / FALLS[option]))),
            f"The variance is {fmt(measured[1])} at B = 1 and {fmt(measured[4])} at B = 4, "
            f"{fmt(ratio)} times smaller.",
        ),
    }
    series = {
        f"{name}, lr {LEARNING_RATES[r.best]:g}": {"x": floats(r.epochs), "y": r.excess[r.best]}
        for name, r in races.items()
    }
    metrics = {f"variance_b{b}": measured[b] for b in sizes}
    metrics |= {"sigma2": sigma2, "slope": slope, "worst_relative_gap": worst}
    metrics["worst_standard_errors"] = sigmas
    for key, r in zip(("sgd", "minibatch", "full"), races.values(), strict=True):
        metrics[f"excess_{key}"] = r.final
        metrics[f"learning_rate_{key}"] = LEARNING_RATES[r.best]
        metrics[f"iterations_{key}"] = float(r.updates)
    rows = [
        (b, fmt(measured[b]), fmt(theory[b]), math.ceil(n / b), "", "")
        for b in sizes[:: max(1, math.ceil(len(sizes) / 12))]
    ]
    rows += [
        (r.batch, "", "", math.ceil(n / r.batch), LEARNING_RATES[r.best], fmt(r.final))
        for r in races.values()
    ]
    return DemoOutput(
        series=series,
        table=Table.of(
            [
                "batch size",
                "gradient variance",
                "formula",
                "iterations/epoch",
                "best lr",
                f"loss above minimum after {epochs} epochs",
            ],
            rows,
        ),
        metrics=metrics,
        claims=claims,
        setup=(
            f"The variance is measured at the starting weights over {params['draws']} "
            f"minibatches per size. In the race each batch size starts from the same weights and "
            f"trains for {epochs} epochs at each learning rate in "
            f"{', '.join(f'{r:g}' for r in LEARNING_RATES)}, and is shown at the one with the "
            f"lowest final training loss."
        ),
        answers=answers,
        plot=PlotSpec(
            title="training loss above its minimum, each batch size at its best learning rate",
            x_label="epoch",
            y_label="loss - min loss",
            log_y=True,
        ),
    )


def _race_claim(sgd: _Race, full: _Race, epochs: int) -> Claim:
    lr_sgd, lr_full = LEARNING_RATES[sgd.best], LEARNING_RATES[full.best]
    after = f"After {_count(epochs, 'epoch')}"
    return Claim.experiment(
        f"{after}, training loss above its minimum: {fmt(sgd.final)} for SGD with B = 1 "
        f"(lr {lr_sgd:g}), {fmt(full.final)} for full-batch descent (lr {lr_full:g}); SGD lower",
        sgd.final < full.final,
        lesson=(
            f"Per epoch, small batches get further: in {_count(epochs, 'epoch')} SGD made "
            f"{_count(sgd.updates, 'noisy update')} and got to {fmt(sgd.final)} above the "
            f"minimum, while full-batch descent made {_count(full.updates, 'exact update')} and "
            f"is still {fmt(full.final)} above it."
        ),
        otherwise=(
            f"{after} full-batch descent ({_count(full.updates, 'exact update')}) is "
            f"{fmt(full.final)} above the minimum, below SGD's {fmt(sgd.final)} after "
            f"{_count(sgd.updates, 'noisy update')}: with this many epochs the exact gradient "
            f"wins."
        ),
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _rate_claim(races: Mapping[str, _Race]) -> Claim:
    rates = [LEARNING_RATES[r.best] for r in races.values()]
    listed = ", ".join(
        f"{rate:g} for B = {r.batch}" for rate, r in zip(rates, races.values(), strict=True)
    )
    return Claim.experiment(
        f"The best learning rate grows with the batch size: {listed}",
        rates[0] < rates[1] < rates[2],
        lesson=(
            f"Each batch size needs its own learning rate ({listed}): the less noisy the "
            f"gradient, the longer the step it can take, so a larger batch calls for a larger "
            f"rate."
        ),
        otherwise=(
            f"Here the best learning rates do not grow with the batch size ({listed}), so one "
            f"rate can serve more than one of them."
        ),
    )


def _slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys against xs."""
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((a - mx) * (b - my) for a, b in zip(xs, ys, strict=True)) / sum(
        (a - mx) ** 2 for a in xs
    )
