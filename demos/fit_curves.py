"""Underfitting and overfitting: training and validation error against capacity and epochs.

Polynomials of every degree from 1 up to a chosen maximum are fitted by least squares to a few
noisy samples of a smooth curve, and scored on 1,000 fresh validation points. Training error
can only fall as the degree grows (a bigger model contains the smaller one). Validation error
is what the run measures and reports: typically it falls while the model gains the flexibility
the curve needs and rises once the extra flexibility goes into the noise (a U). When the sweep
passes the degree at which the polynomial has as many coefficients as there are training
points, the least-squares fit passes through every point; past it, the run takes the
minimum-norm interpolating polynomial and reports whether validation error falls again there
(the "double descent"). A small MLP trained on the same points shows the same question over
time: whether its validation error bottoms out and climbs while training error keeps falling.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
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

STAYS, RISES, RISES_FALLS = (
    "It stays about as low (within 1.5x)",
    "It rises",
    "It rises, then falls again",
)
KEEPS_FALLING, FALLS_RISES = "It keeps falling or levels off", "It falls, then rises"

SPEC = DemoSpec(
    id="fit_curves",
    title="Underfitting and overfitting curves",
    summary="Polynomial degree sweep and MLP epochs: training vs validation error.",
    topics=(
        "overfitting",
        "underfitting",
        "training / validation curves",
        "capacity",
        "double descent",
    ),
    params=(
        int_param("degree", 15, 3, 25, "highest polynomial degree in the sweep (from 1)"),
        float_param("noise", 0.3, 0.0, 2.0, "standard deviation of the label noise"),
        int_param("points", 20, 8, 500, "noisy training points"),
        int_param("epochs", 1000, 20, 5000, "full-batch Adam epochs for the MLP"),
        int_param("width", 64, 4, 128, "hidden units in each of the MLP's two layers"),
        choice_param("view", "degree", ("degree", "epochs"), "plot error vs degree, or vs epoch"),
        device_param(),
    ),
    tiny={"epochs": 600},
    timeout_s=60,
    questions=(
        Question(
            "past_best_degree",
            "Past the degree with the lowest validation error, what does the validation error "
            "do as the degree keeps growing to the end of the sweep?",
            (STAYS, RISES, RISES_FALLS),
        ),
        Question(
            "mlp_epochs",
            "Over the MLP's training epochs, what does its validation error do?",
            (KEEPS_FALLING, FALLS_RISES),
        ),
    ),
)

_VAL_POINTS = 1000
_U_MARGIN = 1.5  # a side of the U (or the second descent) is at least this factor
_EPOCH_RISE = 1.15  # the MLP overfits when its final validation error is this much above its best
_TRAIN_FALL = 0.5  # ... while its training error falls at least to this share
_FLOOR = 1e-9  # errors below this share of degree 1's are rounding noise, not a minimum
_MONOTONE_SLACK = 1e-9
_LR = 0.02


def _curve(x: Any) -> Any:
    import torch

    return torch.sin(3.0 * x) + 0.5 * x


def _sample(torch: Any, n: int, noise: float, g: Any) -> tuple[Any, Any]:
    """n noisy points of the curve, one at a random place in each of n equal slices of
    [-1, 1] (so no stretch of the interval is left empty)."""
    slot = torch.arange(n, dtype=torch.float64) + torch.rand(n, dtype=torch.float64, generator=g)
    x = 2.0 * slot / n - 1.0
    return x, _curve(x) + noise * torch.randn(n, dtype=torch.float64, generator=g)


def _legendre(torch: Any, x: Any, degree: int) -> Any:
    """Columns P_0(x) .. P_degree(x): a well-conditioned polynomial basis on [-1, 1]."""
    cols = [torch.ones_like(x), x]
    for k in range(1, degree):
        cols.append(((2 * k + 1) * x * cols[k] - k * cols[k - 1]) / (k + 1))
    return torch.stack(cols[: degree + 1], dim=1)


def _poly_sweep(
    torch: Any, train: tuple[Any, Any], val: tuple[Any, Any], max_degree: int
) -> tuple[list[float], list[float], list[float]]:
    """Training and validation MSE and coefficient norm for every degree from 1 to max_degree.

    With more coefficients than points, `pinv` gives the interpolating polynomial whose
    coefficients have the smallest norm.
    """
    (x, y), (xv, yv) = train, val
    basis, basis_val = _legendre(torch, x, max_degree), _legendre(torch, xv, max_degree)
    train_err, val_err, norms = [], [], []
    for d in range(1, max_degree + 1):
        coef = torch.linalg.pinv(basis[:, : d + 1], rtol=1e-12) @ y
        train_err.append(((basis[:, : d + 1] @ coef - y) ** 2).mean().item())
        val_err.append(((basis_val[:, : d + 1] @ coef - yv) ** 2).mean().item())
        norms.append(coef.norm().item())
    return train_err, val_err, norms


def _mlp_curves(
    torch: Any, train: tuple[Any, Any], val: tuple[Any, Any], params: Mapping[str, Any], tick: Any
) -> tuple[list[float], list[float], list[float]]:
    """Train and validation MSE of a tanh MLP, recorded about 100 times over the epochs."""
    nn = torch.nn
    width, epochs = params["width"], params["epochs"]
    (x, y), (xv, yv) = ((a.float().unsqueeze(1), b.float().unsqueeze(1)) for a, b in (train, val))
    model = nn.Sequential(
        nn.Linear(1, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1)
    ).to(x.device)
    opt = torch.optim.Adam(model.parameters(), lr=_LR, foreach=True)
    record = max(1, epochs // 100)
    at, train_curve, val_curve = [], [], []
    for epoch in range(1, epochs + 1):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        if epoch % record == 0 or epoch == epochs:
            with torch.no_grad():
                val_loss = nn.functional.mse_loss(model(xv), yv).item()
            at.append(float(epoch))
            train_curve.append(loss.item())
            val_curve.append(val_loss)
        tick(epoch)
    return at, train_curve, val_curve


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    g = generator(seed)
    points, noise, max_degree = params["points"], params["noise"], params["degree"]
    train = tuple(t.to(device) for t in _sample(torch, points, noise, g))
    val = tuple(t.to(device) for t in _sample(torch, _VAL_POINTS, noise, g))
    train_err, val_err, norms = _poly_sweep(torch, train, val, max_degree)
    progress(0.1, "polynomial sweep done")

    epochs = params["epochs"]
    every = report_every(epochs)

    def tick(epoch: int) -> None:
        if epoch % every == 0:
            progress(0.1 + 0.9 * epoch / epochs, f"MLP epoch {epoch} of {epochs}")

    epoch_at, mlp_train, mlp_val = _mlp_curves(torch, train, val, params, tick)

    shape = _Shape(val_err, points)
    mlp_best = min(range(len(mlp_val)), key=mlp_val.__getitem__)
    degrees = [float(d) for d in range(1, max_degree + 1)]
    metrics = {f"train_mse_degree_{d}": e for d, e in enumerate(train_err, 1)}
    metrics |= {f"val_mse_degree_{d}": e for d, e in enumerate(val_err, 1)}
    metrics |= {
        "best_degree": float(shape.best + 1),
        "peak_degree": float(shape.peak + 1),
        "interpolation_degree": float(points - 1),
        "mlp_final_train_mse": mlp_train[-1],
        "mlp_final_val_mse": mlp_val[-1],
        "mlp_best_val_mse": mlp_val[mlp_best],
        "mlp_best_epoch": epoch_at[mlp_best],
        "mlp_first_train_mse": mlp_train[0],
        "noise_variance": noise**2,
    }
    scale = max(train_err[0], 1e-12)
    train_falls = all(b <= a + _MONOTONE_SLACK * scale for a, b in pairwise(train_err))
    claims = [
        _u_claim(shape),
        *_second_descent_claims(shape, norms),
        _mlp_claim(epoch_at, mlp_train, mlp_val, mlp_best),
        Claim.check(
            f"Training error never rises from one degree to the next (least squares over a "
            f"bigger family of polynomials): degree 1 {fmt(train_err[0])}, degree "
            f"{max_degree} {fmt(train_err[-1])}",
            train_falls,
        ),
    ]
    shown = sorted({1, min(3, max_degree), shape.best + 1, shape.peak + 1, max_degree})
    rows = [(f"degree {d}", round(train_err[d - 1], 5), round(val_err[d - 1], 5)) for d in shown]
    rows.append(
        (
            f"MLP, epoch {int(epoch_at[mlp_best])}",
            round(mlp_train[mlp_best], 5),
            round(mlp_val[mlp_best], 5),
        )
    )
    rows.append((f"MLP, epoch {epochs}", round(mlp_train[-1], 5), round(mlp_val[-1], 5)))
    if params["view"] == "epochs":
        series = {
            "MLP train MSE": {"x": epoch_at, "y": floats(mlp_train)},
            "MLP validation MSE": {"x": epoch_at, "y": floats(mlp_val)},
        }
        plot = PlotSpec(title="MLP error vs epoch", x_label="epoch", y_label="MSE", log_y=True)
    else:
        series = {
            "train MSE": {"x": degrees, "y": floats(train_err)},
            "validation MSE": {"x": degrees, "y": floats(val_err)},
        }
        plot = PlotSpec(
            title="polynomial error vs degree", x_label="degree", y_label="MSE", log_y=True
        )
    return DemoOutput(
        series=series,
        table=Table.of(["model", "train MSE", "validation MSE"], rows),
        metrics=metrics,
        claims=claims,
        plot=plot,
        setup=(
            f"{points} noisy training points and {_VAL_POINTS} fresh validation points from the "
            f"same curve and noise; every degree is fitted by least squares on the training "
            f"points only, and the MLP ({params['width']} units per layer) by full-batch Adam "
            f"(lr {_LR:g})."
        ),
        answers={
            "past_best_degree": _degree_answer(shape),
            "mlp_epochs": _epoch_answer(epoch_at, mlp_val, mlp_best),
        },
    )


class _Shape:
    """Where the validation curve has its first minimum, its peak after it, and which of the
    U and the second descent it shows."""

    def __init__(self, val: list[float], points: int) -> None:
        self.val = val
        self.points = points
        self.last = len(val) - 1
        # The interpolation threshold: degree points - 1 has one coefficient per point.
        self.threshold = points - 2  # its index (degree d is index d - 1)
        classical = range(min(self.last, self.threshold) + 1)
        self.best = min(classical, key=val.__getitem__)
        self.peak = max(range(self.best, self.last + 1), key=val.__getitem__)
        floor = max(val[self.best], _FLOOR * val[0])
        self.falls_first = val[0] >= _U_MARGIN * floor
        self.rises = val[self.peak] >= _U_MARGIN * floor
        self.past_threshold = self.last > self.threshold
        self.falls_again = (
            self.past_threshold
            and val[self.threshold] >= _U_MARGIN * floor
            and val[self.last] * _U_MARGIN <= val[self.threshold]
        )


def _u_claim(s: _Shape) -> Claim:
    v, best, peak = s.val, s.best, s.peak
    if best == 0:
        low = f"Validation error is lowest at degree 1 ({fmt(v[0])})"
    else:
        low = (
            f"Validation error goes from {fmt(v[0])} at degree 1 to its lowest, "
            f"{fmt(v[best])}, at degree {best + 1}"
        )
    if peak > best:
        after = f", then rises to {fmt(v[peak])} at degree {peak + 1}"
    else:
        after = ", the last degree of the sweep"
    text = (
        f"{low}{after} (a U needs degree 1 and the peak after the lowest both at least "
        f"{_U_MARGIN:g}x the lowest)"
    )
    if best == s.last:
        otherwise = (
            f"Validation error was still at its lowest at degree {best + 1}, the end of the "
            f"sweep ({fmt(v[best])}, from {fmt(v[0])} at degree 1): within this sweep extra "
            f"degrees did not cost accuracy on fresh points."
        )
    elif not s.rises:
        otherwise = (
            f"Past its lowest ({fmt(v[best])} at degree {best + 1}) the validation error never "
            f"rose above {_U_MARGIN:g}x that value up to degree {s.last + 1}: within this sweep "
            f"extra degrees did not cost accuracy on fresh points."
        )
    elif best == 0:
        otherwise = (
            f"Validation error was lowest at degree 1 ({fmt(v[0])}): no higher degree beat the "
            f"straight line on fresh points."
        )
    else:
        otherwise = (
            f"Degree 1's validation error ({fmt(v[0])}) is within {_U_MARGIN:g}x of the lowest "
            f"({fmt(v[best])} at degree {best + 1}): the straight line underfits only a little "
            f"here."
        )
    return Claim.experiment(
        text,
        s.falls_first and s.rises,
        lesson=(
            f"Validation error traces a U: degree 1 underfits ({fmt(v[0])}), degree {best + 1} "
            f"fits best ({fmt(v[best])}), and past it extra flexibility makes predictions on "
            f"fresh points worse ({fmt(v[peak])} at degree {peak + 1}). Choose capacity by "
            f"validation error: training error only ever falls."
        ),
        otherwise=otherwise,
    )


def _second_descent_claims(s: _Shape, norms: list[float]) -> list[Claim]:
    """The double-descent experiment, when the sweep passes the interpolation threshold."""
    if not s.past_threshold:
        return []
    v, t, last = s.val, s.threshold, s.last
    where = (
        f"degree {t + 1}, the first with as many coefficients as training points "
        f"({s.points}), where the fit passes through every point"
    )
    return [
        Claim.experiment(
            f"Validation error at {where}: {fmt(v[t])}; at degree {last + 1}: {fmt(v[last])} "
            f"(a second descent needs the first at least {_U_MARGIN:g}x the lowest before it "
            f"and the second at least {_U_MARGIN:g}x below the first)",
            s.falls_again,
            lesson=(
                f"Past degree {t + 1} validation error falls again, from {fmt(v[t])} to "
                f"{fmt(v[last])} at degree {last + 1}: a second descent. Of all the polynomials "
                f"through the {s.points} points, least squares takes the one with the smallest "
                f"coefficients, and that norm falls from {fmt(norms[t])} to {fmt(norms[last])}."
            ),
            otherwise=(
                f"Past degree {t + 1} (where the fit first passes through all {s.points} points) "
                f"validation error did not fall again by {_U_MARGIN:g}x: {fmt(v[t])} there, "
                f"{fmt(v[last])} at degree {last + 1}."
            ),
        )
    ]


def _mlp_claim(at: list[float], train: list[float], val: list[float], best: int) -> Claim:
    epochs, at_best = int(at[-1]), int(at[best])
    rose = val[-1] >= _EPOCH_RISE * val[best]
    kept_fitting = train[-1] <= _TRAIN_FALL * train[best]
    if not rose:
        otherwise = (
            f"After {epochs} epochs the MLP's validation error ({fmt(val[-1])}) is still within "
            f"{_EPOCH_RISE - 1:.0%} of its lowest ({fmt(val[best])} at epoch {at_best}): it has "
            f"not overfitted in this run."
        )
    else:
        otherwise = (
            f"The MLP's validation error rose from {fmt(val[best])} (epoch {at_best}) to "
            f"{fmt(val[-1])}, but its training error did not halve meanwhile ({fmt(train[best])} "
            f"to {fmt(train[-1])}): the run shows no clear overfitting."
        )
    return Claim.experiment(
        f"The MLP's validation error is lowest at epoch {at_best} ({fmt(val[best])}) and "
        f"{fmt(val[-1])} after {epochs} epochs, its training error {fmt(train[best])} and "
        f"{fmt(train[-1])} (overfitting needs validation at least {_EPOCH_RISE - 1:.0%} above "
        f"its lowest while training error at least halves)",
        rose and kept_fitting,
        lesson=(
            f"Trained on, the MLP kept lowering its training error ({fmt(train[best])} at epoch "
            f"{at_best}, {fmt(train[-1])} at the end) while its validation error climbed from "
            f"{fmt(val[best])} to {fmt(val[-1])}: stop where validation error is lowest."
        ),
        otherwise=otherwise,
    )


def _degree_answer(s: _Shape) -> Answer:
    v, best, peak, last = s.val, s.best, s.peak, s.last
    if s.falls_again:
        t = s.threshold
        return Answer(
            RISES_FALLS,
            f"From {fmt(v[best])} at degree {best + 1} it rises to {fmt(v[t])} at degree "
            f"{t + 1}, then falls to {fmt(v[last])} at degree {last + 1}.",
        )
    if s.rises:
        return Answer(
            RISES,
            f"From {fmt(v[best])} at degree {best + 1} it rises to {fmt(v[peak])} at degree "
            f"{peak + 1}.",
        )
    if best == last:
        return Answer(
            STAYS,
            f"Its lowest, {fmt(v[best])}, is at degree {best + 1}, the end of the sweep: it "
            f"never rises.",
        )
    return Answer(
        STAYS,
        f"From {fmt(v[best])} at degree {best + 1} it never goes above {fmt(v[peak])} up to "
        f"degree {last + 1}.",
    )


def _epoch_answer(at: list[float], val: list[float], best: int) -> Answer:
    if val[-1] >= _EPOCH_RISE * val[best]:
        return Answer(
            FALLS_RISES,
            f"Lowest at epoch {int(at[best])} ({fmt(val[best])}), then up to {fmt(val[-1])} by "
            f"epoch {int(at[-1])}.",
        )
    return Answer(
        KEEPS_FALLING,
        f"Lowest at epoch {int(at[best])} ({fmt(val[best])}) and {fmt(val[-1])} at the end.",
    )
