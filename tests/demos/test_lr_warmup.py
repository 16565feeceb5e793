"""lr_warmup: a linear warm-up trains at a peak lr that blows up a cold start."""

from __future__ import annotations

import pytest

from studyapp.demo_api import DemoOutput, ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo


@pytest.fixture(scope="module")
def out() -> DemoOutput:
    return run_demo("lr_warmup", seed=0)


def _claim(out: DemoOutput, start: str):
    return next(c for c in out.claims if c.text.startswith(start))


@pytest.mark.parametrize("seed", range(5))
def test_warm_up_trains_where_the_cold_start_blows_up_at_five_seeds(seed: int) -> None:
    out = run_demo("lr_warmup", seed=seed)
    assert all(c.holds for c in out.claims), [c.text for c in out.claims if not c.holds]
    m = out.metrics
    assert m["blew_up_at_cold_peak"] <= 10
    # the big peak lr, once reached safely, beats the safe lr by far
    assert m["final_loss_warm_peak"] <= 0.5 * m["final_loss_cold_safe"]
    assert m["sharpness_start"] >= 5 * m["sharpness_end_warmup"]
    assert m["sharpness_end_warmup"] <= 1.1 * 2 / m["lr_peak"]
    safe = (m["final_loss_warm_safe"], m["final_loss_cold_safe"])
    assert max(safe) <= 1.2 * min(safe)
    assert out.answers["cold"].option == "it blows up"
    assert out.answers["safe"].option == "by less than 1.3x"
    assert_words_follow_the_run(out)


def test_the_peak_lr_is_measured_against_the_starting_sharpness(out: DemoOutput) -> None:
    m = out.metrics
    assert m["lr_limit_start"] == pytest.approx(2 / m["sharpness_start"])
    assert m["lr_peak"] == pytest.approx(12 * m["lr_limit_start"])
    assert m["lr_safe"] == pytest.approx(0.5 * m["lr_limit_start"])


def test_the_lr_view_shows_the_linear_ramp_then_the_peak() -> None:
    out = run_demo("lr_warmup", seed=0, view="lr", warmup=0.5)
    warm = out.series["warm-up, peak lr"]["y"]
    peak = out.metrics["lr_peak"]
    steps = get_spec("lr_warmup").tiny["steps"]
    ramp = [y for x, y in zip(out.series["warm-up, peak lr"]["x"], warm, strict=True) if x < 75]
    assert all(a < b for a, b in zip(ramp, ramp[1:], strict=False))
    assert warm[-1] == pytest.approx(peak, rel=1e-5)
    assert len(out.series["warm-up, peak lr"]["x"]) >= steps // 2
    # the cold run at the peak stops where it blew up
    assert len(out.series["no warm-up, peak lr"]["x"]) <= 10


def test_a_small_peak_lr_makes_warm_up_pointless_and_the_words_say_so() -> None:
    out = run_demo("lr_warmup", seed=1, peak=0.25)
    m = out.metrics
    assert "blew_up_at_cold_peak" not in m
    assert not _claim(out, "At a peak lr").holds
    assert not _claim(out, "The warm-up run moved").holds
    assert "both runs trained, within 2x of each other" in out.takeaway
    assert "the start was already stable" in out.takeaway
    assert out.answers["cold"].option == "it ends below 2x the warm-up run's loss"
    assert_words_follow_the_run(out)


def test_the_cold_start_can_survive_a_moderate_peak_and_still_lag() -> None:
    out = run_demo("lr_warmup", seed=4, peak=8.0)
    m = out.metrics
    assert m["final_loss_cold_peak"] >= 3 * m["final_loss_warm_peak"]
    assert _claim(out, "At a peak lr").holds
    assert out.answers["cold"].option == "it trains, but ends at least 2x above the warm-up run"


def test_without_a_sharp_start_warm_up_cannot_rescue_a_huge_peak() -> None:
    out = run_demo("lr_warmup", seed=0, init_scale=1.0)
    m = out.metrics
    assert "blew_up_at_warm_peak" in m and "blew_up_at_cold_peak" in m
    assert not _claim(out, "At a peak lr").holds
    assert not _claim(out, "The warm-up run moved").holds
    assert "both runs blew up" in out.takeaway
    assert "found no flatter ground" in out.takeaway
    assert out.answers["cold"].option == "it blows up"
    assert_words_follow_the_run(out)


def test_a_long_warm_up_costs_steps_at_the_safe_lr_and_the_words_say_so() -> None:
    out = run_demo("lr_warmup", seed=3, warmup=0.9)
    m = out.metrics
    assert m["final_loss_warm_safe"] >= 1.45 * m["final_loss_cold_safe"]
    assert not _claim(out, "At the safe lr").holds
    assert "Even at the safe lr warm-up changed the result" in out.takeaway
    assert out.answers["safe"].option == "it ends at least 1.3x higher"
    assert_words_follow_the_run(out)


@pytest.mark.parametrize(
    "overrides",
    [
        {"peak": 0.1},
        {"peak": 50.0},
        {"warmup": 0.0},
        {"warmup": 1.0},
        {"steps": 10},
        {"init_scale": 3.0},
    ],
)
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec("lr_warmup").resolve(overrides)


def test_cuda_without_a_gpu_is_an_error_not_a_silent_cpu_run() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="cuda"):
        run_demo("lr_warmup", device="cuda")
