"""ce_vs_mse: a saturated sigmoid neuron escapes fast with cross-entropy and crawls with MSE."""

from __future__ import annotations

import math

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import run_demo


def _curve(value: object) -> list[float]:
    return value["y"] if isinstance(value, dict) else value  # type: ignore[index,return-value]


def test_cross_entropy_escapes_while_mse_is_still_saturated() -> None:
    out = run_demo("ce_vs_mse")
    ce, mse = _curve(out.series["cross-entropy"]), _curve(out.series["MSE"])
    escape = next(i for i, a in enumerate(ce) if a <= 0.5)
    assert escape == out.metrics["epochs_to_escape_ce"]
    assert 0 < escape < 30
    assert mse[escape] > 0.95, "MSE has barely moved when cross-entropy is already out"
    assert all(c.holds for c in out.claims)


def test_gradient_ratio_is_the_sigmoid_slope() -> None:
    out = run_demo("ce_vs_mse", w0=2.0, b0=2.0)
    z = 2.0 * 1.0 + 2.0
    a = 1 / (1 + math.exp(-z))
    assert out.metrics["gradient_ratio"] == pytest.approx(a * (1 - a), rel=1e-9)
    assert out.metrics["first_grad_b_ce"] == pytest.approx(a, rel=1e-9)


def test_unsaturated_start_shows_no_slowdown() -> None:
    out = run_demo("ce_vs_mse", w0=0.5, b0=0.5)
    assert out.metrics["gradient_ratio"] > 0.1
    assert not any(c.holds for c in out.claims)


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("ce_vs_mse")
    with pytest.raises(ParamError):
        spec.resolve({"lr": 10.0})
    with pytest.raises(ParamError):
        spec.resolve({"epochs": 5})
