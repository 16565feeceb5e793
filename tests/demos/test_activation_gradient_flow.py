"""activation_gradient_flow: sigmoid gradients vanish with depth, ReLU with He init does not."""

from __future__ import annotations

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import run_demo


def _curve(out, prefix: str) -> list[float]:
    (label,) = [k for k in out.series if k.startswith(prefix + " (")]
    return out.series[label]["y"]


def test_sigmoid_vanishes_and_relu_stays_level() -> None:
    out = run_demo("activation_gradient_flow")
    sigmoid, relu = _curve(out, "sigmoid"), _curve(out, "relu")
    assert sigmoid[-1] / sigmoid[0] >= 1e4
    assert max(relu) / min(relu) <= 5
    assert all(c.holds for c in out.claims)


def test_vanishing_gets_worse_with_depth() -> None:
    shallow = run_demo("activation_gradient_flow", depth=4).metrics["sigmoid_last_over_first"]
    deep = run_demo("activation_gradient_flow", depth=15).metrics["sigmoid_last_over_first"]
    assert deep > 1000 * shallow


def test_relu_with_xavier_init_loses_the_level_gradient() -> None:
    matched = run_demo("activation_gradient_flow").metrics["relu_spread"]
    out = run_demo("activation_gradient_flow", init="xavier")
    assert out.metrics["relu_spread"] > 10 * matched
    relu_claim = [c for c in out.claims if c.text.startswith("ReLU")][0]
    assert "xavier" in relu_claim.text and not relu_claim.holds


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("activation_gradient_flow")
    with pytest.raises(ParamError):
        spec.resolve({"batch": 0})
    with pytest.raises(ParamError):
        spec.resolve({"init": "orthogonal"})
