"""classification_metrics: confusion counts, AUC as ranked pairs, ROC vs precision-recall."""

from __future__ import annotations

import pytest

from demos.classification_metrics import ALL_NEGATIVE, AP, EQUAL, MODEL, ROC, TIE
from studyapp.demo_api import DemoOutput, ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo

SEEDS = range(5)


@pytest.fixture(scope="module")
def tiny_runs() -> list[DemoOutput]:
    return [run_demo("classification_metrics", seed=s) for s in SEEDS]


def test_the_model_ranks_well_and_the_pr_view_is_harsher(tiny_runs: list[DemoOutput]) -> None:
    for out in tiny_runs:
        m = out.metrics
        assert m["auc"] >= 0.85
        assert m["auc"] - m["average_precision"] >= 0.15
        assert all(c.holds for c in out.claims), [c.text for c in out.claims if not c.holds]
        assert_words_follow_the_run(out)
        assert out.answers["roc_vs_pr"].option == ROC


def test_definitions_are_checks_and_there_are_two_experiments(tiny_runs: list[DemoOutput]) -> None:
    assert [c.kind for c in tiny_runs[0].claims] == ["experiment"] * 2 + ["check"] * 3


def test_rates_follow_from_the_confusion_counts(tiny_runs: list[DemoOutput]) -> None:
    m = tiny_runs[0].metrics
    tp, fp, tn, fn = m["model_tp"], m["model_fp"], m["model_tn"], m["model_fn"]
    assert m["model_accuracy"] == pytest.approx((tp + tn) / (tp + fp + tn + fn))
    assert m["model_recall"] == pytest.approx(tp / (tp + fn))
    assert m["model_fpr"] == pytest.approx(fp / (fp + tn))
    assert m["model_precision"] == pytest.approx(tp / (tp + fp))


def test_auc_is_the_share_of_correctly_ranked_pairs(tiny_runs: list[DemoOutput]) -> None:
    out = tiny_runs[0]
    assert out.metrics["auc"] == pytest.approx(out.metrics["ranked_pairs"], abs=1e-9)
    roc = out.series["ROC (TPR vs FPR)"]
    area = sum(
        (x1 - x0) * (y0 + y1) / 2
        for x0, x1, y0, y1 in zip(roc["x"], roc["x"][1:], roc["y"], roc["y"][1:], strict=False)
    )
    assert area == pytest.approx(out.metrics["auc"], abs=0.02)


def test_all_negative_accuracy_is_the_negative_share() -> None:
    for fraction in (0.05, 0.5):
        m = run_demo("classification_metrics", positive_fraction=fraction).metrics
        assert m["all_negative_accuracy"] == pytest.approx(1 - m["positive_share"])
        assert m["all_negative_recall"] == 0.0
        assert m["all_negative_auc"] == 0.5
        assert m["all_negative_ap"] == pytest.approx(m["positive_share"])


def test_without_separation_the_model_cannot_rank_and_the_words_say_so() -> None:
    out = run_demo("classification_metrics", separation=0.0)
    ranking = out.claims[0]
    assert not ranking.holds
    assert out.headline.startswith("With blobs 0 apart the model's ROC area is only")
    assert "in the right order" not in out.takeaway
    assert out.answers["accuracy"].option == TIE
    assert_words_follow_the_run(out)


def test_with_balanced_classes_the_two_curves_agree_and_the_words_say_so() -> None:
    out = run_demo("classification_metrics", positive_fraction=0.5)
    harsher = out.claims[1]
    assert not harsher.holds
    assert "came within 0.1 of the ROC area" in harsher.says
    assert "harsher judge" not in out.takeaway
    assert out.answers["roc_vs_pr"].option == EQUAL
    assert out.answers["accuracy"].option == MODEL
    assert_words_follow_the_run(out)


def test_a_low_threshold_loses_to_calling_everything_negative() -> None:
    out = run_demo("classification_metrics", threshold=0.01)
    m = out.metrics
    assert m["model_accuracy"] <= m["all_negative_accuracy"] - 0.2
    assert out.answers["accuracy"].option == ALL_NEGATIVE


def test_with_few_balanced_points_and_no_signal_average_precision_can_come_out_higher() -> None:
    out = run_demo(
        "classification_metrics", seed=5, points=100, positive_fraction=0.5, separation=0.0
    )
    m = out.metrics
    assert m["average_precision"] >= m["auc"] + 0.05
    assert out.answers["roc_vs_pr"].option == AP


def test_a_higher_threshold_trades_recall_for_fewer_false_positives() -> None:
    low = run_demo("classification_metrics", threshold=0.2).metrics
    high = run_demo("classification_metrics", threshold=0.8).metrics
    assert low["model_recall"] > high["model_recall"]
    assert low["model_fpr"] > high["model_fpr"]
    assert low["auc"] == high["auc"], "the ROC curve does not depend on the threshold"


def test_answers_follow_the_numbers(tiny_runs: list[DemoOutput]) -> None:
    spec = get_spec("classification_metrics")
    options = {q.id: q.options for q in spec.questions}
    for out in tiny_runs:
        m = out.metrics
        gap = m["model_accuracy"] - m["all_negative_accuracy"]
        expected = MODEL if gap > 0.01 else ALL_NEGATIVE if gap < -0.01 else TIE
        assert out.answers["accuracy"].option == expected
        for qid, answer in out.answers.items():
            assert answer.option in options[qid] and answer.why.strip()


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("classification_metrics")
    with pytest.raises(ParamError):
        spec.resolve({"threshold": 1.5})
    with pytest.raises(ParamError):
        spec.resolve({"positive_fraction": 0.9})


def test_cuda_without_a_gpu_is_an_error_not_a_cpu_run() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="no CUDA"):
        run_demo("classification_metrics", device="cuda")
