"""perceptron_margin: the perceptron settles on separable data, far within Novikoff's bound,
and never on XOR; each outcome is said as it happened."""

from __future__ import annotations

import pytest

from demos.perceptron_margin import BOUND, XOR
from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo


@pytest.mark.parametrize("seed", range(5))
def test_separable_data_settles_far_within_the_bound_and_xor_never_does(seed: int) -> None:
    out = run_demo("perceptron_margin", seed=seed)
    m = out.metrics
    assert m["bound"] == pytest.approx((m["radius"] / m["gamma"]) ** 2)
    assert m["gamma"] >= 0.1 and m["radius"] <= 1.0
    per_epoch = out.series["separable: mistakes per epoch"]
    assert sum(per_epoch) == m["total_mistakes"] <= 0.2 * m["bound"]  # the claim needs 25%
    assert m["first_clean_epoch"] <= 10 < 20  # the tiny run has 20 epochs
    assert m["xor_min_mistakes"] >= 5
    assert [c.kind for c in out.claims] == ["experiment"] * 3 + ["check"]
    assert all(c.holds for c in out.claims)
    assert_words_follow_the_run(out)
    assert out.answers["bound"].option == BOUND[2]
    assert out.answers["xor"].option == XOR[1]


def test_after_a_clean_epoch_the_perceptron_stops_changing() -> None:
    per_epoch = run_demo("perceptron_margin").series["separable: mistakes per epoch"]
    first_clean = per_epoch.index(0)
    assert all(m == 0 for m in per_epoch[first_clean:])


def test_exact_xor_errs_in_every_epoch() -> None:
    out = run_demo("perceptron_margin", xor_spread=0.0)
    assert min(out.series["XOR: mistakes per epoch"]) > 0
    assert out.claims[1].holds


def test_a_smaller_margin_loosens_the_bound() -> None:
    wide = run_demo("perceptron_margin", margin=0.3).metrics["bound"]
    narrow = run_demo("perceptron_margin", margin=0.03).metrics["bound"]
    assert narrow > 50 * wide


def test_one_epoch_is_too_few_to_settle_and_says_so() -> None:
    out = run_demo("perceptron_margin", epochs=1)
    assert out.series["separable: mistakes per epoch"][0] >= 1  # zero weights err at once
    assert not out.claims[0].holds
    assert_words_follow_the_run(out)
    assert out.headline.startswith("In 1 epoch the perceptron never got through")
    assert "stops making mistakes" not in out.takeaway


def test_a_wide_margin_makes_the_bound_close() -> None:
    out = run_demo("perceptron_margin", margin=0.5)
    m = out.metrics
    assert m["bound"] < 4.0 and m["total_mistakes"] >= 0.25 * m["bound"]
    assert not out.claims[2].holds and out.claims[3].holds
    assert_words_follow_the_run(out)
    assert "Here the bound is close" in out.takeaway
    assert out.answers["bound"].option == BOUND[1]


def test_a_few_noisy_xor_points_can_be_separable() -> None:
    out = run_demo("perceptron_margin", seed=2, xor_points=4, xor_spread=1.0)
    curve = out.series["XOR: mistakes per epoch"]
    assert min(curve) == 0
    assert not out.claims[1].holds
    assert_words_follow_the_run(out)
    assert "happen to be separable by a line" in out.takeaway
    assert "No line separates" not in out.takeaway
    assert out.answers["xor"].option == XOR[0]


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("perceptron_margin")
    for bad in ({"margin": 0.0}, {"points": 5}, {"epochs": 0}, {"xor_spread": 2.0}):
        with pytest.raises(ParamError):
            spec.resolve(bad)
