"""Label smoothing and over-confidence: hard one-hot targets against smoothed ones.

Two copies of the same small MLP, from the same initial weights, learn to classify points drawn
around K centres on a circle, with a chosen spread (by default the classes overlap, so no
classifier can be right everywhere). One trains on hard one-hot targets; the other on smoothed
targets, 1 - eps + eps/K on the true class and eps/K on every other. On held-out points the run
measures how well each model's confidence (its largest softmax probability) matches its
accuracy: the expected calibration error (ECE, over 15 confidence bins), mean confidence
against accuracy, and how far the top logit stands above the others. It reports held-out
accuracy for both without assuming which way it moves, and checks that torch's
`label_smoothing=` argument is cross-entropy against the smoothed targets.
"""

from __future__ import annotations

import math
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

TEST_POINTS = 2000
BINS = 15
LR = 0.01
ECE_DROP = 0.75  # "ECE fell": smoothed ECE at most this fraction of the hard-label model's
OVERCONFIDENT = 0.05  # "over-confident": mean confidence above accuracy by at least this
LOGIT_SHRINK = 0.5  # "smaller logits": smoothed gap at most this fraction of the hard gap
SAME = 0.02  # calibration gaps and ECE differences within this count as "about the same"
ACCURACY_POINTS = 0.02  # accuracy changes within 2 points count as unchanged
CE_TOL = 1e-5

SPEC = DemoSpec(
    id="label_smoothing",
    title="Label smoothing and over-confidence",
    summary="Hard vs smoothed targets: held-out calibration (ECE), confidence, logits, accuracy.",
    topics=(
        "label smoothing",
        "over-confidence",
        "calibration",
        "softmax",
        "cross-entropy",
        "regularization",
    ),
    params=(
        float_param("eps", 0.1, 0.0, 0.5, "label smoothing: probability mass spread over classes"),
        int_param("classes", 4, 2, 8, "number of classes, centred on a circle"),
        float_param("spread", 0.6, 0.2, 1.5, "standard deviation of each class around its centre"),
        int_param("points", 200, 40, 1000, "training points"),
        int_param("width", 64, 8, 128, "hidden units in each of the two hidden layers"),
        int_param("steps", 600, 50, 2000, "full-batch Adam steps for each network"),
        device_param(),
    ),
    tiny={"steps": 300, "points": 120, "width": 48, "eps": 0.15},
    questions=(
        Question(
            "calibration",
            "On held-out points, whose confidence matches its accuracy better (lower ECE)?",
            ("the hard-label model", "the smoothed model", "about the same (within 0.02)"),
        ),
        Question(
            "direction",
            "On held-out points, is the smoothed model over- or under-confident?",
            ("over-confident", "under-confident", "calibrated to within 0.02"),
        ),
        Question(
            "accuracy",
            "How does smoothing change held-out accuracy?",
            ("up by more than 2 points", "within 2 points", "down by more than 2 points"),
        ),
    ),
    timeout_s=120,
)


def _data(torch: Any, seed: int, classes: int, spread: float, points: int) -> tuple[Any, ...]:
    """Training and held-out points around `classes` centres on the unit circle."""
    gen = generator(seed)
    angles = torch.arange(classes) * (2 * math.pi / classes)
    centres = torch.stack([angles.cos(), angles.sin()], dim=1)

    def draw(n: int) -> tuple[Any, Any]:
        labels = torch.randint(0, classes, (n,), generator=gen)
        return centres[labels] + spread * torch.randn(n, 2, generator=gen), labels

    return (*draw(points), *draw(TEST_POINTS))


def _init_pair(torch: Any, dims: list[int], device: Any) -> list[Any]:
    """Weights of two identical MLPs stacked on a leading dimension (torch's Linear init)."""
    params = []
    for fan_in, fan_out in zip(dims[:-1], dims[1:], strict=False):
        bound = fan_in**-0.5
        for shape in ((1, fan_in, fan_out), (1, 1, fan_out)):
            t = (2.0 * torch.rand(shape) - 1.0) * bound
            params.append(t.repeat(2, 1, 1).to(device).requires_grad_())
    return params


def _forward(torch: Any, params: list[Any], x: Any) -> Any:
    h = x.expand(params[0].shape[0], -1, -1)
    layers = list(zip(params[0::2], params[1::2], strict=True))
    for i, (w, b) in enumerate(layers):
        h = torch.baddbmm(b, h, w)
        if i < len(layers) - 1:
            h = torch.relu(h)
    return h


