"""momentum_ravine: momentum beats GD at its best lr in a ravine; past 2/L GD diverges."""

from __future__ import annotations

import math

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo


@pytest.fixture(scope="module")
def tiny_runs() -> list:
    return [run_demo("momentum_ravine", seed=seed) for seed in range(5)]


def _settled(out, name: str) -> int:
    return int(out.metrics[f"steps_to_millionth_{name}"])


def test_both_momentum_methods_settle_before_gd_at_its_best_lr(tiny_runs: list) -> None:
    steps = get_spec("momentum_ravine").tiny["steps"]
    for out in tiny_runs:
        mom, nes, gd = (_settled(out, n) for n in ("momentum", "nesterov", "gd"))
        assert nes < mom <= steps - 10 and gd > steps
        curve = out.series["momentum"]["y"]
        f0 = curve[0]
        assert all(
            v <= 1e-6 * f0
            for x, v in zip(out.series["momentum"]["x"], curve, strict=True)
            if x >= mom
        )
        assert out.claims[0].holds
        assert out.answers["first_to_millionth"].option == "Nesterov"
        assert "Plain GD, even at its best constant lr 0.0198, was still at" in out.takeaway
        assert_words_follow_the_run(out)


def test_gd_runs_at_two_over_l_plus_mu_and_shrinks_by_the_predicted_factor(tiny_runs) -> None:
    out = tiny_runs[0]
    assert out.metrics["lr_gd"] == pytest.approx(2 / 101)
    xs, ys = out.series["gd"]["x"], out.series["gd"]["y"]
    per_step = (ys[-1] / ys[0]) ** (1 / (2 * xs[-1]))
    assert per_step == pytest.approx(99 / 101, rel=1e-3)
    assert out.claims[1].kind == "check" and out.claims[1].holds


def test_the_run_past_two_over_l_grows(tiny_runs: list) -> None:
    out = tiny_runs[1]
    curve = out.series["gd lr>2/L"]["y"]
    assert curve[-1] >= 1e6 > curve[0]
    assert out.metrics["diverged_gd_over"] == 1.0
    assert out.claims[2].kind == "check" and out.claims[2].holds


def test_on_a_mildly_conditioned_bowl_gd_at_its_best_lr_wins() -> None:
    out = run_demo("momentum_ravine", seed=0, k=10.0)
    assert _settled(out, "gd") < min(_settled(out, "momentum"), _settled(out, "nesterov"))
    assert not out.claims[0].holds
    assert out.answers["first_to_millionth"].option == "plain GD"
    assert out.takeaway.startswith("Plain GD at its best lr 0.182 got f below a millionth")
    assert_words_follow_the_run(out)


def test_without_momentum_nothing_settles_and_the_run_says_so() -> None:
    out = run_demo("momentum_ravine", seed=0, beta=0.0)
    assert out.series["momentum"] == out.series["nesterov"]
    assert not out.claims[0].holds
    assert out.answers["first_to_millionth"].option == "none of them within the steps"
    assert out.takeaway.startswith("In 150 steps none got f below a millionth")
    # The runs keep their names, so the set-up says what they are without momentum.
    assert "(with beta 0 both are plain GD at lr 0.01)" in out.setup
    assert_words_follow_the_run(out)


def test_momentum_past_its_own_stability_limit_diverges() -> None:
    out = run_demo("momentum_ravine", seed=0, k=1000.0)
    assert out.metrics["diverged_momentum"] == out.metrics["diverged_nesterov"] == 1.0
    assert not out.claims[0].holds
    assert "heavy-ball momentum and Nesterov diverged" in out.takeaway
    assert_words_follow_the_run(out)


def test_tuned_heavy_ball_is_first_when_nesterov_overshoots() -> None:
    # lr 0.03, beta 0.67 is near heavy ball's best for k = 100, but past Nesterov's limit.
    out = run_demo("momentum_ravine", seed=0, lr=0.03, beta=0.67)
    assert out.answers["first_to_millionth"].option == "heavy-ball momentum"
    assert _settled(out, "momentum") < 60
    assert "Nesterov diverged" in out.takeaway


def test_path_view_starts_every_method_at_the_same_point() -> None:
    out = run_demo("momentum_ravine", seed=2, view="path")
    starts = {
        (out.series[n]["x"][0], out.series[n]["y"][0]) for n in ("gd", "momentum", "nesterov")
    }
    assert len(starts) == 1
    assert "contour f=f0" in out.series
    assert not out.plot.log_y
    # GD at 2/(L + mu) flips the sign of x2 every step: the zig-zag across the ravine.
    ys = out.series["gd"]["y"][:10]
    assert all(a * b < 0 for a, b in zip(ys, ys[1:], strict=False))
    assert math.isfinite(out.metrics["final_f_momentum"])


@pytest.mark.parametrize("overrides", [{"lr": 0.5}, {"k": 0.5}, {"beta": 1.0}, {"view": "map"}])
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec("momentum_ravine").resolve(overrides)
