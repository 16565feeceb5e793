"""lr_schedules: torch's schedulers follow their formulas; decaying the lr lowers the loss."""

from __future__ import annotations

import math

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import run_demo


def test_cosine_series_matches_the_closed_form() -> None:
    out = run_demo("lr_schedules", seed=0, schedule="cosine")
    lr0, low, steps = 0.1, 0.1 * 0.01, get_spec("lr_schedules").tiny["steps"]
    series = out.series["cosine"]
    for t, lr in zip(series["x"], series["y"], strict=True):
        expected = low + (lr0 - low) * (1 + math.cos(math.pi * t / steps)) / 2
        assert lr == pytest.approx(expected, rel=1e-5)


def test_exponential_shrinks_by_a_constant_factor() -> None:
    out = run_demo("lr_schedules", seed=0, schedule="exponential")
    ys = out.series["exponential"]["y"]
    ratios = [b / a for a, b in zip(ys, ys[1:], strict=False)]
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-4)


def test_plateau_only_halves() -> None:
    out = run_demo("lr_schedules", seed=1, schedule="plateau")
    for lr in out.series["plateau"]["y"]:
        j = math.log(lr / 0.1, 0.5)
        assert j == pytest.approx(round(j), abs=1e-4) or lr == pytest.approx(0.1 * 0.01)


def test_decaying_schedules_end_below_constant_read_from_the_metrics() -> None:
    out = run_demo("lr_schedules", seed=2)
    base = out.metrics["final_excess_constant"]
    decaying = [k for k in out.metrics if k.startswith("final_excess_") and "constant" not in k]
    assert len(decaying) == 7
    assert all(out.metrics[k] <= 0.5 * base for k in decaying)
    assert all(c.holds for c in out.claims)


def test_without_decay_cosine_is_constant_and_gains_nothing() -> None:
    out = run_demo("lr_schedules", seed=0, schedule="cosine", decay=1.0)
    assert set(out.series["cosine"]["y"]) == {0.1}
    assert out.claims[0].holds
    assert not out.claims[1].holds


def test_one_schedule_runs_beside_constant_only() -> None:
    out = run_demo("lr_schedules", seed=0, schedule="warmup_cosine", view="loss")
    assert set(out.series) == {"constant", "warmup_cosine"}
    assert out.plot.log_y


@pytest.mark.parametrize("overrides", [{"schedule": "step"}, {"lr0": 1.0}, {"decay": 0.0}])
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec("lr_schedules").resolve(overrides)
