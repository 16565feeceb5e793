"""L1 vs L2 regularization: which penalty puts weights at exactly zero.

Linear regression on many features of which only a few influence the target, fitted three
ways on the same training set: plain least squares, with an L1 penalty lambda * sum|w| (the
lasso, solved by proximal gradient descent, whose soft-threshold step can put a weight exactly
at zero) and with an L2 penalty lambda/2 * sum w^2 (ridge, solved exactly; in gradient descent
this penalty is weight decay). The run counts, for each fit, the weights that are exactly zero
among the features that matter and among those that do not, and scores each fit on fresh
held-out examples. L2's pull on a weight is proportional to the weight, so it shrinks every
weight without pinning any at zero; whether L1 zeroes the useless weights, keeps the useful
ones and beats least squares on held-out data depends on its lambda, and the run says which
happened.
"""

from __future__ import annotations

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
    device_param,
    float_param,
    int_param,
)

L1, L2, NEITHER = "L1", "L2", "Neither: both leave every weight nonzero"
ALL, SOME, NONE = "All of them", "Some of them", "None of them"

SPEC = DemoSpec(
    id="l1_vs_l2_sparsity",
    title="L1 vs L2: sparsity",
    summary="Fit linear regression (a few of many features matter) with L1 and with L2 penalties.",
    topics=("L1", "L2", "sparsity", "weight decay", "regularization"),
    params=(
        float_param("lambda_l1", 0.1, 1e-4, 10.0, "strength of the L1 penalty", log_scale=True),
        float_param("lambda_l2", 0.1, 1e-4, 10.0, "strength of the L2 penalty", log_scale=True),
        int_param("features", 50, 20, 200, "input features"),
        int_param("relevant", 5, 1, 20, "features that influence the target"),
        int_param("samples", 100, 20, 2000, "training examples"),
        float_param("noise", 0.5, 0.0, 5.0, "standard deviation of the target noise"),
        int_param("iterations", 1000, 10, 20000, "proximal-gradient iterations for L1"),
        device_param(),
    ),
    tiny={"iterations": 300},
    timeout_s=60,
    questions=(
        # "L2" is a decoy a learner may well expect (it is called weight *decay*); a ridge
        # solution has no weight at exactly zero at any lambda within bounds.
        Question(
            "more_zeros",
            "Which fit sets more weights to exactly zero?",
            (L1, L2, NEITHER),
        ),
        Question(
            "useful_kept",
            "Of the weights of the features that matter, how many does L1 keep nonzero?",
            (ALL, SOME, NONE),
        ),
    ),
)

_MOST = 0.75  # "most" irrelevant weights = at least this share
_BETTER = 0.05  # L1 "beats" least squares when its held-out error is this share lower
_TEST_SAMPLES = 2000


def _problem(params: Mapping[str, Any], seed: int) -> tuple[Any, Any, Any, Any, Any]:
    """True weights (the first `relevant` nonzero), training and held-out data."""
    import torch

    g = generator(seed)
    features, relevant = params["features"], params["relevant"]
    sign = torch.where(torch.rand(relevant, generator=g) < 0.5, -1.0, 1.0).double()
    true_w = torch.zeros(features, dtype=torch.float64)
    true_w[:relevant] = sign * (1.0 + torch.rand(relevant, dtype=torch.float64, generator=g))

    def draw(n: int) -> tuple[Any, Any]:
        x = torch.randn(n, features, dtype=torch.float64, generator=g)
        noise = torch.randn(n, dtype=torch.float64, generator=g)
        return x, x @ true_w + params["noise"] * noise

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
    true_w, x, y, x_test, y_test = (t.to(device) for t in _problem(params, seed))
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
    relevant = params["relevant"]
    irrelevant = true_w.numel() - relevant
    zeros_irrelevant = {n: int((w[relevant:] == 0).sum().item()) for n, w in fits.items()}
    zeros_relevant = {n: int((w[:relevant] == 0).sum().item()) for n, w in fits.items()}
    test_mse = {n: ((x_test @ w - y_test) ** 2).mean().item() for n, w in fits.items()}
    norms = {n: w.norm().item() for n, w in fits.items()}

    metrics: dict[str, float] = {}
    for n in fits:
        key = n.replace(" ", "_")
        metrics |= {
            f"zeros_irrelevant_{key}": float(zeros_irrelevant[n]),
            f"zeros_relevant_{key}": float(zeros_relevant[n]),
            f"test_mse_{key}": test_mse[n],
            f"norm_{key}": norms[n],
            f"largest_irrelevant_{key}": fits[n][relevant:].abs().max().item()
            if irrelevant
            else 0.0,
        }
    metrics |= {"irrelevant_features": float(irrelevant), "relevant_features": float(relevant)}
    lam1, lam2 = params["lambda_l1"], params["lambda_l2"]
    l2_zeros = zeros_irrelevant["L2"] + zeros_relevant["L2"]
    l1_zeros = zeros_irrelevant["L1"] + zeros_relevant["L1"]
    claims = [
        _selection_claim(lam1, zeros_irrelevant["L1"], irrelevant, zeros_relevant["L1"], relevant),
        _held_out_claim(lam1, test_mse["L1"], test_mse["least squares"]),
        Claim.check(
            f"L2 (lambda {lam2:g}) puts {l2_zeros} of {true_w.numel()} weights at exactly 0; "
            f"its smallest |w| is {fmt(fits['L2'].abs().min().item())}",
            l2_zeros == 0,
        ),
        Claim.check(
            f"L2 (lambda {lam2:g}) shrinks the weights: their norm is {fmt(norms['L2'])} "
            f"against {fmt(norms['least squares'])} for plain least squares, "
            f"{_percent(1 - norms['L2'] / norms['least squares'])} smaller",
            norms["L2"] < norms["least squares"],
        ),
    ]
    rows = [
        (
            n,
            f"{zeros_irrelevant[n]} / {irrelevant}",
            f"{zeros_relevant[n]} / {relevant}",
            round(metrics[f"largest_irrelevant_{n.replace(' ', '_')}"], 4) if irrelevant else "-",
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
            ["fit", "zero irrelevant", "zero relevant", "largest irrelevant |w|", "held-out MSE"],
            rows,
        ),
        metrics=metrics,
        claims=claims,
        plot=PlotSpec(title="weights per feature", x_label="feature", y_label="weight"),
        setup=(
            f"The three fits see the same {params['samples']} training examples; held-out error "
            f"is measured on {_TEST_SAMPLES} fresh ones. L1 is solved by proximal gradient "
            f"descent ({iterations} iterations), L2 and least squares exactly."
        ),
        answers={
            "more_zeros": _zeros_answer(l1_zeros, l2_zeros, lam1, lam2),
            "useful_kept": _kept_answer(zeros_relevant["L1"], relevant, lam1),
        },
    )