def _calibration(torch: Any, logits: Any, labels: Any) -> dict[str, Any]:
    """ECE, mean confidence, accuracy, NLL, top-logit gap and the reliability curve."""
    probs = logits.softmax(dim=1)
    conf, pred = probs.max(dim=1)
    correct = (pred == labels).double()
    conf = conf.double()
    edges = torch.linspace(0, 1, BINS + 1, dtype=torch.float64, device=conf.device)
    which = torch.bucketize(conf, edges[1:-1], right=True)
    ece, curve_x, curve_y = 0.0, [], []
    for b in range(BINS):
        mask = which == b
        count = int(mask.sum().item())
        if count == 0:
            continue
        c, a = conf[mask].mean().item(), correct[mask].mean().item()
        ece += count / len(labels) * abs(c - a)
        curve_x.append(c)
        curve_y.append(a)
    others = (logits.sum(dim=1) - logits.max(dim=1).values) / (logits.shape[1] - 1)
    return {
        "ece": ece,
        "confidence": conf.mean().item(),
        "accuracy": correct.mean().item(),
        "nll": torch.nn.functional.cross_entropy(logits, labels).item(),
        "gap": (logits.max(dim=1).values - others).mean().item(),
        "curve": (curve_x, curve_y),
    }


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    F = torch.nn.functional
    eps, classes, steps = params["eps"], params["classes"], params["steps"]
    x, y, x_test, y_test = (
        t.to(device) for t in _data(torch, seed, classes, params["spread"], params["points"])
    )
    weights = _init_pair(torch, [2, params["width"], params["width"], classes], device)
    smooth = torch.tensor([0.0, eps], device=device).view(2, 1, 1)
    targets = F.one_hot(y, classes).float().unsqueeze(0) * (1 - smooth) + smooth / classes
    opt = torch.optim.Adam(weights, lr=LR, foreach=True)
    every = report_every(steps)
    for step in range(steps):
        opt.zero_grad()
        log_probs = _forward(torch, weights, x).log_softmax(dim=-1)
        (-(targets * log_probs).sum(dim=-1).mean(dim=-1)).sum().backward()
        opt.step()
        if (step + 1) % every == 0:
            progress((step + 1) / steps, f"step {step + 1} of {steps}")

    with torch.no_grad():
        test_logits = _forward(torch, weights, x_test)
        hard, soft = (_calibration(torch, test_logits[i], y_test) for i in range(2))
        train_logits = _forward(torch, weights, x)
        train_acc = (train_logits.argmax(dim=-1) == y).float().mean(dim=-1).tolist()
        smoothed = train_logits[1]
        ours = -(targets[1] * smoothed.log_softmax(dim=-1)).sum(dim=-1).mean().item()
        torch_ce = F.cross_entropy(smoothed, y, label_smoothing=eps).item()

    top_target = 1 - eps + eps / classes
    best_gap = math.log(top_target / (eps / classes)) if eps > 0 else math.inf
    claims = [
        _ece_claim(eps, hard, soft),
        _overconfidence_claim(hard),
        _logit_claim(eps, hard, soft, best_gap),
        Claim.check(
            f"torch's cross_entropy(label_smoothing={eps:g}) is cross-entropy against targets "
            f"{top_target:.3g} on the true class and {eps / classes:.3g} on the others: "
            f"{ours:.6f} vs {torch_ce:.6f}",
            abs(ours - torch_ce) <= CE_TOL * max(1.0, abs(ours)),
        ),
    ]
    answers = {
        "calibration": _calibration_answer(hard, soft),
        "direction": _direction_answer(soft),
        "accuracy": _accuracy_answer(hard, soft),
    }
    names = ("hard labels", f"smoothed (eps={eps:g})")
    series: dict[str, Any] = {"perfect calibration": {"x": [0.0, 1.0], "y": [0.0, 1.0]}}
    for name, m in zip(names, (hard, soft), strict=True):
        series[name] = {"x": floats(m["curve"][0]), "y": floats(m["curve"][1])}
    rows = [
        (
            name,
            round(train, 3),
            round(m["accuracy"], 3),
            round(m["confidence"], 3),
            round(m["ece"], 3),
            round(m["nll"], 3),
            round(m["gap"], 2),
        )
        for name, m, train in zip(names, (hard, soft), train_acc, strict=True)
    ]
    metrics: dict[str, float] = {"top_target": top_target, "ce_gap": abs(ours - torch_ce)}
    for key, m in (("hard", hard), ("smooth", soft)):
        metrics |= {
            f"{name}_{key}": m[name] for name in ("ece", "confidence", "accuracy", "nll", "gap")
        }
    metrics |= {"train_accuracy_hard": train_acc[0], "train_accuracy_smooth": train_acc[1]}
    if eps > 0:
        metrics["best_gap_smooth"] = best_gap
    return DemoOutput(
        series=series,
        table=Table.of(
            [
                "targets",
                "train acc",
                "held-out acc",
                "mean confidence",
                "ECE",
                "held-out NLL",
                "top-logit gap",
            ],
            rows,
        ),
        metrics=metrics,
        claims=claims,
        plot=PlotSpec(
            title="reliability on held-out points: accuracy per confidence bin",
            x_label="mean confidence in bin",
            y_label="accuracy in bin",
        ),
        setup=(
            f"Both networks start from the same weights and take the same {steps} full-batch "
            f"Adam steps (lr {LR:g}) on the same {params['points']} points; only the targets "
            f"differ. Calibration and accuracy are measured on {TEST_POINTS} held-out points."
        ),
        answers=answers,
    )


