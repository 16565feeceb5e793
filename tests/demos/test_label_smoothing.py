"""label_smoothing: hard labels leave a network over-confident; smoothing lowers held-out ECE."""

from __future__ import annotations

import pytest

from studyapp.demo_api import DemoOutput, ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo


@pytest.fixture(scope="module")
def out() -> DemoOutput:
    return run_demo("label_smoothing", seed=0)


def _claim(out: DemoOutput, start: str):
    return next(c for c in out.claims if c.text.startswith(start))


@pytest.mark.parametrize("seed", range(5))
def test_smoothing_lowers_held_out_ece_with_room_at_five_seeds(seed: int) -> None:
    out = run_demo("label_smoothing", seed=seed)
    assert all(c.holds for c in out.claims), [c.text for c in out.claims if not c.holds]
    m = out.metrics
    assert m["ece_smooth"] <= 0.6 * m["ece_hard"]
    assert m["confidence_hard"] - m["accuracy_hard"] >= 0.1
    assert m["gap_smooth"] <= 0.25 * m["gap_hard"]
    assert out.answers["calibration"].option == "the smoothed model"
    assert_words_follow_the_run(out)


def test_the_reliability_curve_is_read_from_the_held_out_points(out: DemoOutput) -> None:
    hard = out.series["hard labels"]
    assert len(hard["x"]) == len(hard["y"]) >= 2
    assert all(0.0 <= v <= 1.0 for v in hard["x"] + hard["y"])
    # the hard-label model's most confident bin is right less often than it claims
    assert hard["y"][-1] < hard["x"][-1]
    rows = {row[0]: row for row in out.table.rows}
    assert rows["hard labels"][4] == pytest.approx(out.metrics["ece_hard"], abs=1e-3)


def test_the_smoothed_logit_gap_sits_near_its_optimum(out: DemoOutput) -> None:
    m = out.metrics
    assert m["top_target"] == pytest.approx(1 - 0.15 + 0.15 / 4)
    assert 0.5 * m["best_gap_smooth"] <= m["gap_smooth"] <= 1.2 * m["best_gap_smooth"]
    assert m["ce_gap"] <= 1e-5


def test_with_eps_zero_both_models_are_the_same_and_the_words_say_so() -> None:
    out = run_demo("label_smoothing", seed=1, eps=0.0)
    assert out.metrics["ece_smooth"] == pytest.approx(out.metrics["ece_hard"])
    assert not _claim(out, "Held-out ECE").holds
    assert not _claim(out, "Smoothing keeps the logits small").holds
    assert "With eps 0 the smoothed targets are the hard labels" in out.takeaway
    assert out.answers["calibration"].option == "about the same (within 0.02)"
    assert out.answers["direction"].option == "over-confident"
    assert_words_follow_the_run(out)


def test_on_separable_classes_hard_labels_are_calibrated_and_smoothing_undershoots() -> None:
    out = run_demo("label_smoothing", seed=0, spread=0.2)
    m = out.metrics
    assert m["accuracy_hard"] >= 0.98
    assert not _claim(out, "Trained on hard labels").holds
    assert not _claim(out, "Held-out ECE").holds
    assert m["confidence_smooth"] < m["accuracy_smooth"]
    assert "did not make it over-confident" in out.takeaway
    assert "under-confident" in out.takeaway
    assert out.answers["calibration"].option == "the hard-label model"
    assert out.answers["direction"].option == "under-confident"
    assert_words_follow_the_run(out)


def test_heavy_smoothing_turns_the_model_under_confident() -> None:
    out = run_demo("label_smoothing", seed=2, eps=0.5)
    m = out.metrics
    assert m["confidence_smooth"] + 0.05 < m["accuracy_smooth"]
    assert out.answers["direction"].option == "under-confident"
    assert "under-confident" in out.takeaway


@pytest.mark.parametrize(
    ("seed", "overrides"), [(0, {}), (1, {}), (0, {"eps": 0.3, "points": 40}), (2, {"width": 8})]
)
def test_the_accuracy_answer_follows_the_numbers(seed: int, overrides: dict) -> None:
    out = run_demo("label_smoothing", seed=seed, **overrides)
    change = out.metrics["accuracy_smooth"] - out.metrics["accuracy_hard"]
    expected = (
        "within 2 points"
        if abs(change) <= 0.02
        else ("up by more than 2 points" if change > 0 else "down by more than 2 points")
    )
    assert out.answers["accuracy"].option == expected


def test_on_forty_points_smoothing_costs_accuracy_and_the_answer_says_so() -> None:
    out = run_demo("label_smoothing", seed=0, eps=0.3, points=40)
    assert out.metrics["accuracy_smooth"] <= out.metrics["accuracy_hard"] - 0.04
    assert out.answers["accuracy"].option == "down by more than 2 points"


@pytest.mark.parametrize(
    "overrides",
    [
        {"eps": 0.6},
        {"eps": -0.1},
        {"classes": 1},
        {"spread": 0.1},
        {"points": 10},
        {"points": 2000},
        {"width": 256},
        {"steps": 10},
    ],
)
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec("label_smoothing").resolve(overrides)


def test_cuda_without_a_gpu_is_an_error_not_a_silent_cpu_run() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="cuda"):
        run_demo("label_smoothing", device="cuda")