def _selection_claim(lam: float, zeroed: int, irrelevant: int, lost: int, relevant: int) -> Claim:
    share = zeroed / irrelevant if irrelevant else 0.0
    few = share < _MOST
    if irrelevant == 0:
        otherwise = (
            f"Every feature matters here ({relevant} of {relevant}), so there is no useless "
            f"weight for L1 to zero; it zeroed {lost} of the useful ones."
        )
    elif lost and few:
        otherwise = (
            f"At lambda {lam:g} L1 zeroed only {zeroed} of the {irrelevant} useless weights, "
            f"and {lost} of the {relevant} useful ones."
        )
    elif lost:
        otherwise = (
            f"At lambda {lam:g} L1 zeroed useful weights too: {lost} of the {relevant} that "
            f"matter, along with {zeroed} of the {irrelevant} useless ones."
        )
    else:
        otherwise = (
            f"At lambda {lam:g} L1 zeroed only {zeroed} of the {irrelevant} useless weights "
            f"(fewer than {_MOST:.0%}), though it kept all {relevant} useful ones."
        )
    return Claim.experiment(
        f"L1 (lambda {lam:g}) puts {zeroed} of the {irrelevant} irrelevant weights at exactly "
        f"0 (selecting features needs at least {_MOST:.0%}) and keeps "
        f"{relevant - lost} of the {relevant} relevant ones nonzero (needs all)",
        irrelevant > 0 and not few and lost == 0,
        lesson=(
            f"L1 put {zeroed} of the {irrelevant} useless weights at exactly zero and kept all "
            f"{relevant} useful ones: its soft threshold selects features."
        ),
        otherwise=otherwise,
    )


def _held_out_claim(lam: float, l1: float, plain: float) -> Claim:
    if l1 > plain:
        otherwise = (
            f"At lambda {lam:g} the L1 fit is worse than plain least squares on held-out data: "
            f"{fmt(l1)} against {fmt(plain)}."
        )
    else:
        otherwise = (
            f"At lambda {lam:g} the L1 fit is not clearly better than plain least squares on "
            f"held-out data: {fmt(l1)} against {fmt(plain)}."
        )
    return Claim.experiment(
        f"On {_TEST_SAMPLES} held-out examples the L1 fit's error is {fmt(l1)} against "
        f"{fmt(plain)} for plain least squares (lower by at least {_BETTER:.0%})",
        l1 <= (1.0 - _BETTER) * plain,
        lesson=(
            f"On held-out data the L1 fit beats plain least squares: {fmt(l1)} against "
            f"{fmt(plain)}."
        ),
        otherwise=otherwise,
    )


def _percent(share: float) -> str:
    return f"{share * 100:.2g}%"


def _zeros_answer(l1_zeros: int, l2_zeros: int, lam1: float, lam2: float) -> Answer:
    why = (
        f"L1 (lambda {lam1:g}) put {l1_zeros} weights at exactly zero, L2 (lambda {lam2:g}) "
        f"{l2_zeros}."
    )
    if l1_zeros > l2_zeros:
        return Answer(L1, why)
    if l2_zeros > l1_zeros:
        return Answer(L2, why)
    return Answer(NEITHER, why)


def _kept_answer(lost: int, relevant: int, lam: float) -> Answer:
    option = ALL if lost == 0 else NONE if lost == relevant else SOME
    return Answer(
        option,
        f"L1 (lambda {lam:g}) kept {relevant - lost} of the {relevant} useful weights nonzero.",
    )
