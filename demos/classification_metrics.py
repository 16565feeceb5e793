"""Classification metrics on an imbalanced problem: confusion matrix, ROC, AUC, precision/recall.

Logistic regression is trained on two overlapping Gaussian blobs where positives are rare. On a
held-out set the demo counts TP, FP, TN and FN at a chosen threshold, sweeps the threshold to
trace the ROC curve (TPR vs FPR) and the precision-recall curve, and integrates the ROC curve.
The area equals the fraction of (positive, negative) pairs the scores put in the right order,
counted pair by pair. A classifier that calls everything negative scores a high accuracy on
such data while finding no positive at all: accuracy alone says little when classes are rare.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from demos._common import floats, fmt, generator, one_thread, report_every, setup
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
    id="classification_metrics",
    title="Accuracy, ROC, AUC, precision and recall",
    summary="Logistic regression on imbalanced blobs: confusion matrix, ROC and PR curves, AUC.",
    topics=("accuracy", "TP/FP/TN/FN", "TPR", "FPR", "ROC", "AUC", "precision/recall"),
    params=(
        float_param("threshold", 0.5, 0.01, 0.99, "score above which a point is called positive"),
        float_param("positive_fraction", 0.1, 0.01, 0.5, "share of positives (imbalance)"),
        float_param("separation", 2.0, 0.0, 6.0, "distance between the two blob centres"),
        int_param("points", 1000, 100, 5000, "points in each of the training and test sets"),
        int_param("steps", 200, 10, 2000, "gradient steps of logistic regression"),
        device_param(),
    ),
    tiny={"points": 400, "steps": 60},
    timeout_s=30,
)

AUC_TOLERANCE = 1e-9  # trapezoid area vs pair count, in float64
HIGH_ACCURACY = 0.8  # what "high accuracy" of the all-negative classifier must reach
CURVE_POINTS = 400


def _blobs(n: int, fraction: float, separation: float, g: Any) -> tuple[Any, Any]:
    """n points, exactly round(n * fraction) (at least 2) of them positive."""
    import torch

    n_pos = min(n - 2, max(2, round(n * fraction)))
    y = torch.cat([torch.ones(n_pos), torch.zeros(n - n_pos)]).double()
    centre = torch.tensor([separation / 2, 0.0], dtype=torch.float64)
    x = torch.randn(n, 2, generator=g, dtype=torch.float64) + (2 * y[:, None] - 1) * centre
    return x, y


def _confusion(scores: Any, y: Any, threshold: float) -> dict[str, float]:
    called = scores >= threshold
    positive = y > 0.5
    return {
        "TP": float((called & positive).sum()),
        "FP": float((called & ~positive).sum()),
        "TN": float((~called & ~positive).sum()),
        "FN": float((~called & positive).sum()),
    }


def _rates(c: Mapping[str, float]) -> dict[str, float]:
    total = sum(c.values())
    called = c["TP"] + c["FP"]
    return {
        "accuracy": (c["TP"] + c["TN"]) / total,
        "recall": c["TP"] / (c["TP"] + c["FN"]),
        "FPR": c["FP"] / (c["FP"] + c["TN"]),
        "precision": c["TP"] / called if called else 0.0,  # no positive calls: 0 by convention
    }


def _curves(scores: Any, y: Any) -> tuple[Any, Any, Any]:
    """FPR, TPR and precision at every distinct threshold, from the highest score down.

    Tied scores enter together, so the ROC curve takes a diagonal step through them: that is
    what makes its area count a tied pair as half right.
    """
    import torch

    order = torch.argsort(scores, descending=True)
    s, labels = scores[order], y[order]
    tp = torch.cumsum(labels, 0)
    fp = torch.cumsum(1 - labels, 0)
    last_of_tie = torch.cat([s[1:] != s[:-1], torch.tensor([True], device=s.device)])
    tp, fp = tp[last_of_tie], fp[last_of_tie]
    zero = torch.zeros(1, dtype=tp.dtype, device=tp.device)
    tp, fp = torch.cat([zero, tp]), torch.cat([zero, fp])
    fpr, tpr = fp / fp[-1], tp / tp[-1]
    precision = torch.where(tp + fp > 0, tp / (tp + fp).clamp(min=1), torch.ones_like(tp))
    return fpr, tpr, precision


def _ranked_pairs(scores: Any, y: Any) -> float:
    """The share of (positive, negative) pairs with the positive scored higher; ties count half."""
    pos, neg = scores[y > 0.5], scores[y < 0.5]
    right, total = 0.0, pos.numel() * neg.numel()
    for chunk in pos.split(256):
        diff = chunk[:, None] - neg[None, :]
        right += (diff > 0).sum().item() + 0.5 * (diff == 0).sum().item()
    return right / total


def _subsample(x: Any, y: Any) -> dict[str, list[float]]:
    import torch

    idx = torch.linspace(0, x.numel() - 1, min(CURVE_POINTS, x.numel())).round().long()
    idx = idx.to(x.device)
    return {"x": floats(x[idx].tolist()), "y": floats(y[idx].tolist())}


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed)
    g = generator(seed)
    args = (params["points"], params["positive_fraction"], params["separation"], g)
    x_train, y_train = (t.to(device) for t in _blobs(*args))
    x_test, y_test = (t.to(device) for t in _blobs(*args))

    model = torch.nn.Linear(2, 1).double().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    steps = params["steps"]
    every = report_every(steps, 25)
    for step in range(steps):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            model(x_train).squeeze(1), y_train
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % every == 0:
            progress(0.8 * (step + 1) / steps, "training logistic regression", None)
    with torch.no_grad():
        scores = torch.sigmoid(model(x_test).squeeze(1))

    fpr, tpr, precision = _curves(scores, y_test)
    auc = torch.trapezoid(tpr, fpr).item()
    pairs = _ranked_pairs(scores, y_test)
    progress(1.0, "curves traced", None)

    threshold = params["threshold"]
    model_counts = _confusion(scores, y_test, threshold)
    model_rates = _rates(model_counts)
    never = torch.zeros_like(scores)
    none_counts = _confusion(never, y_test, 1.0)
    none_rates = _rates(none_counts)
    none_fpr, none_tpr, _ = _curves(never, y_test)
    none_auc = torch.trapezoid(none_tpr, none_fpr).item()
    share = y_test.mean().item()
    claims = [
        Claim(
            f"The area under the ROC curve ({auc:.6f}) equals the fraction of correctly ranked "
            f"(positive, negative) pairs ({pairs:.6f}), difference {fmt(abs(auc - pairs))} "
            f"(needs <= {AUC_TOLERANCE:g})",
            abs(auc - pairs) <= AUC_TOLERANCE,
        ),
        Claim(
            f"With a positive share of {fmt(share)}, calling everything negative scores accuracy "
            f"{fmt(none_rates['accuracy'])} (needs >= {HIGH_ACCURACY:g}) and recall "
            f"{fmt(none_rates['recall'])}; the model at threshold {fmt(threshold)} finds "
            f"recall {fmt(model_rates['recall'])} at accuracy {fmt(model_rates['accuracy'])}",
            none_rates["accuracy"] >= HIGH_ACCURACY and none_rates["recall"] == 0.0,
        ),
    ]
    model_all = {**model_counts, **model_rates, "AUC": auc}
    none_all = {**none_counts, **none_rates, "AUC": none_auc}
    labels = {"recall": "TPR = recall", "FPR": "FPR", "precision": "precision"}
    rows = [
        (n, int(v), int(none_all[n]))
        if n in model_counts
        else (labels.get(n, n), *floats([v, none_all[n]], 4))
        for n, v in model_all.items()
    ]
    metrics = {f"model_{k.lower()}": v for k, v in model_all.items()}
    metrics |= {f"all_negative_{k.lower()}": v for k, v in none_all.items()}
    metrics |= {"auc": auc, "ranked_pairs": pairs, "positive_share": share}
    return DemoOutput(
        series={
            "ROC (TPR vs FPR)": _subsample(fpr, tpr),
            "precision vs recall": _subsample(tpr, precision),
            "chance (ROC)": {"x": [0.0, 1.0], "y": [0.0, 1.0]},
        },
        table=Table.of(["metric", f"model at threshold {fmt(threshold)}", "all negative"], rows),
        metrics=metrics,
        claims=claims,
        fixed_takeaway=(
            f"With a positive share of {fmt(share)}, 'always negative' is "
            f"{fmt(none_rates['accuracy'])} accurate and useless; the model's AUC of {fmt(auc)} "
            f"says how often it ranks a positive above a negative, whatever the threshold."
        ),
        plot=PlotSpec(
            title="ROC and precision-recall", x_label="FPR / recall", y_label="TPR / precision"
        ),
    )
