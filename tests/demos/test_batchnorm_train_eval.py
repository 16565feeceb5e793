"""batchnorm_train_eval: batch statistics of a few samples are noisy; running averages are not."""

from __future__ import annotations

import statistics

import pytest

from studyapp.demo_api import DemoOutput, ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo

DEMO = "batchnorm_train_eval"


@pytest.fixture(scope="module")
def last_batch_only() -> DemoOutput:
    """Momentum 1: the running averages are the last batch's statistics."""
    return run_demo(DEMO, seed=0, momentum=1.0)


@pytest.mark.parametrize("seed", range(5))
def test_small_batches_are_noisy_in_train_mode_but_fine_in_eval_mode(seed: int) -> None:
    out = run_demo(DEMO, seed=seed)
    m = out.metrics
    assert m["accuracy_small_eval"] - m["accuracy_small_train"] > 0.05 + 0.04
    assert abs(m["accuracy_large_eval"] - m["accuracy_large_train"]) < 0.05
    assert m["accuracy_small_eval"] > m["accuracy_large_eval"] - 0.03 + 0.01
    assert abs(m["accuracy_small_eval"] - m["accuracy_small_exact"]) < 0.02
    assert all(c.holds for c in out.claims)
    assert out.answers["modes"].option.startswith("lower in train mode")
    assert out.answers["batch"].option.startswith("within 0.03")
    assert_words_follow_the_run(out)


def test_with_batches_of_32_train_and_eval_mode_agree() -> None:
    out = run_demo(DEMO, seed=0, batch=32)
    m = out.metrics
    assert abs(m["accuracy_small_eval"] - m["accuracy_small_train"]) < 0.05
    assert not out.claims[0].holds
    assert out.answers["modes"].option.startswith("within 0.05")
    assert "less than 0.05 apart" in out.takeaway
    assert_words_follow_the_run(out)


def test_momentum_one_keeps_only_the_last_batch(last_batch_only: DemoOutput) -> None:
    out = last_batch_only
    m = out.metrics
    default = run_demo(DEMO, seed=0, view="statistics").metrics
    assert m["running_mean_error_small"] > 2 * default["running_mean_error_small"]
    assert m["accuracy_small_exact"] - m["accuracy_small_eval"] > 0.02 + 0.05
    batch, stats = out.claims[1], out.claims[2]
    assert not batch.holds and not stats.holds
    assert out.answers["batch"].option.startswith("worse")
    assert "about 1 batch, each of 4 samples" in out.takeaway
    assert "running averages are what fall short" in out.takeaway
    assert_words_follow_the_run(out)


def test_running_averages_from_one_batch_can_make_eval_mode_the_worse_one() -> None:
    out = run_demo(DEMO, seed=2, momentum=1.0)
    m = out.metrics
    assert m["accuracy_small_train"] - m["accuracy_small_eval"] > 0.05 + 0.05
    assert out.answers["modes"].option.startswith("higher in train mode")
    assert "higher than" in out.takeaway
    assert_words_follow_the_run(out)


def test_a_tiny_momentum_still_leans_on_the_starting_values() -> None:
    out = run_demo(DEMO, seed=0, momentum=0.001)
    assert "more than the 256 steps of training" in out.takeaway
    assert "still carry a weight of 0.77" in out.takeaway


def test_batches_of_two_normalize_to_plus_or_minus_one() -> None:
    out = run_demo(DEMO, seed=0, batch=2)
    normalize = out.claims[4]
    assert normalize.kind == "check" and normalize.holds
    assert "±1" in normalize.text
    assert out.metrics["median_abs_normalized"] == pytest.approx(1.0, abs=1e-3)
    assert_words_follow_the_run(out)


def test_checks_eval_mode_ignores_batch_mates_and_train_mode_does_not(
    last_batch_only: DemoOutput,
) -> None:
    m = last_batch_only.metrics
    assert m["partner_effect_eval"] == 0.0
    assert m["partner_effect_train"] > 0.1
    checks = [c for c in last_batch_only.claims if c.kind == "check"]
    assert len(checks) == 3 and all(c.holds for c in checks)


def test_statistics_view_shows_batch_means_noisier_than_the_running_mean() -> None:
    out = run_demo(DEMO, seed=1, view="statistics")
    batch, running = out.series["batch mean"]["y"], out.series["running mean"]["y"]
    assert len(batch) == len(running)
    assert statistics.pstdev(b - r for b, r in zip(batch, running, strict=True)) > 3 * (
        statistics.pstdev(r2 - r1 for r1, r2 in zip(running, running[1:], strict=False))
    )


@pytest.mark.parametrize(
    "overrides", [{"batch": 1}, {"batch": 33}, {"momentum": 0.0}, {"epochs": 0}, {"view": "x"}]
)
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec(DEMO).resolve(overrides)


def test_cuda_without_a_gpu_is_an_error() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="cuda"):
        run_demo(DEMO, device="cuda")
