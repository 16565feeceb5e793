"""autograd_chain_rule: hand backward pass = autograd; finite differences depend on their step."""

from __future__ import annotations

import pytest

from demos.autograd_chain_rule import Q_BEST_STEP, Q_CENTRAL
from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo


@pytest.mark.parametrize("function", ["tanh", "sigmoid", "softplus", "identity"])
def test_hand_chain_rule_matches_autograd(function: str) -> None:
    out = run_demo("autograd_chain_rule", function=function)
    assert out.metrics["rel_error_hand"] <= 1e-12
    assert out.metrics["gradcheck_passed"] == 1.0
    checks = [c for c in out.claims if c.kind == "check"]
    assert len(checks) == 2 and all(c.holds for c in checks)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_central_difference_error_is_lowest_at_a_middle_step(seed: int) -> None:
    out = run_demo("autograd_chain_rule", seed=seed)
    central = out.series["central"]
    xs, ys = central["x"], central["y"]
    best = min(range(len(ys)), key=ys.__getitem__)
    assert -8 <= xs[best] <= -3
    assert ys[0] >= 1000 * ys[best] and ys[-1] >= 1000 * ys[best]
    assert all(c.holds for c in out.claims)
    assert_words_follow_the_run(out)
    assert "Finite differences are only as good as their step" in out.takeaway
    assert out.answers["best_step"].option == Q_BEST_STEP.options[1]


def test_without_an_activation_the_largest_step_is_best_and_the_words_say_why() -> None:
    out = run_demo("autograd_chain_rule", function="identity")
    ys = out.series["central"]["y"]
    assert ys[-1] == min(ys)
    assert ys[0] >= 1e6 * ys[-1]
    assert not out.claims[0].holds
    assert_words_follow_the_run(out)
    assert "a central difference is exact for a quadratic" in out.takeaway
    assert out.answers["best_step"].option == Q_BEST_STEP.options[2]


@pytest.mark.parametrize(
    ("h", "option"), [(1e-4, Q_CENTRAL.options[0]), (1e-10, Q_CENTRAL.options[1])]
)
def test_central_beats_forward_only_where_truncation_matters(h: float, option: str) -> None:
    out = run_demo("autograd_chain_rule", h=h)
    ratio = out.metrics["rel_error_forward"] / out.metrics["rel_error_central"]
    assert out.answers["central"].option == option
    assert (ratio > 3) == (option == Q_CENTRAL.options[0])
    if option == Q_CENTRAL.options[0]:
        assert ratio > 30


def test_a_large_step_makes_finite_differences_worse() -> None:
    small = run_demo("autograd_chain_rule", h=1e-6).metrics["rel_error_central"]
    large = run_demo("autograd_chain_rule", h=1e-2).metrics["rel_error_central"]
    assert large > 100 * small


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("autograd_chain_rule")
    with pytest.raises(ParamError):
        spec.resolve({"h": 0.5})
    with pytest.raises(ParamError):
        spec.resolve({"function": "relu"})
