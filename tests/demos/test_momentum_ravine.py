"""momentum_ravine: momentum and Nesterov beat plain GD in a ravine; lr past 2/L diverges."""

from __future__ import annotations

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import run_demo


def _last(out, name: str) -> float:
    return out.series[name]["y"][-1]


def test_momentum_far_below_gd_read_from_the_curves() -> None:
    out = run_demo("momentum_ravine", seed=0)
    gd, mom, nes = (_last(out, n) for n in ("gd", "momentum", "nesterov"))
    assert mom * 100 <= gd and nes * 100 <= gd
    assert out.claims[0].holds


def test_the_run_past_two_over_l_diverges() -> None:
    out = run_demo("momentum_ravine", seed=1)
    curve = out.series["gd lr>2/L"]["y"]
    assert curve[-1] >= 1e6 > curve[0]
    assert out.metrics["diverged_gd_over"] == 1.0
    assert out.metrics["lr_over"] > 2.0 / 100.0
    assert out.claims[1].holds


def test_without_momentum_the_heavy_ball_is_plain_gd() -> None:
    out = run_demo("momentum_ravine", seed=0, beta=0.0)
    assert out.series["momentum"] == out.series["gd"]
    assert not out.claims[0].holds


def test_a_round_bowl_at_a_large_lr_needs_no_momentum() -> None:
    # k = 1 and lr 0.1: GD shrinks f by 0.81 a step, faster than momentum's spiral.
    out = run_demo("momentum_ravine", seed=0, k=1.0, lr=0.1)
    assert _last(out, "gd") < _last(out, "momentum")
    assert not out.claims[0].holds


def test_path_view_starts_every_method_at_the_same_point() -> None:
    out = run_demo("momentum_ravine", seed=2, view="path")
    starts = {
        (out.series[n]["x"][0], out.series[n]["y"][0]) for n in ("gd", "momentum", "nesterov")
    }
    assert len(starts) == 1
    assert "contour f=f0" in out.series
    assert not out.plot.log_y


@pytest.mark.parametrize("overrides", [{"lr": 0.5}, {"k": 0.5}, {"beta": 1.0}, {"view": "map"}])
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec("momentum_ravine").resolve(overrides)