def _ece_claim(eps: float, hard: dict[str, Any], soft: dict[str, Any]) -> Claim:
    text = (
        f"Held-out ECE with smoothed targets (eps {eps:g}) is at most {ECE_DROP:g}x the "
        f"hard-label model's: {soft['ece']:.3f} vs {hard['ece']:.3f}"
    )
    under = soft["accuracy"] - soft["confidence"]
    if eps == 0:
        otherwise = (
            f"With eps 0 the smoothed targets are the hard labels: both models end with ECE "
            f"{soft['ece']:.3f}."
        )
    elif under > SAME:
        otherwise = (
            f"Smoothing with eps {eps:g} overshot: the smoothed model is under-confident "
            f"(confidence {soft['confidence']:.3f}, accuracy {soft['accuracy']:.3f}), with ECE "
            f"{soft['ece']:.3f} against {hard['ece']:.3f} for hard labels."
        )
    else:
        otherwise = (
            f"Smoothing with eps {eps:g} did not cut the held-out ECE by a quarter: "
            f"{soft['ece']:.3f} against {hard['ece']:.3f} for hard labels."
        )
    lesson = (
        f"Label smoothing brought held-out confidence closer to accuracy: ECE fell from "
        f"{hard['ece']:.3f} to {soft['ece']:.3f}"
    )
    if under > SAME:
        lesson += (
            f", though the smoothed model is now under-confident (confidence "
            f"{soft['confidence']:.3f}, accuracy {soft['accuracy']:.3f})"
        )
    return Claim.experiment(
        text, soft["ece"] <= ECE_DROP * hard["ece"], lesson=lesson + ".", otherwise=otherwise
    )


def _overconfidence_claim(hard: dict[str, Any]) -> Claim:
    over = hard["confidence"] - hard["accuracy"]
    return Claim.experiment(
        f"Trained on hard labels, the network is over-confident on held-out points: mean "
        f"confidence {hard['confidence']:.3f} exceeds accuracy {hard['accuracy']:.3f} by at "
        f"least {OVERCONFIDENT:g}",
        over >= OVERCONFIDENT,
        lesson=(
            f"Trained on hard labels, the network is over-confident on new points: "
            f"{hard['confidence']:.0%} sure on average but right {hard['accuracy']:.0%} of the "
            f"time."
        ),
        otherwise=(
            f"Hard labels did not make it over-confident here: mean confidence "
            f"{hard['confidence']:.3f} against accuracy {hard['accuracy']:.3f}."
        ),
    )


def _logit_claim(eps: float, hard: dict[str, Any], soft: dict[str, Any], best: float) -> Claim:
    limit = f" (the smoothed loss is lowest at {best:.2f})" if math.isfinite(best) else ""
    return Claim.experiment(
        f"Smoothing keeps the logits small: the top logit leads the others by {soft['gap']:.2f} "
        f"on average{limit}, at most {LOGIT_SHRINK:g}x the hard-label model's {hard['gap']:.2f}",
        soft["gap"] <= LOGIT_SHRINK * hard["gap"],
        lesson=(
            f"Smoothed targets cap how far the top logit leads ({soft['gap']:.2f} against "
            f"{hard['gap']:.2f} with hard labels), which caps the confidence."
        ),
        otherwise=(
            f"The smoothed model's top logit leads by {soft['gap']:.2f}, not well below the "
            f"hard-label model's {hard['gap']:.2f}."
        ),
    )


def _calibration_answer(hard: dict[str, Any], soft: dict[str, Any]) -> Answer:
    why = f"Held-out ECE: {hard['ece']:.3f} with hard labels, {soft['ece']:.3f} smoothed."
    if abs(hard["ece"] - soft["ece"]) <= SAME:
        return Answer("about the same (within 0.02)", why)
    return Answer(
        "the smoothed model" if soft["ece"] < hard["ece"] else "the hard-label model", why
    )


def _direction_answer(soft: dict[str, Any]) -> Answer:
    over = soft["confidence"] - soft["accuracy"]
    why = (
        f"The smoothed model's mean confidence is {soft['confidence']:.3f} and its accuracy "
        f"{soft['accuracy']:.3f}."
    )
    if abs(over) <= SAME:
        return Answer("calibrated to within 0.02", why)
    return Answer("over-confident" if over > 0 else "under-confident", why)


def _accuracy_answer(hard: dict[str, Any], soft: dict[str, Any]) -> Answer:
    change = soft["accuracy"] - hard["accuracy"]
    why = (
        f"Held-out accuracy: {hard['accuracy']:.3f} with hard labels, {soft['accuracy']:.3f} "
        f"smoothed ({fmt(100 * change)} points)."
    )
    if abs(change) <= ACCURACY_POINTS:
        return Answer("within 2 points", why)
    return Answer("up by more than 2 points" if change > 0 else "down by more than 2 points", why)
