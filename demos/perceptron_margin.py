"""The perceptron on linearly separable data and on XOR.

Points in the unit disc are labelled by a hidden line through the origin, keeping only those at
least `margin` away from it. Rosenblatt's rule (on a mistake, add y * x to the weights) sweeps
the set epoch after epoch, in a new random order each time; Novikoff's theorem bounds its total
mistakes by (R/gamma)^2, where R is the largest norm and gamma the data's margin, however the
points are ordered. The run counts the mistakes against that bound and the epochs until one
goes by without a mistake. The same rule on noisy XOR clusters, given a bias input too, is
run as long; exact XOR has no separating line, and the run reports whether any epoch on the
noisy points went by without a mistake.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from demos._common import floats, fmt, generator, report_every, setup
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

LOOSE = 0.25  # the bound is "loose" when the mistakes are at most this fraction of it
BOUND = (
    # A decoy: Novikoff's theorem rules it out, whatever the data and the order.
    "more than the bound",
    "a quarter of the bound or more",
    "less than a quarter of the bound",
)
XOR = ("yes", "no")

SPEC = DemoSpec(
    id="perceptron_margin",
    title="Perceptron: the margin bound and XOR",
    summary="Run the perceptron on separable data with a margin and on XOR; count mistakes.",
    topics=("perceptron", "linear separability", "XOR"),
    params=(
        float_param("margin", 0.1, 0.02, 0.5, "smallest distance of a point from the true line"),
        int_param("points", 200, 10, 2000, "points in the separable set"),
        int_param("epochs", 50, 1, 500, "passes over each data set"),
        float_param("xor_spread", 0.3, 0.0, 1.0, "noise around the four XOR corners"),
        int_param("xor_points", 100, 4, 1000, "points in the XOR set (spread over 4 corners)"),
    ),
    tiny={"points": 60, "epochs": 20, "xor_points": 40},
    questions=(
        Question(
            "bound",
            "How many mistakes does the perceptron make on the separable set, against "
            "Novikoff's bound (R/gamma)^2?",
            BOUND,
        ),
        Question(
            "xor",
            "On the XOR points, does the perceptron ever get through an epoch without a mistake?",
            XOR,
        ),
    ),
    timeout_s=30,
)

Data = tuple[list[list[float]], list[float]]


def _separable(params: Mapping[str, Any], g: Any) -> tuple[Data, list[float]]:
    """Points of the unit disc at least `margin` from a random line through 0, and the line's
    unit normal. Features are plain lists: the perceptron visits them one at a time."""
    import torch

    angle = 2 * math.pi * torch.rand(1, generator=g, dtype=torch.float64).item()
    normal = [math.cos(angle), math.sin(angle)]
    w_star = torch.tensor(normal, dtype=torch.float64)
    kept: list[Any] = []
    n = params["points"]
    while sum(len(k) for k in kept) < n:
        r = torch.rand(4 * n, generator=g, dtype=torch.float64).sqrt()
        theta = 2 * torch.pi * torch.rand(4 * n, generator=g, dtype=torch.float64)
        x = torch.stack([r * torch.cos(theta), r * torch.sin(theta)], dim=1)
        kept.append(x[(x @ w_star).abs() >= params["margin"]])
    x = torch.cat(kept)[:n]
    y = torch.sign(x @ w_star)
    return (x.tolist(), y.tolist()), normal


def _xor(params: Mapping[str, Any], g: Any) -> Data:
    """Four noisy corners, labelled +1 where the coordinates share a sign; a bias input of 1."""
    import torch

    n = params["xor_points"]
    corner = torch.tensor([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]], dtype=torch.float64)
    idx = torch.arange(n) % 4
    x = corner[idx] + params["xor_spread"] * torch.randn(n, 2, generator=g, dtype=torch.float64)
    y = torch.where(idx < 2, 1.0, -1.0).double()
    x = torch.cat([x, torch.ones(n, 1, dtype=torch.float64)], dim=1)
    return x.tolist(), y.tolist()


def _dot(w: list[float], x: list[float]) -> float:
    return sum(a * b for a, b in zip(w, x, strict=True))


def _epoch(w: list[float], data: Data, order: list[int]) -> int:
    """One pass of Rosenblatt's rule in the given order; updates w in place, returns mistakes."""
    xs, ys = data
    mistakes = 0
    for i in order:
        x, y = xs[i], ys[i]
        if y * _dot(w, x) <= 0:
            for j, xj in enumerate(x):
                w[j] += y * xj
            mistakes += 1
    return mistakes


