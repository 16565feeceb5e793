"""hparam_grid_vs_random: random search wins when the loss depends mostly on the learning rate,
the grid when dropout matters as much or the budget is tiny; log-uniform draws fill every
decade."""

from __future__ import annotations

import pytest

from demos.hparam_grid_vs_random import WINNERS
from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo


def _ratio(out) -> float:
    return out.metrics["random_mean_best"] / out.metrics["grid_mean_best"]


@pytest.mark.parametrize("seed", range(5))
def test_random_search_wins_when_the_learning_rate_dominates(seed: int) -> None:
    out = run_demo("hparam_grid_vs_random", seed=seed)
    assert _ratio(out) < 0.8  # the claim needs 0.9
    assert out.metrics["random_win_rate"] > 0.55
    assert [c.kind for c in out.claims] == ["experiment", "check", "check"]
    assert all(c.holds for c in out.claims)
    assert_words_follow_the_run(out)
    assert out.headline.startswith("Random search finds the lower loss on average")
    assert out.answers["winner"].option == WINNERS[0]


def test_grid_repeats_three_learning_rates_random_tries_nine() -> None:
    out = run_demo("hparam_grid_vs_random", seed=0)
    grid, rand = out.series["grid trials"], out.series["random trials"]
    assert len(grid["x"]) == len(rand["x"]) == 9
    assert len(set(grid["x"])) == 3
    assert len(set(rand["x"])) == 9
    # The grid's layout: the centres of three equal cells of log10 lr in [-5, 0].
    assert sorted(set(grid["x"])) == pytest.approx([-5 + 5 / 6, -2.5, -5 / 6])


def test_bigger_budget_makes_a_finer_grid() -> None:
    out = run_demo("hparam_grid_vs_random", seed=0, budget=20)
    assert len(out.series["grid trials"]["x"]) == 16
    assert out.metrics["grid_distinct_lr"] == 4
    assert out.metrics["random_distinct_lr"] == 16


def test_log_uniform_fills_every_decade_uniform_does_not() -> None:
    out = run_demo("hparam_grid_vs_random", seed=2)
    m = out.metrics
    assert m["decades"] == 5
    assert 0.19 < m["log_uniform_min_share"] <= m["log_uniform_max_share"] < 0.21
    assert m["uniform_top_share"] > 0.85
    assert m["uniform_min_share"] < 0.01


def test_when_dropout_matters_as_much_the_grid_wins_and_says_so() -> None:
    out = run_demo("hparam_grid_vs_random", seed=0, dropout_weight=10.0)
    assert _ratio(out) > 1.8
    assert not out.claims[0].holds
    assert_words_follow_the_run(out)
    assert out.takeaway.startswith("Here the grid finds the lower loss on average")
    assert "10 with dropout" in out.takeaway
    assert out.answers["winner"].option == WINNERS[1]


def test_a_tiny_budget_favours_the_grid_even_when_dropout_does_not_matter() -> None:
    out = run_demo("hparam_grid_vs_random", seed=0, budget=4, dropout_weight=0.0)
    assert _ratio(out) > 1.1
    assert out.answers["winner"].option == WINNERS[1]


def test_a_middle_weight_is_a_draw() -> None:
    out = run_demo("hparam_grid_vs_random", seed=0, dropout_weight=1.0)
    assert 0.9 < _ratio(out) < 1 / 0.9
    assert not out.claims[0].holds
    assert_words_follow_the_run(out)
    assert out.takeaway.startswith("Neither method is clearly ahead here")
    assert out.answers["winner"].option == WINNERS[2]


@pytest.mark.parametrize(
    "overrides",
    [{"budget": 3}, {"lr_min": 0.01}, {"lr_max": 100.0}, {"dropout_weight": -1.0}],
)
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec("hparam_grid_vs_random").resolve(overrides)
