"""lr_too_high_low: too low crawls, past 2/L diverges, 1/L converges; the lr range test."""

from __future__ import annotations

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo

CURVES = ("lr 0.1/L (low)", "lr 1/L (middle)", "lr 2.05/L (high)")


@pytest.fixture(scope="module")
def tiny_runs() -> list:
    return [run_demo("lr_too_high_low", seed=seed) for seed in range(5)]


def test_three_learning_rates_read_from_the_curves(tiny_runs: list) -> None:
    for out in tiny_runs:
        low, mid, high = (out.series[k]["y"] for k in CURVES)
        assert all(b < a for a, b in zip(low, low[1:], strict=False))
        assert low[-1] >= 1e4 * mid[-1] and mid[-1] <= 1e-8
        assert high[-1] > 10 * high[0]
        assert all(c.holds for c in out.claims[:3])
        assert out.answers["lowest_quadratic"].option == "the middle one"
        assert_words_follow_the_run(out)


def test_range_test_sweeps_upward_and_brackets_the_good_rates(tiny_runs: list) -> None:
    for out in tiny_runs:
        m = out.metrics
        assert m["suggested_lr"] == pytest.approx(m["range_lr_best"] / 10)
        assert m["range_loss_min"] < 0.5 * m["range_loss_start"]
        best = min(m["trial_loss_suggested_div_10"], m["trial_loss_suggested"])
        assert best * 2 < m["trial_loss_suggested_div_100"]
        assert m["trial_loss_suggested_times_100"] > 10 * best
        assert out.claims[3].holds and out.claims[4].holds
    xs = run_demo("lr_too_high_low", seed=1, view="range_test").series["range test loss"]["x"]
    assert all(b > a for a, b in zip(xs, xs[1:], strict=False))


def test_the_trial_answer_follows_the_lowest_loss(tiny_runs: list) -> None:
    options = {
        "a lower lr (1/10 or 1/100 of it)": ("div_100", "div_10"),
        "the suggestion itself": ("suggested",),
        "a higher lr (10x or 100x)": ("times_10", "times_100"),
    }
    for out in tiny_runs:
        trials = {k: v for k, v in out.metrics.items() if k.startswith("trial_loss_")}
        lowest = min(trials, key=trials.__getitem__)
        answer = out.answers["best_trial"].option
        assert lowest.endswith(options[answer]), (lowest, answer)


def test_at_the_default_size_ten_times_the_suggestion_can_train_best() -> None:
    out = run_demo("lr_too_high_low", seed=3, tiny=False)
    m = out.metrics
    assert m["trial_loss_suggested_times_10"] * 1.3 < m["trial_loss_suggested"]
    assert out.answers["best_trial"].option == "a higher lr (10x or 100x)"
    assert out.claims[4].holds
    assert "A tenth of the range test's minimum erred low here." in out.takeaway


def test_just_below_two_over_l_does_not_diverge() -> None:
    out = run_demo("lr_too_high_low", seed=0, high=1.9)
    assert out.metrics["f_ratio_high"] < 1.0
    assert not out.claims[1].holds
    assert "At 1.9/L, not past 2/L, f fell to" in out.takeaway
    assert "overshoots" not in out.takeaway
    assert_words_follow_the_run(out)


def test_swapped_rates_flip_the_words_and_the_answer() -> None:
    out = run_demo("lr_too_high_low", seed=0, low=1.0, middle=0.1)
    assert not out.claims[0].holds and not out.claims[2].holds
    assert out.answers["lowest_quadratic"].option == "the low one"
    assert "fell far behind" not in out.takeaway
    assert_words_follow_the_run(out)


def test_a_small_high_rate_ends_lowest_when_the_others_diverge_or_crawl() -> None:
    out = run_demo("lr_too_high_low", seed=0, low=4.0, middle=0.001, high=0.01)
    assert out.answers["lowest_quadratic"].option == "the high one"
    assert "over 1e+06 times its start" in out.takeaway


def test_given_enough_steps_the_low_rate_converges_too_and_is_not_called_slow() -> None:
    out = run_demo("lr_too_high_low", seed=0, steps=2000)
    assert out.metrics["f_ratio_low"] <= 1e-6
    assert not out.claims[0].holds
    assert "Given 2000 steps, 0.1/L converged too" in out.takeaway
    assert "fell far behind" not in out.takeaway
    assert_words_follow_the_run(out)


def test_a_range_test_without_a_clear_fall_is_not_blamed_on_a_cause_it_did_not_measure() -> None:
    from demos.lr_too_high_low import _range_claim

    claim = _range_claim([0.7, 0.6, 0.5], [0.1, 1.0, 10.0], 2, 0.7, exploded=False)
    assert not claim.holds
    assert claim.says.startswith("The range test's loss only got down to 0.5 from 0.7")
    assert "too few steps" not in claim.says


def test_too_few_steps_to_converge_is_said() -> None:
    out = run_demo("lr_too_high_low", seed=0, steps=10)
    assert not out.claims[2].holds
    assert "At 1/L f ended at" in out.takeaway and "not below 1e-06" in out.takeaway
    assert_words_follow_the_run(out)


def test_on_a_tiny_separable_set_the_range_test_never_explodes_and_its_rule_overshoots() -> None:
    out = run_demo("lr_too_high_low", seed=1, points=32)
    assert out.metrics["range_exploded"] == 0.0
    assert not out.claims[3].holds and not out.claims[4].holds
    assert out.metrics["trial_loss_suggested"] >= 1e6
    assert out.answers["best_trial"].option == "a lower lr (1/10 or 1/100 of it)"
    assert "had not passed 4x its start by the end of the sweep" in out.takeaway
    assert "The suggestion was too high here" in out.takeaway
    assert_words_follow_the_run(out)


def test_trial_losses_all_improve_on_the_start_below_the_divergent_rate(tiny_runs) -> None:
    for out in tiny_runs:
        start = out.metrics["range_loss_start"]
        for key in ("suggested_div_100", "suggested_div_10", "suggested"):
            assert out.metrics[f"trial_loss_{key}"] < start


def test_cuda_without_a_gpu_is_an_error_not_a_cpu_run() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        run_demo("lr_too_high_low", seed=0, device="cuda")


@pytest.mark.parametrize("overrides", [{"high": 5.0}, {"low": 0.0}, {"range_steps": 10}])
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec("lr_too_high_low").resolve(overrides)
