"""lr_too_high_low: too low crawls, past 2/L diverges, 1/L converges; the lr range test."""

from __future__ import annotations

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import run_demo


def test_three_learning_rates_read_from_the_curves() -> None:
    out = run_demo("lr_too_high_low", seed=0)
    low, mid, high = (
        out.series[k]["y"] for k in ("lr 0.1/L (low)", "lr 1/L (middle)", "lr 2.05/L (high)")
    )
    assert all(b < a for a, b in zip(low, low[1:], strict=False))
    assert low[-1] >= 1000 * mid[-1]
    assert mid[-1] <= 1e-6
    assert high[-1] > high[0]
    assert all(c.holds for c in out.claims[:3])


def test_just_below_two_over_l_does_not_diverge() -> None:
    out = run_demo("lr_too_high_low", seed=0, high=1.9)
    assert out.metrics["f_ratio_high"] < 1.0
    assert not out.claims[1].holds


def test_range_test_sweeps_upward_and_suggests_a_tenth_of_the_best() -> None:
    out = run_demo("lr_too_high_low", seed=1, view="range_test")
    xs = out.series["range test loss"]["x"]
    assert all(b > a for a, b in zip(xs, xs[1:], strict=False))
    assert out.metrics["suggested_lr"] == pytest.approx(out.metrics["range_lr_best"] / 10)
    assert out.metrics["range_loss_min"] < out.metrics["range_loss_start"]
    assert out.metrics["trial_loss_suggested"] < out.metrics["trial_loss_lr_div_100"]
    assert out.claims[3].holds and out.claims[4].holds


@pytest.mark.parametrize("overrides", [{"high": 5.0}, {"low": 0.0}, {"range_steps": 10}])
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec("lr_too_high_low").resolve(overrides)