def _train(data: Data, epochs: int, g: Any, report: Callable[[int], None]) -> list[int]:
    """Mistakes in each epoch of Rosenblatt's rule from zero weights, visiting in random order."""
    import torch

    w = [0.0] * len(data[0][0])
    curve = []
    for e in range(epochs):
        order = torch.randperm(len(data[1]), generator=g).tolist()
        curve.append(_epoch(w, data, order))
        report(e)
    return curve


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    setup(seed)
    g = generator(seed)
    (sep, w_star), xor = _separable(params, g), _xor(params, g)
    epochs = params["epochs"]
    every = report_every(2 * epochs, 25)

    def reporter(offset: int, name: str) -> Callable[[int], None]:
        def report(e: int) -> None:
            if (offset + e + 1) % every == 0:
                progress((offset + e + 1) / (2 * epochs), name, None)

        return report

    sep_curve = _train(sep, epochs, g, reporter(0, "separable set"))
    xor_curve = _train(xor, epochs, g, reporter(epochs, "XOR"))

    radius = max(_dot(x, x) ** 0.5 for x in sep[0])
    gamma = min(y * _dot(w_star, x) for x, y in zip(*sep, strict=True))
    bound = (radius / gamma) ** 2
    total = sum(sep_curve)
    clean = next((e + 1 for e, m in enumerate(sep_curve) if m == 0), None)
    xor_min = min(xor_curve)
    cumulative = [float(sum(sep_curve[: e + 1])) for e in range(epochs)]
    share = total / bound
    xor_clean = next((e + 1 for e, m in enumerate(xor_curve) if m == 0), None)
    claims = [
        _converges_claim(sep_curve, total, clean, bound, epochs),
        _xor_claim(xor_curve, xor_clean, len(xor[1]), params["xor_spread"]),
        Claim.experiment(
            f"The bound is loose: {_n(total, 'mistake')} is under {LOOSE:.0%} of (R/gamma)^2 = "
            f"{fmt(bound)} ({share:.1%})",
            share < LOOSE,
            lesson=(
                f"Novikoff's bound is a worst case over every ordering and data set with this "
                f"margin: this run needed {_n(total, 'mistake')}, {share:.1%} of the "
                f"{fmt(bound)} it allows."
            ),
            otherwise=(
                f"Here the bound is close: {_n(total, 'mistake')} against (R/gamma)^2 = "
                f"{fmt(bound)} ({share:.0%} of it)."
            ),
        ),
        Claim.check(
            f"Novikoff's theorem: {_n(total, 'mistake')} in all on the separable set, at most "
            f"(R/gamma)^2 = ({fmt(radius)}/{fmt(gamma)})^2 = {fmt(bound)}",
            total <= bound,
        ),
    ]
    answers = {
        "bound": Answer(
            BOUND[0] if total > bound else BOUND[1] if share >= LOOSE else BOUND[2],
            f"The perceptron made {_n(total, 'mistake')}; (R/gamma)^2 = {fmt(bound)}.",
        ),
        "xor": Answer(
            XOR[0] if xor_clean is not None else XOR[1],
            f"Epoch {xor_clean} on the XOR points had no mistake."
            if xor_clean is not None
            else f"Every epoch on the XOR points ({epochs} in all) had at least "
            f"{_n(xor_min, 'mistake')}.",
        ),
    }
    rows = [
        ("separable: points", len(sep[1])),
        ("separable: R = max |x|", float(f"{radius:.4g}")),
        ("separable: gamma = min y w*.x", float(f"{gamma:.4g}")),
        ("bound (R/gamma)^2", float(f"{bound:.4g}")),
        ("separable: total mistakes", total),
        ("separable: first clean epoch", clean if clean is not None else "none"),
        ("XOR: points", len(xor[1])),
        ("XOR: fewest mistakes in an epoch", xor_min),
        ("XOR: total mistakes", sum(xor_curve)),
    ]
    metrics = {
        "radius": radius,
        "gamma": gamma,
        "bound": bound,
        "total_mistakes": float(total),
        "first_clean_epoch": float(clean if clean is not None else epochs + 1),
        "xor_min_mistakes": float(xor_min),
        "xor_total_mistakes": float(sum(xor_curve)),
    }
    return DemoOutput(
        series={
            "separable: mistakes per epoch": floats(sep_curve),
            "XOR: mistakes per epoch": floats(xor_curve),
            "separable: total mistakes so far": floats(cumulative),
            "bound (R/gamma)^2": floats([bound] * epochs),
        },
        table=Table.of(["quantity", "value"], rows),
        metrics=metrics,
        claims=claims,
        setup=(
            f"Both sets start from zero weights and are swept {_n(epochs, 'time')}, each epoch "
            f"in a new random order; the separable set has {len(sep[1])} points at least "
            f"{params['margin']:g} from the hidden line, the XOR set {len(xor[1])} points "
            f"around the four corners."
        ),
        answers=answers,
        plot=PlotSpec(title="perceptron mistakes", x_label="epoch", y_label="mistakes"),
    )


def _converges_claim(
    curve: list[int], total: int, clean: int | None, bound: float, epochs: int
) -> Claim:
    return Claim.experiment(
        f"On the separable set epoch {clean} is the first without a mistake"
        if clean is not None
        else f"On the separable set an epoch goes by without a mistake: none of {epochs} did",
        clean is not None,
        lesson=(
            f"On linearly separable data the perceptron stops making mistakes: after "
            f"{_n(total, 'mistake')} in all, epoch {clean} went by without one."
        ),
        otherwise=(
            f"In {_n(epochs, 'epoch')} the perceptron never got through the separable set "
            f"without a mistake ({curve[-1]} in the last). It has made {_n(total, 'mistake')} "
            f"so far, within the {fmt(bound)} Novikoff's bound allows, so more epochs would end "
            f"in a clean one."
        ),
    )


def _xor_claim(curve: list[int], clean: int | None, points: int, spread: float) -> Claim:
    return Claim.experiment(
        f"On XOR no epoch goes by without a mistake: the fewest in any of "
        f"{_n(len(curve), 'epoch')} is {min(curve)} (first epoch {curve[0]}, last {curve[-1]})",
        clean is None,
        lesson=(
            f"On XOR the perceptron never settles: it makes at least {_n(min(curve), 'mistake')} "
            f"in every epoch ({len(curve)} in all). No line separates XOR's four corners, and "
            f"none turned up for these {points} points around them."
        ),
        otherwise=(
            f"These {points} noisy XOR points (spread {spread:g}) happen to be separable by a "
            f"line: epoch {clean} went by without a mistake."
        ),
    )


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
