"""L1 vs L2 regularization: L1 sets irrelevant weights to exactly zero, L2 only shrinks them.

Linear regression on 50 features of which only 5 influence the target, fitted three ways:
plain least squares, with an L1 penalty lambda * sum|w| (the lasso, solved by proximal
gradient descent, whose soft-threshold step puts weights exactly at zero) and with an L2
penalty lambda/2 * sum w^2 (ridge, solved exactly; in gradient descent this penalty is
weight decay). L1's corner at zero lets a weight whose feature barely helps sit at zero;
L2's pull shrinks in proportion to the weight, so it never quite reaches zero.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    id="l1_vs_l2_sparsity",
    title="L1 vs L2: sparsity",
    summary="Fit 50-feature linear regression (5 features matter) with L1 and with L2 penalties.",
    topics=("L1", "L2", "sparsity", "weight decay", "regularization"),
    params=(
        float_param("lambda_l1", 0.1, 1e-4, 10.0, "strength of the L1 penalty", log_scale=True),
        float_param("lambda_l2", 0.1, 1e-4, 10.0, "strength of the L2 penalty", log_scale=True),
        int_param("features", 50, 5, 200, "input features"),
        int_param("relevant", 5, 1, 50, "features that influence the target (at most features)"),
        int_param("samples", 100, 20, 2000, "training examples"),
        float_param("noise", 0.5, 0.0, 5.0, "standard deviation of the target noise"),
        int_param("iterations", 1000, 10, 20000, "proximal-gradient iterations for L1"),
        device_param(),
    ),
    tiny={"iterations": 300},
    timeout_s=60,
)

_MOST = 0.75  # "most" irrelevant weights = at least this share
_TEST_SAMPLES = 2000


def _problem(torch: Any, params: Mapping[str, Any]) -> tuple[Any, Any, Any, Any, Any]:
    """True weights (the first `relevant` nonzero), training and test data."""
    features = params["features"]
    relevant = min(params["relevant"], features)
    sign = torch.where(torch.rand(relevant) < 0.5, -1.0, 1.0).double()
    true_w = torch.zeros(features, dtype=torch.float64)
    true_w[:relevant] = sign * (1.0 + torch.rand(relevant, dtype=torch.float64))

    def draw(n: int) -> tuple[Any, Any]:
        x = torch.randn(n, features, dtype=torch.float64)
        return x, x @ true_w + params["noise"] * torch.randn(n, dtype=torch.float64)

    x, y = draw(params["samples"])
    x_test, y_test = draw(_TEST_SAMPLES)
    return true_w, x, y, x_test, y_test


def _lasso(torch: Any, x: Any, y: Any, lam: float, iterations: int, tick: Any) -> Any:
    """Minimize 1/(2n) |Xw - y|^2 + lam |w|_1 by proximal gradient descent (ISTA)."""
    n = x.shape[0]
    gram, xty = x.T @ x / n, x.T @ y / n
    step = 1.0 / torch.linalg.eigvalsh(gram)[-1].item()
    w = torch.zeros(x.shape[1], dtype=x.dtype, device=x.device)
    for i in range(iterations):
        v = w - step * (gram @ w - xty)
        w = torch.sign(v) * torch.clamp(v.abs() - step * lam, min=0.0)
        tick(i)
    return w


def _ridge(torch: Any, x: Any, y: Any, lam: float) -> Any:
    """Minimize 1/(2n) |Xw - y|^2 + lam/2 |w|^2 exactly."""
    n, d = x.shape
    return torch.linalg.solve(
        x.T @ x / n + lam * torch.eye(d, dtype=x.dtype, device=x.device), x.T @ y / n
    )


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    true_w, x, y, x_test, y_test = (t.to(device) for t in _problem(torch, params))
    iterations = params["iterations"]
    every = report_every(iterations)

    def tick(i: int) -> None:
        if (i + 1) % every == 0:
            progress((i + 1) / iterations, f"L1 iteration {i + 1} of {iterations}")

    fits = {
        "least squares": torch.linalg.pinv(x) @ y,
        "L1": _lasso(torch, x, y, params["lambda_l1"], iterations, tick),
        "L2": _ridge(torch, x, y, params["lambda_l2"]),
    }
    relevant = int((true_w != 0).sum().item())
    irrelevant = true_w.numel() - relevant
    zeros_irrelevant = {n: int((w[relevant:] == 0).sum().item()) for n, w in fits.items()}
    zeros_relevant = {n: int((w[:relevant] == 0).sum().item()) for n, w in fits.items()}
    test_mse = {n: ((x_test @ w - y_test) ** 2).mean().item() for n, w in fits.items()}
    l1_share = zeros_irrelevant["L1"] / irrelevant if irrelevant else 0.0
    l2_zeros = zeros_irrelevant["L2"] + zeros_relevant["L2"]

    metrics: dict[str, float] = {}
    for n in fits:
        key = n.replace(" ", "_")
        metrics |= {
            f"zeros_irrelevant_{key}": float(zeros_irrelevant[n]),
            f"zeros_relevant_{key}": float(zeros_relevant[n]),
            f"test_mse_{key}": test_mse[n],
            f"largest_irrelevant_{key}": fits[n][relevant:].abs().max().item()
            if irrelevant
            else 0.0,
        }
    metrics |= {"irrelevant_features": float(irrelevant), "relevant_features": float(relevant)}
    claims = [
        Claim(
            f"L1 (lambda {params['lambda_l1']:g}) zeroes most irrelevant weights: "
            f"{zeros_irrelevant['L1']} of {irrelevant} are exactly 0 (at least {_MOST:.0%})",
            irrelevant > 0 and l1_share >= _MOST,
        ),
        Claim(
            f"L2 (lambda {params['lambda_l2']:g}) zeroes none: {l2_zeros} of "
            f"{true_w.numel()} weights are exactly 0; the smallest is "
            f"{fmt(fits['L2'].abs().min().item())}",
            l2_zeros == 0,
        ),
    ]
    rows = [
        (
            n,
            f"{zeros_irrelevant[n]} / {irrelevant}",
            f"{zeros_relevant[n]} / {relevant}",
            round(metrics[f"largest_irrelevant_{n.replace(' ', '_')}"], 4),
            round(test_mse[n], 4),
        )
        for n in fits
    ]
    index = [float(i + 1) for i in range(true_w.numel())]
    series: dict[str, Any] = {"true weights": {"x": index, "y": floats(true_w)}}
    series |= {n: {"x": index, "y": floats(w)} for n, w in fits.items()}
    return DemoOutput(
        series=series,
        table=Table.of(
            ["fit", "zero irrelevant", "zero relevant", "largest irrelevant |w|", "test MSE"],
            rows,
        ),
        metrics=metrics,
        claims=claims,
        fixed_takeaway=(
            f"L1 set {zeros_irrelevant['L1']} of the {irrelevant} useless weights to exactly "
            f"zero and kept {relevant - zeros_relevant['L1']} of the {relevant} useful ones; "
            f"L2 shrank every weight but zeroed {l2_zeros}."
        ),
        plot=PlotSpec(title="weights per feature", x_label="feature", y_label="weight"),
    )
