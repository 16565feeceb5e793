"""autograd_chain_rule: hand backward pass = autograd; finite differences only approach it."""

from __future__ import annotations

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import run_demo


@pytest.mark.parametrize("function", ["tanh", "sigmoid", "softplus"])
def test_hand_chain_rule_matches_autograd(function: str) -> None:
    out = run_demo("autograd_chain_rule", function=function)
    assert out.metrics["rel_error_hand"] <= 1e-12
    assert out.metrics["gradcheck_passed"] == 1.0
    assert all(c.holds for c in out.claims)


def test_central_difference_error_is_lowest_at_a_middle_step() -> None:
    out = run_demo("autograd_chain_rule")
    central = out.series["central"]
    xs, ys = central["x"], central["y"]
    best = min(range(len(ys)), key=ys.__getitem__)
    assert 0 < best < len(ys) - 1
    assert -8 <= xs[best] <= -3
    assert ys[0] >= 100 * ys[best] and ys[-1] >= 100 * ys[best]


def test_forward_differences_are_worse_than_central_ones() -> None:
    out = run_demo("autograd_chain_rule", h=1e-4)
    assert out.metrics["rel_error_forward"] > 10 * out.metrics["rel_error_central"]


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
