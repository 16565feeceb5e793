"""hparam_grid_vs_random: random search tries more learning rates and finds a better best."""

from __future__ import annotations

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import run_demo


def test_grid_repeats_three_learning_rates_random_tries_nine() -> None:
    out = run_demo("hparam_grid_vs_random", seed=0)
    grid, rand = out.series["grid trials"], out.series["random trials"]
    assert len(grid["x"]) == len(rand["x"]) == 9
    assert len(set(grid["x"])) == 3
    assert len(set(rand["x"])) == 9
    assert out.claims[0].holds


def test_random_wins_on_average_recomputed_from_metrics() -> None:
    out = run_demo("hparam_grid_vs_random", seed=1)
    assert out.metrics["random_mean_best"] <= 0.7 * out.metrics["grid_mean_best"]
    assert out.metrics["random_win_rate"] > 0.5
    assert out.claims[1].holds


def test_bigger_budget_makes_a_finer_grid() -> None:
    out = run_demo("hparam_grid_vs_random", seed=0, budget=20)
    assert len(out.series["grid trials"]["x"]) == 16
    assert out.metrics["grid_distinct_lr"] == 4
    assert out.metrics["random_distinct_lr"] == 16


def test_log_uniform_fills_every_decade_uniform_does_not() -> None:
    out = run_demo("hparam_grid_vs_random", seed=2)
    assert out.metrics["decades"] == 5
    assert out.metrics["log_uniform_min_share"] >= 0.1
    assert out.metrics["uniform_top_share"] > 0.85
    assert out.metrics["uniform_min_share"] < 0.01
    assert out.claims[2].holds


def test_a_one_decade_range_is_one_bin() -> None:
    out = run_demo("hparam_grid_vs_random", seed=0, lr_min=0.01, lr_max=0.1)
    assert out.metrics["decades"] == 1
    assert out.metrics["uniform_top_share"] == 1.0


@pytest.mark.parametrize("overrides", [{"budget": 3}, {"lr_min": 0.5}, {"lr_max": 100.0}])
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec("hparam_grid_vs_random").resolve(overrides)
