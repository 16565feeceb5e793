"""conv_equivariance_params: cross-correlation, shift equivariance, pooling, parameter count."""

from __future__ import annotations

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import run_demo


@pytest.mark.parametrize(("k", "c_in", "c_out"), [(2, 1, 1), (3, 3, 4), (5, 8, 16), (7, 2, 3)])
def test_parameter_count_follows_the_formula(k: int, c_in: int, c_out: int) -> None:
    out = run_demo("conv_equivariance_params", kernel=k, in_channels=c_in, out_channels=c_out)
    assert out.metrics["param_count"] == (k * k * c_in + 1) * c_out
    assert out.claims[-1].holds


def test_shifted_input_gives_the_same_row_moved_right() -> None:
    shift = 3
    out = run_demo("conv_equivariance_params", shift=shift)
    plain = out.series["feature map row (filter 0)"]["y"]
    moved = out.series[f"feature map row, input shifted by {shift}"]["y"]
    assert moved[shift:] == plain[:-shift]
    assert plain != moved


def test_conv2d_is_not_the_flipped_convolution() -> None:
    out = run_demo("conv_equivariance_params")
    assert out.metrics["max_diff_cross_correlation"] <= 1e-12
    assert out.metrics["max_diff_flipped_convolution"] > 0.1
    assert out.metrics["max_diff_global_pool"] == 0.0


def test_local_pooling_is_only_partly_invariant() -> None:
    out = run_demo("conv_equivariance_params", shift=1, pool=2)
    assert 0.0 < out.metrics["local_pool_unchanged_shift_1"] < 1.0


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("conv_equivariance_params")
    with pytest.raises(ParamError):
        spec.resolve({"kernel": 1})
    with pytest.raises(ParamError):
        spec.resolve({"shift": 9})
