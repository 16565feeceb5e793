"""Classification metrics: confusion matrix, ROC, AUC, precision/recall, on imbalanced classes.

Logistic regression is trained on two overlapping Gaussian blobs, positives a chosen share of
the points (rare by default). On a held-out test set the demo counts TP, FP, TN and FN at a
chosen threshold, sweeps the threshold to trace the ROC curve (TPR vs FPR) and the
precision-recall curve, and measures the area under each. It checks that the ROC area equals
the fraction of (positive, negative) pairs the scores put in the right order, that calling
everything negative scores the share of negatives as accuracy with zero recall, and how a
model's accuracy gain over that follows from its recall. It reports whether the model ranks
test pairs well and whether the precision-recall view is harsher than the ROC view at this
class balance.
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

MODEL, ALL_NEGATIVE, TIE = (
    "The model",
    "Calling everything negative",
    "Neither: within 0.01 of each other",
)
ROC, AP, EQUAL = "The ROC area", "The average precision", "Neither: within 0.02 of each other"

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
    questions=(
        Question(
            "accuracy",
            "On the test set, which scores the higher accuracy: the model at the chosen "
            "threshold, or calling every point negative?",
            (MODEL, ALL_NEGATIVE, TIE),
        ),
        Question(
            "roc_vs_pr",
            "Which comes out higher for the model: the area under its ROC curve, or its "
            "average precision (the area under its precision-recall curve)?",
            (ROC, AP, EQUAL),
        ),
    ),
)

AUC_TOLERANCE = 1e-9  # trapezoid area vs pair count, in float64
IDENTITY_TOLERANCE = 1e-12
WELL_ABOVE_CHANCE = 0.75  # an ROC area this high ranks "far better than chance"
HARSHER = 0.1  # the precision-recall view is "harsher" when AP is this much below the ROC area
SAME_ACCURACY, SAME_AREA = 0.01, 0.02
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


def _average_precision(tpr: Any, precision: Any) -> float:
    """The area under the precision-recall curve as a step sum: precision at each threshold
    weighted by the recall it adds."""
    return ((tpr[1:] - tpr[:-1]) * precision[1:]).sum().item()


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
    torch, device = setup(seed, params["device"])
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
    ap = _average_precision(tpr, precision)
    pairs = _ranked_pairs(scores, y_test)
    progress(1.0, "curves traced", None)

    threshold = params["threshold"]
    model_counts = _confusion(scores, y_test, threshold)
    model_rates = _rates(model_counts)
    never = torch.zeros_like(scores)
    none_counts = _confusion(never, y_test, 1.0)
    none_rates = _rates(none_counts)
    none_fpr, none_tpr, none_precision = _curves(never, y_test)
    none_auc = torch.trapezoid(none_tpr, none_fpr).item()
    none_ap = _average_precision(none_tpr, none_precision)
    share = y_test.mean().item()
    total = sum(model_counts.values())
    gain = model_rates["accuracy"] - none_rates["accuracy"]
    identity = share * model_rates["recall"] - model_counts["FP"] / total
    claims = [
        _ranking_claim(auc, params["separation"]),
        _harsher_claim(ap, auc, none_ap, none_auc, share, params["separation"]),
        Claim.check(
            f"The area under the ROC curve ({auc:.6f}) equals the fraction of correctly ranked "
            f"(positive, negative) pairs ({pairs:.6f}), difference {fmt(abs(auc - pairs))}",
            abs(auc - pairs) <= AUC_TOLERANCE,
        ),
        Claim.check(
            f"Calling everything negative scores accuracy {fmt(none_rates['accuracy'])}, the "
            f"share of negatives ({fmt(1 - share)}), and recall {fmt(none_rates['recall'])}",
            abs(none_rates["accuracy"] - (1 - share)) <= IDENTITY_TOLERANCE
            and none_rates["recall"] == 0.0,
        ),
        Claim.check(
            f"The model's accuracy gain over calling everything negative "
            f"({fmt(model_rates['accuracy'])} - {fmt(none_rates['accuracy'])} = {fmt(gain)}) "
            f"equals positive share x recall - FP/N = {fmt(share)} x "
            f"{fmt(model_rates['recall'])} - {int(model_counts['FP'])}/{int(total)}",
            abs(gain - identity) <= IDENTITY_TOLERANCE,
        ),
    ]
    model_all = {**model_counts, **model_rates, "AUC": auc, "AP": ap}
    none_all = {**none_counts, **none_rates, "AUC": none_auc, "AP": none_ap}
    labels = {
        "recall": "TPR = recall",
        "FPR": "FPR",
        "precision": "precision",
        "AUC": "ROC area",
        "AP": "average precision",
    }
    rows = [
        (n, int(v), int(none_all[n]))
        if n in model_counts
        else (labels.get(n, n), *floats([v, none_all[n]], 4))
        for n, v in model_all.items()
    ]
    metrics = {f"model_{k.lower()}": v for k, v in model_all.items()}
    metrics |= {f"all_negative_{k.lower()}": v for k, v in none_all.items()}
    metrics |= {"auc": auc, "average_precision": ap, "ranked_pairs": pairs, "positive_share": share}
    return DemoOutput(
        series={
            "ROC (TPR vs FPR)": _subsample(fpr, tpr),
            "precision vs recall": _subsample(tpr, precision),
            "chance (ROC)": {"x": [0.0, 1.0], "y": [0.0, 1.0]},
        },
        table=Table.of(["metric", f"model at threshold {fmt(threshold)}", "all negative"], rows),
        metrics=metrics,
        claims=claims,
        plot=PlotSpec(
            title="ROC and precision-recall", x_label="FPR / recall", y_label="TPR / precision"
        ),
        setup=(
            f"The model is fitted on {params['points']} training points; every number is "
            f"measured on {params['points']} fresh test points drawn the same way."
        ),
        answers={
            "accuracy": _accuracy_answer(model_rates["accuracy"], none_rates["accuracy"]),
            "roc_vs_pr": _area_answer(auc, ap),
        },
    )


def _ranking_claim(auc: float, separation: float) -> Claim:
    return Claim.experiment(
        f"On the test set the model's ROC area is {fmt(auc)}, the share of (positive, "
        f"negative) pairs it scores in the right order (chance is 0.5; well above it needs "
        f"{WELL_ABOVE_CHANCE:g})",
        auc >= WELL_ABOVE_CHANCE,
        lesson=(
            f"Logistic regression learned scores that put {auc:.1%} of (positive, negative) test "
            f"pairs in the right order: the ROC area sums up that ranking over every threshold "
            f"at once."
        ),
        otherwise=(
            f"With blobs {separation:g} apart the model's ROC area is only {fmt(auc)}: it puts "
            f"{1 - auc:.1%} of (positive, negative) test pairs in the wrong order."
        ),
    )


def _harsher_claim(
    ap: float, auc: float, none_ap: float, none_auc: float, share: float, separation: float
) -> Claim:
    return Claim.experiment(
        f"The model's average precision is {fmt(ap)} against an ROC area of {fmt(auc)} "
        f"(harsher needs at least {HARSHER:g} lower)",
        auc - ap >= HARSHER,
        lesson=(
            f"With a positive share of {fmt(share)}, the precision-recall curve is the "
            f"harsher judge: average precision {fmt(ap)} against ROC area {fmt(auc)}; a scorer "
            f"that ranks nothing (calling everything negative) gets {fmt(none_ap)} against "
            f"{fmt(none_auc)}."
        ),
        otherwise=(
            f"Average precision ({fmt(ap)}) came within {HARSHER:g} of the ROC area "
            f"({fmt(auc)}) here, with a positive share of {fmt(share)} and blobs "
            f"{separation:g} apart."
        ),
    )


def _accuracy_answer(model: float, none: float) -> Answer:
    why = f"The model scores accuracy {fmt(model)}, calling everything negative {fmt(none)}."
    if model - none > SAME_ACCURACY:
        return Answer(MODEL, why)
    if none - model > SAME_ACCURACY:
        return Answer(ALL_NEGATIVE, why)
    return Answer(TIE, why)


def _area_answer(auc: float, ap: float) -> Answer:
    why = f"ROC area {fmt(auc)}, average precision {fmt(ap)}."
    if auc - ap > SAME_AREA:
        return Answer(ROC, why)
    if ap - auc > SAME_AREA:
        return Answer(AP, why)
    return Answer(EQUAL, why)
