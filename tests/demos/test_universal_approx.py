"""universal_approx: wider hidden layers fit the curve better; a straight line cannot."""

from __future__ import annotations

import pytest

from demos.universal_approx import TARGETS, _Nets
from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import run_demo

torch = pytest.importorskip("torch")


def _mse(series: dict, label: str) -> float:
    fit, target = series[label]["y"], series["target"]["y"]
    return sum((a - b) ** 2 for a, b in zip(fit, target, strict=True)) / len(target)


def test_errors_read_from_the_fitted_curves() -> None:
    out = run_demo("universal_approx")
    errors = [_mse(out.series, f"width {w}") for w in (2, 8, 64)]
    assert errors[0] > 1.5 * errors[1] > 2.25 * errors[2]
    linear = _mse(out.series, "linear regression")
    assert linear == pytest.approx(out.metrics["linear_error"], rel=1e-3)
    assert linear >= 0.5 * out.metrics["target_variance"]


def test_side_by_side_gradients_equal_autograd() -> None:
    torch.manual_seed(0)
    nets = _Nets([2, 8, 64], "tanh", "cpu")
    x = 10 * torch.rand(50, 1) - 5
    y = TARGETS["wiggle"](x)
    nets.backward(x, y)
    manual = nets.theta.grad.clone()
    nets.theta = nets.theta.detach().clone().requires_grad_()
    ((nets(x) - y) ** 2).mean(0).sum().backward()
    assert torch.allclose(nets.theta.grad, manual, atol=1e-6)


def test_a_one_unit_wide_net_does_not_beat_the_middle_one() -> None:
    out = run_demo("universal_approx", width_large=1)
    assert not out.claims[0].holds


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("universal_approx")
    with pytest.raises(ParamError):
        spec.resolve({"width_large": 0})
    with pytest.raises(ParamError):
        spec.resolve({"target": "square"})
