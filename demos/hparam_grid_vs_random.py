"""Grid search vs random search, and why learning rates are drawn log-uniformly.

The validation loss here is a formula: a bowl in log10 lr plus `dropout_weight` times a bowl in
dropout, so the knob sets how much the second hyperparameter matters. A k x k grid spends its
k*k trials on only k learning rates, each repeated with k dropout values; the same number of
random trials tries k*k different learning rates. The grid gets its best layout (each value at
the centre of its cell); random search draws log10 lr and dropout uniformly. Each of many
searches faces its own optimum, placed anywhere in the box, and the run compares the best loss
each method finds, on average. Which method wins depends on how much dropout matters and on
the budget, and the run reports it (Bergstra and Bengio argue for random search when the loss
depends mostly on a few of the hyperparameters). The run also draws learning rates uniformly
and log-uniformly and counts how many land in each decade of the range. Thousands of searches
take milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from demos._common import floats, fmt, generator, setup
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

DROPOUT = (0.0, 0.5)  # range of the second hyperparameter
CLEAR = 0.9  # a method "finds a lower loss" when its mean best is at most this x the other's
FAIR_SHARE = 0.1  # log-uniform "gives every decade its share": each bin within 10% of 1/bins
SHARE_DRAWS = 100_000  # learning rates drawn to measure where each way of drawing puts them
WINNERS = ("random search", "the grid", "neither: within 10% of each other")

SPEC = DemoSpec(
    id="hparam_grid_vs_random",
    title="Grid search vs random search",
    summary="A k x k grid against k*k random trials, on a loss that may depend mostly on lr.",
    topics=("grid search", "random search", "log-space sampling", "hyperparameter search cost"),
    params=(
        int_param("budget", 9, 4, 64, "trials per search (the grid uses the largest k*k within)"),
        float_param("lr_min", 1e-5, 1e-8, 1e-3, "lowest lr searched", log_scale=True),
        float_param("lr_max", 1.0, 1e-1, 10.0, "highest lr searched", log_scale=True),
        float_param(
            "dropout_weight",
            0.1,
            0.0,
            25.0,
            "how much dropout matters: loss = (log10 lr - best)^2 + this x (dropout gap / 0.5)^2",
        ),
        int_param("repeats", 2000, 20, 20000, "searches averaged, each with its own optimum"),
    ),
    tiny={"repeats": 1000},
    questions=(
        Question(
            "winner",
            "Averaged over many searches with the same number of trials, which finds the lower "
            "loss?",
            WINNERS,
        ),
    ),
    timeout_s=30,
)


def _objective(
    log_lr: Any, dropout: Any, best_log_lr: Any, best_dropout: Any, weight: float
) -> Any:
    """Validation loss above its minimum: a bowl in log10 lr plus `weight` x a bowl in dropout."""
    width = DROPOUT[1] - DROPOUT[0]
    return (log_lr - best_log_lr) ** 2 + weight * ((dropout - best_dropout) / width) ** 2


def _centres(torch: Any, lo: float, hi: float, k: int) -> Any:
    """k values at the centres of k equal cells of [lo, hi]."""
    return lo + (hi - lo) * (torch.arange(k, dtype=torch.float64) + 0.5) / k


def _grid(torch: Any, k: int, lo: float, hi: float) -> tuple[Any, Any]:
    """The k*k grid: log10 lr and dropout each at the centres of k equal cells."""
    a, b = torch.meshgrid(_centres(torch, lo, hi, k), _centres(torch, *DROPOUT, k), indexing="ij")
    return a.reshape(-1), b.reshape(-1)


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, _ = setup(seed, "cpu")
    g = generator(seed)
    lo, hi = math.log10(params["lr_min"]), math.log10(params["lr_max"])
    k = math.isqrt(params["budget"])
    n, repeats, weight = k * k, params["repeats"], params["dropout_weight"]

    def box(*shape: int) -> tuple[Any, Any]:
        """Uniform draws of log10 lr and dropout over the searched box."""
        log_lr = lo + (hi - lo) * torch.rand(*shape, generator=g, dtype=torch.float64)
        dropout = DROPOUT[0] + (DROPOUT[1] - DROPOUT[0]) * torch.rand(
            *shape, generator=g, dtype=torch.float64
        )
        return log_lr, dropout

    # Each repeat: a new optimum anywhere in the box, and a new set of random trials.
    best_lr, best_p = box(repeats, 1)
    grid_lr, grid_p = _grid(torch, k, lo, hi)
    rand_lr, rand_p = box(repeats, n)
    grid_best = _objective(grid_lr, grid_p, best_lr, best_p, weight).min(dim=1).values
    rand_best = _objective(rand_lr, rand_p, best_lr, best_p, weight).min(dim=1).values
    progress(0.5, "searches done")

    # Where uniform and log-uniform draws of lr land.
    uniform = params["lr_min"] + (params["lr_max"] - params["lr_min"]) * torch.rand(
        SHARE_DRAWS, generator=g, dtype=torch.float64
    )
    log_uniform = lo + (hi - lo) * torch.rand(SHARE_DRAWS, generator=g, dtype=torch.float64)
    bins = max(1, math.ceil(hi - lo - 1e-9))
    edges = torch.linspace(lo, hi, bins + 1, dtype=torch.float64)
    log_share = _shares(torch, log_uniform, edges)
    uni_share = _shares(torch, uniform.log10(), edges)

    grid_distinct = len(set(grid_lr.tolist()))
    rand_distinct = len(set(rand_lr[0].tolist()))
    grid_mean, rand_mean = float(grid_best.mean()), float(rand_best.mean())
    wins = float((rand_best < grid_best).double().mean())
    winner = (
        WINNERS[0]
        if rand_mean <= CLEAR * grid_mean
        else WINNERS[1]
        if grid_mean <= CLEAR * rand_mean
        else WINNERS[2]
    )
    fair = 1.0 / bins
    spans = (
        f"over the searched box the loss varies by up to {fmt((hi - lo) ** 2)} with the "
        f"learning rate and {fmt(weight)} with dropout"
    )
    claims = [
        _race_claim(winner, rand_mean, grid_mean, wins, repeats, k, spans),
        Claim.check(
            f"Random search tries {rand_distinct} distinct lr values where the {k}x{k} grid "
            f"tries {grid_distinct}",
            rand_distinct == n and grid_distinct == k,
        ),
        Claim.check(
            f"Log-uniform draws give each of the {bins} equal bins of log10 lr (about a decade "
            f"each) its share: between {min(log_share):.1%} and {max(log_share):.1%}, where "
            f"1/{bins} = {fair:.1%}; uniform draws put {uni_share[-1]:.1%} in the top bin and "
            f"{min(uni_share):.1%} in the emptiest",
            all(abs(s / fair - 1) <= FAIR_SHARE for s in log_share),
        ),
    ]
    answers = {
        "winner": Answer(
            winner,
            f"Over {repeats} searches the best loss averaged {fmt(rand_mean)} for random search "
            f"and {fmt(grid_mean)} for the grid.",
        )
    }
    first_best_lr, first_best_p = float(best_lr[0, 0]), float(best_p[0, 0])
    curve_x = torch.linspace(lo, hi, 101, dtype=torch.float64)
    curve_y = _objective(curve_x, torch.tensor(first_best_p), first_best_lr, first_best_p, weight)
    series = {
        "loss at the best dropout": {"x": floats(curve_x.tolist()), "y": floats(curve_y.tolist())},
        "grid trials": _trials(torch, grid_lr, grid_p, first_best_lr, first_best_p, weight),
        "random trials": _trials(torch, rand_lr[0], rand_p[0], first_best_lr, first_best_p, weight),
    }
    grid_first, rand_first = float(grid_best[0]), float(rand_best[0])
    metrics = {
        "grid_distinct_lr": float(grid_distinct),
        "random_distinct_lr": float(rand_distinct),
        "grid_mean_best": grid_mean,
        "random_mean_best": rand_mean,
        "random_win_rate": wins,
        "grid_best_first": grid_first,
        "random_best_first": rand_first,
        "log_uniform_min_share": min(log_share),
        "log_uniform_max_share": max(log_share),
        "uniform_min_share": min(uni_share),
        "uniform_top_share": uni_share[-1],
        "decades": float(bins),
    }
    rows = [
        ("grid", n, grid_distinct, fmt(grid_first), fmt(grid_mean)),
        ("random", n, rand_distinct, fmt(rand_first), fmt(rand_mean)),
    ]
    return DemoOutput(
        series=series,
        table=Table.of(
            ["search", "trials", "distinct lr", "best loss (first search)", f"mean of {repeats}"],
            rows,
        ),
        metrics=metrics,
        claims=claims,
        setup=(
            f"Each of {repeats} searches faces its own optimum, drawn uniformly in log10 lr and "
            f"dropout. The {k}x{k} grid puts each value at the centre of its cell, its best "
            f"layout for an optimum anywhere; the {n} random trials draw log10 lr and dropout "
            f"uniformly."
        ),
        answers=answers,
        plot=PlotSpec(
            title="the first search's trials on its loss (dropout set to its best)",
            x_label="log10 lr",
            y_label="loss above its minimum",
        ),
    )


def _race_claim(
    winner: str, rand: float, grid: float, wins: float, repeats: int, k: int, spans: str
) -> Claim:
    if winner == WINNERS[1]:
        otherwise = (
            f"Here the grid finds the lower loss on average: {fmt(grid)} against {fmt(rand)} for "
            f"random search ({spans})."
        )
    else:
        otherwise = (
            f"Neither method is clearly ahead here: over {repeats} searches random search's best "
            f"loss averaged {fmt(rand)} and the grid's {fmt(grid)} ({spans})."
        )
    return Claim.experiment(
        f"Averaged over {repeats} searches, random search's best loss ({fmt(rand)}) is at most "
        f"{CLEAR:g}x the {k}x{k} grid's ({fmt(grid)}); it wins {wins:.0%} of the searches",
        winner == WINNERS[0],
        lesson=(
            f"Random search finds the lower loss on average, {fmt(rand)} against the grid's "
            f"{fmt(grid)}: its trials try {k * k} learning rates where the grid tries {k}, and "
            f"{spans}."
        ),
        otherwise=otherwise,
    )


def _shares(torch: Any, log_values: Any, edges: Any) -> list[float]:
    """Fraction of the values in each bin between consecutive edges (last bin closed)."""
    inner = edges[1:-1].contiguous()
    index = torch.bucketize(log_values.clamp(float(edges[0]), float(edges[-1])), inner, right=True)
    counts = torch.bincount(index, minlength=len(edges) - 1).double()
    return (counts / counts.sum()).tolist()


def _trials(
    torch: Any, log_lr: Any, dropout: Any, best_lr: float, best_p: float, weight: float
) -> Any:
    """Trials as x/y points, sorted by lr, with the loss each one scored."""
    order = torch.argsort(log_lr, stable=True)
    x, p = log_lr[order], dropout[order]
    return {
        "x": floats(x.tolist()),
        "y": floats(_objective(x, p, best_lr, best_p, weight).tolist()),
    }
