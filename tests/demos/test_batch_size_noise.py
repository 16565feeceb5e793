"""batch_size_noise: minibatch gradient variance falls as 1/B; per epoch SGD gets further than
the full batch at first, the full batch wins given enough epochs; the best learning rate grows
with the batch size; an epoch is ceil(N/B) iterations."""

from __future__ import annotations

import math

import pytest

from demos.batch_size_noise import LEARNING_RATES, VARIANCE, WINNERS
from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo

EXCESS = {WINNERS[0]: "excess_sgd", WINNERS[1]: "excess_minibatch", WINNERS[2]: "excess_full"}


@pytest.fixture(scope="module")
def runs() -> list:
    return [run_demo("batch_size_noise", seed=s) for s in range(5)]


def test_sgd_gets_further_per_epoch_and_larger_batches_take_larger_rates(runs: list) -> None:
    for out in runs:
        m = out.metrics
        assert m["excess_sgd"] * 10 < m["excess_full"]
        keys = ("learning_rate_sgd", "learning_rate_minibatch", "learning_rate_full")
        steps = [LEARNING_RATES.index(m[k]) for k in keys]
        assert steps[0] < steps[1] < steps[2]  # each a grid step (3x) or more above the last
        assert [c.kind for c in out.claims] == ["experiment", "experiment", "check", "check"]
        assert all(c.holds for c in out.claims)
        assert_words_follow_the_run(out)
        assert out.headline.startswith("Per epoch, small batches get further")
        assert out.answers["race"].option == min(WINNERS, key=lambda w: m[EXCESS[w]])
        assert out.answers["variance"].option == VARIANCE[0]


def test_variance_falls_as_one_over_b(runs: list) -> None:
    for out in runs:
        m = out.metrics
        assert 3.5 < m["variance_b1"] / m["variance_b4"] < 4.6
        assert m["variance_b1"] == pytest.approx(m["sigma2"], rel=0.15)
        assert -1.1 < m["slope"] < -0.9
        assert m["worst_standard_errors"] < 4.0  # the check allows 5


def test_the_curves_are_each_batch_size_at_its_picked_rate(runs: list) -> None:
    out = runs[0]
    m = out.metrics
    for key, name in (("sgd", WINNERS[0]), ("full", WINNERS[2])):
        curve = out.series[f"{name}, lr {m[f'learning_rate_{key}']:g}"]
        assert curve["x"][0] == 0.0 and curve["x"][-1] == 1.0  # the tiny run is one epoch
        assert curve["y"][-1] == pytest.approx(m[f"excess_{key}"], rel=1e-5)
    assert m["learning_rate_sgd"] in LEARNING_RATES


def test_iterations_are_ceil_n_over_b_times_epochs() -> None:
    out = run_demo("batch_size_noise", seed=0, points=300, epochs=3, max_batch=128)
    assert out.metrics["iterations_sgd"] == 300 * 3
    assert out.metrics["iterations_minibatch"] == math.ceil(300 / 32) * 3
    assert out.metrics["iterations_full"] == 3
    assert out.claims[3].holds and "B = 32: 30 counted, 30 expected" in out.claims[3].text


@pytest.mark.parametrize("seed", [0, 1])
def test_given_enough_epochs_the_full_batch_wins_and_says_so(seed: int) -> None:
    out = run_demo("batch_size_noise", seed=seed, points=200, epochs=10)
    m = out.metrics
    assert m["excess_full"] * 3 < m["excess_sgd"]
    assert not out.claims[0].holds
    assert_words_follow_the_run(out)
    assert out.headline.startswith("After 10 epochs full-batch descent (10 exact updates)")
    assert "small batches get further" not in out.takeaway
    assert out.answers["race"].option == WINNERS[2]


def test_a_small_set_gives_the_minibatch_and_the_full_batch_one_rate() -> None:
    # The link of the card on epochs and iterations uses this setting.
    out = run_demo("batch_size_noise", seed=0, points=200, epochs=1)
    m = out.metrics
    assert m["learning_rate_minibatch"] == m["learning_rate_full"]
    assert out.claims[0].holds and not out.claims[1].holds
    assert_words_follow_the_run(out)
    assert "do not grow with the batch size" in out.takeaway
    assert "calls for a larger rate" not in out.takeaway
    assert "in 1 epoch SGD made 200 noisy updates" in out.takeaway


def test_a_large_set_in_one_epoch_can_favour_the_minibatch() -> None:
    out = run_demo("batch_size_noise", seed=0, points=4000, epochs=1)
    m = out.metrics
    assert m["excess_minibatch"] < m["excess_sgd"] < m["excess_full"]
    assert out.answers["race"].option == WINNERS[1]


@pytest.mark.parametrize(
    "overrides", [{"max_batch": 2}, {"points": 10}, {"epochs": 0}, {"epochs": 11}, {"draws": 50}]
)
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec("batch_size_noise").resolve(overrides)
