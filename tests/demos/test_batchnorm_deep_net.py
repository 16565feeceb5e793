"""batchnorm_deep_net: with BN the deep sigmoid net learns at its best learning rate, the plain
net does not at any of its own; the gradient reaches the first layer only with BN."""

from __future__ import annotations

import math

import pytest

from demos.batchnorm_deep_net import LEARNING_RATES, LEARNS, VANISH
from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo

SEEDS = range(5)


@pytest.fixture(scope="module")
def before() -> list:
    return [run_demo("batchnorm_deep_net", seed=s, bn="before") for s in SEEDS]


@pytest.fixture(scope="module")
def after() -> list:
    return [run_demo("batchnorm_deep_net", seed=s, bn="after") for s in SEEDS]


@pytest.mark.parametrize("where", ["before", "after"])
def test_bn_net_learns_and_plain_net_stays_near_chance(where: str, request) -> None:
    for out in request.getfixturevalue(where):
        m = out.metrics
        assert m["test_accuracy_with_BN"] > 0.85
        assert m["test_accuracy_plain"] < 0.62
        # The claim needs a lead of 0.2; every seed clears it with room to spare.
        assert m["test_accuracy_with_BN"] >= m["test_accuracy_plain"] + 0.35
        assert m["gradient_ratio_with_BN"] >= 5e3 * m["gradient_ratio_plain"]
        assert all(c.holds and c.kind == "experiment" for c in out.claims)
        assert_words_follow_the_run(out)
        assert out.answers["plain_learns"].option == LEARNS[2]
        assert out.answers["vanish"].option == VANISH[2]


def test_the_plain_net_sits_at_ln_2_at_every_learning_rate(before: list) -> None:
    out = before[0]
    rows = [r for r in out.table.rows if r[0] == "plain"]
    assert [r[1] for r in rows] == list(LEARNING_RATES)
    for row in rows:
        assert row[2] == "diverged" or row[2] == pytest.approx(math.log(2), abs=0.02)
    assert sum(r[5] == "yes" for r in out.table.rows) == 2, "one learning rate picked per net"


def test_each_net_is_judged_at_its_lowest_validation_loss(before: list) -> None:
    for out in before:
        for name in ("plain", "with BN"):
            rows = [r for r in out.table.rows if r[0] == name]
            picked = next(r for r in rows if r[5] == "yes")
            finite = [r[3] for r in rows if r[3] != "diverged"]
            assert picked[3] == min(finite)
            key = name.replace(" ", "_")
            assert out.metrics[f"learning_rate_{key}"] == picked[1]
            assert out.metrics[f"test_accuracy_{key}"] == pytest.approx(picked[4], abs=1e-3)
        assert "validation loss" in out.setup and "each learning rate" in out.setup


def test_bn_off_makes_both_claims_fail_and_says_why() -> None:
    out = run_demo("batchnorm_deep_net", bn="off", steps=20)
    m = out.metrics
    plain = out.series[f"loss plain (lr {m['learning_rate_plain']:g})"]
    assert plain == out.series[f"loss with BN (lr {m['learning_rate_with_BN']:g})"]
    assert not any(c.holds for c in out.claims)
    assert_words_follow_the_run(out)
    assert out.takeaway.count("same plain net") == 2
    assert "with BN it falls" not in out.takeaway


def test_a_shallow_net_learns_without_bn_given_enough_steps() -> None:
    out = run_demo("batchnorm_deep_net", seed=0, depth=2, steps=1000)
    m = out.metrics
    assert m["test_accuracy_plain"] > 0.9
    assert abs(m["test_accuracy_with_BN"] - m["test_accuracy_plain"]) < 0.1
    accuracy, flow = out.claims
    assert not accuracy.holds and not flow.holds
    assert_words_follow_the_run(out)
    assert out.takeaway.startswith("BN before each sigmoid is less than 0.2 ahead here")
    assert f"{m['test_accuracy_plain']:.3g} without" in out.takeaway
    assert out.answers["plain_learns"].option == LEARNS[0]
    assert out.answers["vanish"].option == VANISH[1]
    assert 1e-3 <= m["gradient_ratio_plain"] < 0.1


def test_partly_learned_plain_net_is_answered_partly() -> None:
    out = run_demo("batchnorm_deep_net", seed=0, depth=2, steps=500, points=48)
    assert 0.6 < out.metrics["test_accuracy_plain"] <= 0.9
    assert out.answers["plain_learns"].option == LEARNS[1]


def test_a_narrow_two_layer_net_keeps_its_gradient() -> None:
    out = run_demo("batchnorm_deep_net", seed=0, depth=2, width=4, steps=20, points=32)
    assert out.metrics["gradient_ratio_plain"] >= 0.1
    assert out.answers["vanish"].option == VANISH[0]
    assert not out.claims[1].holds
    assert "short of 1000x" in out.takeaway


def test_asking_for_cuda_without_it_is_an_error() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="no CUDA"):
        run_demo("batchnorm_deep_net", device="cuda")


@pytest.mark.parametrize(
    "overrides",
    [
        {"bn": "middle"},
        {"depth": 21},
        {"depth": 1},
        {"steps": 1001},
        {"width": 33},
        {"points": 129},
    ],
)
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec("batchnorm_deep_net").resolve(overrides)
