"""Underfitting and overfitting: training and validation error against capacity and epochs.

Polynomials of degree 1 up to 15 are fitted by least squares to ~20 noisy samples of a smooth
curve. Each extra degree can only lower the training error (the bigger model contains the
smaller one), but the validation error on fresh points first falls, while the model gains
the flexibility the curve needs, then rises, as the extra flexibility is spent on the noise:
a U shape, with underfitting on the left and overfitting on the right. A small MLP trained
on the same points for many epochs traces the same story over time: training loss keeps
falling while validation loss bottoms out and climbs.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from demos._common import floats, fmt, one_thread, report_every, setup
from studyapp.demo_api import (
    Claim,
    DemoOutput,
    DemoSpec,
    PlotSpec,
    Progress,
    Table,
    device_param,
    float_param,
    int_param,
)

SPEC = DemoSpec(
    id="fit_curves",
    title="Underfitting and overfitting curves",
    summary="Polynomial degree sweep and MLP epochs: training error falls, validation is U-shaped.",
    topics=(
        "overfitting",
        "underfitting",
        "training / validation curves",
        "capacity",
    ),
    params=(
        int_param("degree", 15, 3, 25, "highest polynomial degree in the sweep (from 1)"),
        float_param("noise", 0.3, 0.0, 2.0, "standard deviation of the label noise"),
        int_param("points", 20, 8, 500, "noisy training points"),
        int_param("epochs", 1000, 20, 10000, "full-batch Adam epochs for the MLP"),
        int_param("width", 64, 4, 256, "hidden units in each of the MLP's two layers"),
        device_param(),
    ),
    tiny={"epochs": 300},
    timeout_s=60,
)

_VAL_POINTS = 1000
_U_MARGIN = 1.5  # both ends of the U are at least this many times the minimum
_MONOTONE_SLACK = 1e-9
_CURVE_POINTS = 300


def _curve(x: Any) -> Any:
    import torch

    return torch.sin(3.0 * x) + 0.5 * x


def _sample(torch: Any, n: int, noise: float) -> tuple[Any, Any]:
    """n noisy points of the curve, one at a random place in each of n equal slices of
    [-1, 1] (so no stretch of the interval is left empty), from the seeded stream."""
    slot = torch.arange(n, dtype=torch.float64) + torch.rand(n, dtype=torch.float64)
    x = 2.0 * slot / n - 1.0
    return x, _curve(x) + noise * torch.randn(n, dtype=torch.float64)


def _legendre(torch: Any, x: Any, degree: int) -> Any:
    """Columns P_0(x) .. P_degree(x): a well-conditioned polynomial basis on [-1, 1]."""
    cols = [torch.ones_like(x), x]
    for k in range(1, degree):
        cols.append(((2 * k + 1) * x * cols[k] - k * cols[k - 1]) / (k + 1))
    return torch.stack(cols[: degree + 1], dim=1)


def _poly_sweep(
    torch: Any, train: tuple[Any, Any], val: tuple[Any, Any], max_degree: int
) -> tuple[list[float], list[float]]:
    """Least-squares training and validation MSE for every degree from 1 to max_degree."""
    (x, y), (xv, yv) = train, val
    basis, basis_val = _legendre(torch, x, max_degree), _legendre(torch, xv, max_degree)
    train_err, val_err = [], []
    for d in range(1, max_degree + 1):
        coef = torch.linalg.pinv(basis[:, : d + 1], rtol=1e-12) @ y
        train_err.append(((basis[:, : d + 1] @ coef - y) ** 2).mean().item())
        val_err.append(((basis_val[:, : d + 1] @ coef - yv) ** 2).mean().item())
    return train_err, val_err


def _mlp_curves(
    torch: Any, train: tuple[Any, Any], val: tuple[Any, Any], params: Mapping[str, Any], tick: Any
) -> tuple[list[float], list[float], list[float]]:
    """Train and validation MSE of a tanh MLP, recorded at most ~300 times over the epochs."""
    nn = torch.nn
    width, epochs = params["width"], params["epochs"]
    (x, y), (xv, yv) = ((a.float().unsqueeze(1), b.float().unsqueeze(1)) for a, b in (train, val))
    model = nn.Sequential(
        nn.Linear(1, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1)
    ).to(x.device)
    opt = torch.optim.Adam(model.parameters(), lr=0.01, foreach=True)
    record = max(1, epochs // 300)
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
    train = tuple(t.to(device) for t in _sample(torch, params["points"], params["noise"]))
    val = tuple(t.to(device) for t in _sample(torch, _VAL_POINTS, params["noise"]))
    max_degree = params["degree"]
    train_err, val_err = _poly_sweep(torch, train, val, max_degree)
    progress(0.1, "polynomial sweep done")

    epochs = params["epochs"]
    every = report_every(epochs)

    def tick(epoch: int) -> None:
        if epoch % every == 0:
            progress(0.1 + 0.9 * epoch / epochs, f"MLP epoch {epoch} of {epochs}")

    epoch_at, mlp_train, mlp_val = _mlp_curves(torch, train, val, params, tick)

    degrees = [float(d) for d in range(1, max_degree + 1)]
    best = min(range(len(val_err)), key=val_err.__getitem__)
    scale = max(train_err[0], 1e-12)
    train_falls = all(b <= a + _MONOTONE_SLACK * scale for a, b in pairwise(train_err))
    train_falls = train_falls and train_err[-1] < train_err[0]
    left, right, low = val_err[0], val_err[-1], val_err[best]
    u_shaped = 0 < best < len(val_err) - 1 and min(left, right) >= _U_MARGIN * low
    mlp_best = min(range(len(mlp_val)), key=mlp_val.__getitem__)

    metrics = {f"train_mse_degree_{int(d)}": e for d, e in zip(degrees, train_err, strict=True)}
    metrics |= {f"val_mse_degree_{int(d)}": e for d, e in zip(degrees, val_err, strict=True)}
    metrics |= {
        "best_degree": degrees[best],
        "mlp_final_train_mse": mlp_train[-1],
        "mlp_final_val_mse": mlp_val[-1],
        "mlp_best_val_mse": mlp_val[mlp_best],
        "mlp_best_epoch": epoch_at[mlp_best],
        "mlp_first_val_mse": mlp_val[0],
        "noise_variance": params["noise"] ** 2,
    }
    claims = [
        Claim(
            f"Training error falls with capacity: degree 1 {fmt(train_err[0])}, degree "
            f"{int(degrees[best])} {fmt(train_err[best])}, degree {max_degree} "
            f"{fmt(train_err[-1])}, never rising from one degree to the next",
            train_falls,
        ),
        Claim(
            f"Validation error is U-shaped: lowest at degree {int(degrees[best])} "
            f"({fmt(low)}), with degree 1 ({fmt(left)}) and degree {max_degree} "
            f"({fmt(right)}) both at least {_U_MARGIN:g}x higher",
            u_shaped,
        ),
    ]
    shown = sorted({1, min(3, max_degree), int(degrees[best]), max_degree})
    rows = [(f"degree {d}", round(train_err[d - 1], 5), round(val_err[d - 1], 5)) for d in shown]
    rows.append(
        (
            f"MLP, epoch {int(epoch_at[mlp_best])}",
            round(mlp_train[mlp_best], 5),
            round(mlp_val[mlp_best], 5),
        )
    )
    rows.append((f"MLP, epoch {epochs}", round(mlp_train[-1], 5), round(mlp_val[-1], 5)))
    return DemoOutput(
        series={
            "train MSE by degree": {"x": degrees, "y": floats(train_err)},
            "validation MSE by degree": {"x": degrees, "y": floats(val_err)},
            "MLP train MSE by epoch": {"x": epoch_at, "y": floats(mlp_train)},
            "MLP validation MSE by epoch": {"x": epoch_at, "y": floats(mlp_val)},
        },
        table=Table.of(["model", "train MSE", "validation MSE"], rows),
        metrics=metrics,
        claims=claims,
        fixed_takeaway=(
            f"Degree {max_degree} fits the {params['points']} training points best "
            f"({fmt(train_err[-1])}) but predicts new points worst ({fmt(right)}); degree "
            f"{int(degrees[best])} balances the two ({fmt(low)}): pick capacity by validation "
            f"error, not training error."
        ),
        plot=PlotSpec(
            title="error vs capacity (degree) and vs epoch (MLP)",
            x_label="degree / epoch",
            y_label="MSE",
            log_y=True,
        ),
    )
