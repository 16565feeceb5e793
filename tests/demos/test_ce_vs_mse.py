"""ce_vs_mse: a saturated sigmoid neuron escapes fast with cross-entropy and crawls with MSE,
whose steps are smallest where the neuron is most wrong."""

from __future__ import annotations

import math

import pytest

from demos.ce_vs_mse import LARGEST, RACE
from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo


def _curve(value: object) -> list[float]:
    return value["y"] if isinstance(value, dict) else value  # type: ignore[index,return-value]


@pytest.mark.parametrize("seed", range(5))
def test_cross_entropy_escapes_while_mse_crawls(seed: int) -> None:
    out = run_demo("ce_vs_mse", seed=seed)
    ce, mse = _curve(out.series["cross-entropy"]), _curve(out.series["MSE"])
    escape = next(i for i, a in enumerate(ce) if a <= 0.5)
    assert escape == out.metrics["epochs_to_escape_ce"]
    assert 0 < escape < 10
    assert mse[escape] > 0.95, "MSE has barely moved when cross-entropy is already out"
    assert out.metrics["epochs_to_escape_mse"] > 6 * escape  # the claim needs 5x
    m = out.metrics
    assert m["first_step_mse"] < 0.15 * m["largest_step_mse"]  # the claim allows 20%
    assert m["first_step_ce"] == m["largest_step_ce"]
    assert [c.kind for c in out.claims] == ["experiment", "experiment", "check"]
    assert all(c.holds for c in out.claims)
    assert_words_follow_the_run(out)
    assert out.answers["race"].option == RACE[0]
    assert out.answers["largest"].option == LARGEST[1]


def test_gradient_ratio_is_the_sigmoid_slope() -> None:
    out = run_demo("ce_vs_mse", w0=2.0, b0=2.0)
    a = 1 / (1 + math.exp(-4.0))
    assert out.metrics["gradient_ratio"] == pytest.approx(a * (1 - a), rel=1e-9)
    assert out.metrics["first_step_ce"] == pytest.approx(0.5 * a, rel=1e-9)  # tiny: lr 0.5


def test_an_unsaturated_start_shows_no_slowdown_and_says_so() -> None:
    out = run_demo("ce_vs_mse", w0=0.5, b0=0.5)
    m = out.metrics
    assert m["gradient_ratio"] > 0.15
    assert m["first_step_mse"] > 0.9 * m["largest_step_mse"]
    race, plateau, check = out.claims
    assert not race.holds and not plateau.holds and check.holds
    assert_words_follow_the_run(out)
    assert "less than 5x later" in out.takeaway
    assert "there is no slow start to see here" in out.takeaway
    assert out.answers["race"].option == RACE[1]


def test_a_neuron_that_starts_right_has_nothing_to_escape() -> None:
    out = run_demo("ce_vs_mse", w0=-2.0, b0=-2.0)
    assert out.metrics["epochs_to_escape_ce"] == out.metrics["epochs_to_escape_mse"] == 0
    assert not any(c.holds for c in out.claims if c.kind == "experiment")
    assert_words_follow_the_run(out)
    assert out.headline.startswith("The neuron starts at output 0.018, already below 0.5")
    assert out.answers["race"].option == RACE[2]
    assert out.answers["largest"].option == LARGEST[0]


def test_a_tiny_learning_rate_is_too_short_to_race() -> None:
    out = run_demo("ce_vs_mse", lr=0.001)
    assert out.metrics["epochs_to_escape_ce"] == out.metrics["epochs_to_escape_mse"] == 151
    assert not out.claims[0].holds and not out.claims[1].holds
    assert_words_follow_the_run(out)
    assert "the run is too short to race" in out.takeaway
    assert "MSE learns slowest" not in out.takeaway
    assert out.answers["race"].option == RACE[3]


def test_a_huge_learning_rate_still_leaves_mse_behind() -> None:
    out = run_demo("ce_vs_mse", lr=5.0)
    assert out.metrics["epochs_to_escape_ce"] == 1
    assert out.metrics["epochs_to_escape_mse"] >= 5
    assert all(c.holds for c in out.claims)


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("ce_vs_mse")
    with pytest.raises(ParamError):
        spec.resolve({"lr": 10.0})
    with pytest.raises(ParamError):
        spec.resolve({"epochs": 5})
    with pytest.raises(ParamError):
        spec.resolve({"w0": 7.0})
