"""saddle_escape: noise and momentum leave a saddle; exact GD on the stable line never does."""

from __future__ import annotations

import pytest

from studyapp.demo_api import DemoOutput, ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo


@pytest.fixture(scope="module")
def out() -> DemoOutput:
    return run_demo("saddle_escape", seed=0)


def _claim(out: DemoOutput, start: str):
    return next(c for c in out.claims if c.text.startswith(start))


@pytest.mark.parametrize("seed", range(5))
def test_every_claim_holds_with_room_at_five_seeds(seed: int) -> None:
    out = run_demo("saddle_escape", seed=seed)
    assert all(c.holds for c in out.claims), [c.text for c in out.claims if not c.holds]
    m = out.metrics
    steps = get_spec("saddle_escape").tiny["steps"]
    assert m["escape_noisy_gd"] <= 0.6 * steps
    assert m["escape_momentum"] <= 0.6 * m["escape_gd"]
    assert_words_follow_the_run(out)


def test_exact_gd_on_the_line_slides_into_the_saddle(out: DemoOutput) -> None:
    on_line = out.series["gd on the line"]["y"]
    assert min(on_line) >= 0.0  # f = x²/2 on the line: never below the saddle's level
    assert on_line[-1] < 1e-6
    assert out.metrics["final_f_on_line"] >= 0.0
    # the runs that left end near a minimum, f = -1/4
    for name in ("gd", "momentum", "noisy gd"):
        assert out.series[name]["y"][-1] < -0.24


def test_escape_time_grows_by_the_same_steps_per_decade() -> None:
    out = run_demo("saddle_escape", seed=0, view="distance", lr=0.2)
    ladder = out.series["steps to leave (plain GD)"]["y"]
    gaps = [b - a for a, b in zip(ladder, ladder[1:], strict=False)]
    assert all(g > 0 for g in gaps)
    assert max(gaps) - min(gaps) <= 1  # two decades each: the same steps up to rounding
    assert out.metrics["steps_per_decade"] == pytest.approx(
        out.metrics["steps_per_decade_theory"], rel=0.03
    )


def test_without_noise_gd_on_the_line_never_leaves_and_the_words_say_so() -> None:
    out = run_demo("saddle_escape", seed=1, noise=0.0)
    noise = _claim(out, "Started exactly on the stable line")
    assert not noise.holds
    assert "escape_noisy_gd" not in out.metrics
    assert "never leaves it" in out.takeaway
    assert out.answers["noise"].option == "plain gradient descent"
    assert_words_follow_the_run(out)


def test_without_momentum_both_leave_together_and_the_words_say_so() -> None:
    out = run_demo("saddle_escape", seed=2, beta=0.0)
    momentum = _claim(out, "From delta")
    assert not momentum.holds
    assert out.metrics["escape_momentum"] == out.metrics["escape_gd"]
    assert "at the same step as plain GD" in out.takeaway
    assert out.answers["momentum"].option == "both at the same step"
    assert_words_follow_the_run(out)


def test_too_few_steps_leave_nobody_off_the_saddle() -> None:
    out = run_demo("saddle_escape", seed=0, steps=20)
    assert not any(c.holds for c in out.claims if c.kind == "experiment")
    assert all(c.holds for c in out.claims if c.kind == "check")
    assert out.answers["momentum"].option == "neither in the run"
    assert out.answers["noise"].option == "neither in the run"
    assert "did not carry GD off the saddle" in out.takeaway
    assert_words_follow_the_run(out)


def test_a_start_far_off_the_line_beats_the_noise() -> None:
    far = run_demo("saddle_escape", seed=0, delta=0.1)
    near = run_demo("saddle_escape", seed=0, delta=1e-12, noise=0.05)
    assert far.metrics["escape_gd"] < far.metrics["escape_noisy_gd"]
    assert far.answers["noise"].option == "plain gradient descent"
    # from 1e-12 plain GD needs about 290 steps, more than the tiny run has
    assert near.metrics["escape_noisy_gd"] < near.metrics.get("escape_gd", float("inf"))
    assert near.answers["noise"].option == "noisy gradient descent"
    assert near.answers["momentum"].option == "momentum"


def test_the_path_view_starts_the_off_line_runs_together() -> None:
    out = run_demo("saddle_escape", seed=3, view="path", lr=0.5, beta=0.99)
    starts = {(out.series[n]["x"][0], out.series[n]["y"][0]) for n in ("gd", "momentum")}
    assert len(starts) == 1
    assert out.series["gd on the line"]["y"] == [0.0] * len(out.series["gd on the line"]["y"])


@pytest.mark.parametrize(
    "overrides",
    [{"lr": 0.6}, {"lr": 0.001}, {"beta": 1.0}, {"delta": 0.0}, {"noise": -0.1}, {"steps": 5}],
)
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec("saddle_escape").resolve(overrides)
