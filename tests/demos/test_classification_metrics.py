"""classification_metrics: confusion counts, AUC as ranked pairs, the all-negative classifier."""

from __future__ import annotations

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import run_demo


def test_rates_follow_from_the_confusion_counts() -> None:
    m = run_demo("classification_metrics").metrics
    tp, fp, tn, fn = m["model_tp"], m["model_fp"], m["model_tn"], m["model_fn"]
    assert m["model_accuracy"] == pytest.approx((tp + tn) / (tp + fp + tn + fn))
    assert m["model_recall"] == pytest.approx(tp / (tp + fn))
    assert m["model_fpr"] == pytest.approx(fp / (fp + tn))
    assert m["model_precision"] == pytest.approx(tp / (tp + fp))


def test_auc_is_the_share_of_correctly_ranked_pairs() -> None:
    out = run_demo("classification_metrics")
    assert out.metrics["auc"] == pytest.approx(out.metrics["ranked_pairs"], abs=1e-9)
    roc = out.series["ROC (TPR vs FPR)"]
    area = sum(
        (x1 - x0) * (y0 + y1) / 2
        for x0, x1, y0, y1 in zip(roc["x"], roc["x"][1:], roc["y"], roc["y"][1:], strict=False)
    )
    assert area == pytest.approx(out.metrics["auc"], abs=0.02)
    assert 0.7 < out.metrics["auc"] <= 1.0


def test_all_negative_accuracy_is_the_negative_share() -> None:
    for fraction in (0.05, 0.1, 0.5):
        m = run_demo("classification_metrics", positive_fraction=fraction).metrics
        assert m["all_negative_accuracy"] == pytest.approx(1 - m["positive_share"])
        assert m["all_negative_recall"] == 0.0
    out = run_demo("classification_metrics", positive_fraction=0.5)
    assert not out.claims[1].holds, "balanced classes: calling all negative is not accurate"


def test_a_higher_threshold_trades_recall_for_fewer_false_positives() -> None:
    low = run_demo("classification_metrics", threshold=0.2).metrics
    high = run_demo("classification_metrics", threshold=0.8).metrics
    assert low["model_recall"] > high["model_recall"]
    assert low["model_fpr"] > high["model_fpr"]
    assert low["auc"] == high["auc"], "the ROC curve does not depend on the threshold"


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("classification_metrics")
    with pytest.raises(ParamError):
        spec.resolve({"threshold": 1.5})
    with pytest.raises(ParamError):
        spec.resolve({"positive_fraction": 0.9})
