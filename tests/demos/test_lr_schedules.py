"""lr_schedules: torch's schedulers follow their formulas; decaying beats the best constant lr."""

from __future__ import annotations

import math

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo

LR0 = 0.4
STEPS = get_spec("lr_schedules").tiny["steps"]


@pytest.fixture(scope="module")
def tiny_runs() -> list:
    return [run_demo("lr_schedules", seed=seed) for seed in range(5)]


def test_cosine_beats_the_best_constant_rate_by_a_margin_at_every_seed(tiny_runs: list) -> None:
    for out in tiny_runs:
        m = out.metrics
        constants = [m[k] for k in m if k.startswith("final_excess_constant_div_")]
        assert len(constants) == 5 and m["best_constant_excess"] == min(constants)
        assert m["final_excess_cosine"] * 3 <= m["best_constant_excess"]
        # The sweep brackets the best constant rate: the largest and smallest both do worse.
        assert m["best_constant_excess"] * 2 <= min(
            m["final_excess_constant_div_1"], m["final_excess_constant_div_100"]
        )
        assert all(c.holds for c in out.claims)
        assert out.answers["schedule_or_constant"].option == "a decaying schedule"
        # Only five constant rates were tried: the lesson says so rather than "every rate".
        assert out.takeaway.startswith("A schedule beat every constant rate tried: cosine ended at")
        assert_words_follow_the_run(out)


def test_every_schedule_follows_its_formula_and_the_lesson_counts_the_winners() -> None:
    out = run_demo("lr_schedules", seed=2, schedule="all")
    m = out.metrics
    decaying = {
        k: v
        for k, v in m.items()
        if k.startswith("final_excess_") and not k.startswith("final_excess_constant")
    }
    assert len(decaying) == 7
    assert min(decaying.values()) * 3 <= m["best_constant_excess"]
    assert all(m[f"formula_gap_{k[13:]}"] <= 1e-9 for k in decaying)
    assert all(c.holds for c in out.claims)
    beaten = sum(v < m["best_constant_excess"] for v in decaying.values())
    assert f"{beaten} of 7 schedules ended below it" in out.takeaway
    assert_words_follow_the_run(out)


def test_power_decay_front_loads_its_drop_and_is_reported_alone() -> None:
    out = run_demo("lr_schedules", seed=0, schedule="power")
    lrs = out.series["power"]["y"]
    assert lrs[-1] == pytest.approx(LR0 * 0.01, rel=0.05)
    assert not out.claims[0].holds
    assert out.answers["schedule_or_constant"].option == "the best constant lr"
    assert out.takeaway.startswith("No schedule ended below the best constant rate")
    assert_words_follow_the_run(out)


def test_cosine_series_matches_the_closed_form() -> None:
    out = run_demo("lr_schedules", seed=0, schedule="cosine")
    low = LR0 * 0.01
    series = out.series["cosine"]
    for t, lr in zip(series["x"], series["y"], strict=True):
        expected = low + (LR0 - low) * (1 + math.cos(math.pi * t / STEPS)) / 2
        assert lr == pytest.approx(expected, rel=1e-5)
    assert out.claims[1].kind == "check" and out.claims[1].holds


def test_exponential_shrinks_by_a_constant_factor() -> None:
    out = run_demo("lr_schedules", seed=0, schedule="exponential")
    ys = out.series["exponential"]["y"]
    ratios = [b / a for a, b in zip(ys, ys[1:], strict=False)]
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-4)


def test_plateau_only_halves() -> None:
    out = run_demo("lr_schedules", seed=1, schedule="plateau")
    for lr in out.series["plateau"]["y"]:
        j = math.log(lr / LR0, 0.5)
        assert j == pytest.approx(round(j), abs=1e-4) or lr == pytest.approx(LR0 * 0.01)


def test_without_decay_the_schedules_stay_at_lr0_and_lose() -> None:
    out = run_demo("lr_schedules", seed=0, schedule="cosine", decay=1.0)
    assert set(out.series["cosine"]["y"]) == {LR0}
    assert out.claims[1].holds
    assert not out.claims[0].holds
    assert out.answers["schedule_or_constant"].option == "the best constant lr"
    assert out.takeaway.startswith("No schedule ended below the best constant rate")
    assert_words_follow_the_run(out)


def test_too_small_a_start_makes_decay_a_loss_and_the_run_says_why() -> None:
    out = run_demo("lr_schedules", seed=0, lr0=0.05)
    assert out.metrics["best_constant_lr"] == pytest.approx(0.05)
    assert not out.claims[0].holds
    assert "The best constant rate was lr0 itself and every smaller one ended higher" in (
        out.takeaway
    )
    assert_words_follow_the_run(out)


def test_a_start_past_the_stable_rate_diverges_and_is_reported() -> None:
    out = run_demo("lr_schedules", seed=0, lr0=1.0, schedule="cosine")
    assert out.metrics["final_excess_cosine"] >= 1e6
    assert "cosine, ended" not in out.takeaway and "diverged" in out.claims[0].text
    assert all(math.isfinite(v) for v in out.metrics.values())


def test_a_warm_up_longer_than_the_run_is_cut_and_the_set_up_says_so() -> None:
    out = run_demo("lr_schedules", seed=0, schedule="warmup_cosine", warmup=1000, steps=200)
    lrs = out.series["warmup_cosine"]["y"]
    assert lrs[-1] == pytest.approx(LR0, rel=1e-6)  # the warm-up took all but the last step
    assert "warms up for 199 of the 200 steps (warmup 1000 cut to fit the run)" in out.setup
    short = run_demo("lr_schedules", seed=0, schedule="warmup_cosine", warmup=40)
    assert f"warms up for 40 of the {STEPS} steps and anneals over the other" in short.setup
    assert "cut" not in short.setup


def test_one_schedule_runs_beside_constant_only(tiny_runs: list) -> None:
    assert set(tiny_runs[0].series) == {"constant", "cosine"}
    out = run_demo("lr_schedules", seed=0, schedule="warmup_cosine", view="loss")
    assert set(out.series) == {"constant", "warmup_cosine"}
    assert out.plot.log_y


@pytest.mark.parametrize("overrides", [{"schedule": "step"}, {"lr0": 2.0}, {"decay": 0.0}])
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec("lr_schedules").resolve(overrides)
