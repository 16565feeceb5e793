"""Grid search vs random search, and why learning rates are drawn log-uniformly.

The validation loss here depends mostly on the learning rate (through log10 lr) and only a
little on a second knob, dropout. A 3x3 grid spends its nine trials on only three learning
rates, each repeated three times with a different dropout that barely matters; nine random
trials try nine different learning rates, so the best of them lands closer to the optimum. Over
many repeats, with the optimum placed anywhere in the range, random search wins on average.
Drawing lr uniformly on [1e-5, 1] would put 90% of the draws in the top decade; drawing it
log-uniformly gives every decade its share. The grid is the one `torch.logspace` and
`torch.linspace` make, ends included. The objective is a formula, so thousands of searches take
milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from demos._common import floats, fmt, generator, setup
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

DROPOUT = (0.0, 0.5)  # range of the second hyperparameter
DROPOUT_WEIGHT = 0.1  # objective = (log10 lr - best)^2 + this * ((p - best_p) / 0.5)^2
BETTER = 0.7  # random search "finds a better best": its mean best is at most this x the grid's
FAIR_SHARE = 0.5  # log-uniform "covers every decade": each gets at least this x its fair share

SPEC = DemoSpec(
    id="hparam_grid_vs_random",
    title="Grid search vs random search",
    summary="A 3x3 grid against 9 random trials on a loss that depends mostly on log lr.",
    topics=("grid search", "random search", "log-space sampling", "hyperparameter search cost"),
    params=(
        int_param("budget", 9, 4, 64, "trials per search (the grid uses the largest k*k within)"),
        float_param("lr_min", 1e-5, 1e-8, 1e-2, "lowest lr searched", log_scale=True),
        float_param("lr_max", 1.0, 1e-1, 10.0, "highest lr searched", log_scale=True),
        int_param("repeats", 500, 20, 20000, "searches averaged, each with its own optimum"),
    ),
    tiny={"repeats": 200},
    timeout_s=30,
)


def _objective(log_lr: Any, dropout: Any, best_log_lr: Any, best_dropout: Any) -> Any:
    """Validation loss above its minimum: a bowl in log10 lr, nearly flat in dropout."""
    width = DROPOUT[1] - DROPOUT[0]
    return (log_lr - best_log_lr) ** 2 + DROPOUT_WEIGHT * ((dropout - best_dropout) / width) ** 2


def _grid(torch: Any, k: int, lo: float, hi: float) -> tuple[Any, Any]:
    """The k*k grid: lr log-spaced over [lo, hi] (as log10 values), dropout evenly spaced."""
    log_lr = torch.linspace(lo, hi, k, dtype=torch.float64)
    dropout = torch.linspace(*DROPOUT, k, dtype=torch.float64)
    a, b = torch.meshgrid(log_lr, dropout, indexing="ij")
    return a.reshape(-1), b.reshape(-1)


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, _ = setup(seed, "cpu")
    g = generator(seed)
    lo, hi = math.log10(params["lr_min"]), math.log10(params["lr_max"])
    k = math.isqrt(params["budget"])
    n, repeats = k * k, params["repeats"]

    # Each repeat: a new optimum anywhere in the box, and a new set of random trials.
    best_lr = lo + (hi - lo) * torch.rand(repeats, 1, generator=g, dtype=torch.float64)
    best_p = DROPOUT[0] + (DROPOUT[1] - DROPOUT[0]) * torch.rand(
        repeats, 1, generator=g, dtype=torch.float64
    )
    grid_lr, grid_p = _grid(torch, k, lo, hi)
    rand_lr = lo + (hi - lo) * torch.rand(repeats, n, generator=g, dtype=torch.float64)
    rand_p = DROPOUT[0] + (DROPOUT[1] - DROPOUT[0]) * torch.rand(
        repeats, n, generator=g, dtype=torch.float64
    )
    grid_best = _objective(grid_lr, grid_p, best_lr, best_p).min(dim=1).values
    rand_best = _objective(rand_lr, rand_p, best_lr, best_p).min(dim=1).values
    progress(0.5, "searches done")

    # Where uniform and log-uniform draws of lr land, pooled over all repeats.
    uniform = params["lr_min"] + (params["lr_max"] - params["lr_min"]) * torch.rand(
        repeats * n, generator=g, dtype=torch.float64
    )
    decades = max(1, math.ceil(hi - lo - 1e-9))
    edges = torch.linspace(lo, hi, decades + 1, dtype=torch.float64)
    log_share = _shares(torch, rand_lr.reshape(-1), edges)
    uni_share = _shares(torch, uniform.log10(), edges)

    grid_distinct = len(set(grid_lr.tolist()))
    rand_distinct = len(set(rand_lr[0].tolist()))
    grid_mean, rand_mean = float(grid_best.mean()), float(rand_best.mean())
    wins = float((rand_best < grid_best).double().mean())
    fair = 1.0 / decades
    claims = [
        Claim(
            f"Random search tries {rand_distinct} distinct lr values where the {k}x{k} grid "
            f"tries {grid_distinct}",
            rand_distinct > grid_distinct,
        ),
        Claim(
            f"Averaged over {repeats} searches, random search's best loss ({fmt(rand_mean)}) "
            f"is at most {BETTER:g}x the grid's ({fmt(grid_mean)}); it wins {wins:.0%} of them",
            rand_mean <= BETTER * grid_mean,
        ),
        Claim(
            f"Log-uniform draws cover every one of the {decades} decade-wide bins (smallest share "
            f"{min(log_share):.1%}, at least {FAIR_SHARE * fair:.1%}); uniform draws put "
            f"{uni_share[-1]:.1%} in the top bin and {min(uni_share):.1%} in the emptiest",
            min(log_share) >= FAIR_SHARE * fair,
        ),
    ]
    first_best_lr, first_best_p = float(best_lr[0, 0]), float(best_p[0, 0])
    curve_x = torch.linspace(lo, hi, 101, dtype=torch.float64)
    curve_y = _objective(curve_x, torch.tensor(first_best_p), first_best_lr, first_best_p)
    series = {
        "loss at the best dropout": {"x": floats(curve_x.tolist()), "y": floats(curve_y.tolist())},
        "grid trials": _trials(torch, grid_lr, grid_p, first_best_lr, first_best_p),
        "random trials": _trials(torch, rand_lr[0], rand_p[0], first_best_lr, first_best_p),
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
        "uniform_min_share": min(uni_share),
        "uniform_top_share": uni_share[-1],
        "decades": float(decades),
    }
    rows = [
        ("grid", n, grid_distinct, fmt(grid_first), fmt(grid_mean)),
        ("random (log-uniform)", n, rand_distinct, fmt(rand_first), fmt(rand_mean)),
    ]
    return DemoOutput(
        series=series,
        table=Table.of(
            ["search", "trials", "distinct lr", "best loss (this search)", f"mean of {repeats}"],
            rows,
        ),
        metrics=metrics,
        claims=claims,
        fixed_takeaway=(
            f"With {n} trials the grid tested {grid_distinct} learning rates and random search "
            f"{rand_distinct}; over {repeats} searches random's best averaged {fmt(rand_mean)} "
            f"against the grid's {fmt(grid_mean)}, because only lr really matters here."
        ),
        plot=PlotSpec(
            title="trials on the loss (dropout set to its best)",
            x_label="log10 lr",
            y_label="loss above its minimum",
        ),
    )


def _shares(torch: Any, log_values: Any, edges: Any) -> list[float]:
    """Fraction of the values in each bin between consecutive edges (last bin closed)."""
    inner = edges[1:-1].contiguous()
    index = torch.bucketize(log_values.clamp(float(edges[0]), float(edges[-1])), inner, right=True)
    counts = torch.bincount(index, minlength=len(edges) - 1).double()
    return (counts / counts.sum()).tolist()


def _trials(torch: Any, log_lr: Any, dropout: Any, best_lr: float, best_p: float) -> Any:
    """Trials as x/y points, sorted by lr, with the loss each one scored."""
    order = torch.argsort(log_lr, stable=True)
    x, p = log_lr[order], dropout[order]
    return {"x": floats(x.tolist()), "y": floats(_objective(x, p, best_lr, best_p).tolist())}
