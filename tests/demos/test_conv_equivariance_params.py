"""conv_equivariance_params: cross-correlation, equivariance, pooling, parameter count."""

from __future__ import annotations

import pytest

from demos.conv_equivariance_params import Q_KEPT
from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo


@pytest.mark.parametrize(("k", "c_in", "c_out"), [(2, 1, 1), (3, 3, 4), (5, 8, 16), (7, 2, 3)])
def test_parameter_count_follows_the_formula(k: int, c_in: int, c_out: int) -> None:
    out = run_demo("conv_equivariance_params", kernel=k, in_channels=c_in, out_channels=c_out)
    assert out.metrics["param_count"] == (k * k * c_in + 1) * c_out
    assert out.claims[-1].holds and out.claims[-1].kind == "check"


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_a_small_shift_leaves_some_pooled_outputs_in_place_and_a_pool_sized_one_none(
    seed: int,
) -> None:
    out = run_demo("conv_equivariance_params", seed=seed)
    m = out.metrics
    assert m["pool_kept_at_shift"] >= 2 * 0.05
    assert m["pool_kept_beyond_pool_size"] <= 0.02
    assert m["map_kept_at_shift"] <= 0.02
    assert all(c.holds for c in out.claims)
    assert_words_follow_the_run(out)
    assert "Local max-pooling absorbs small shifts only in part" in out.takeaway
    assert out.answers["kept"].option == Q_KEPT.options[1]


def test_equivariance_and_global_pooling_hold_at_every_shift() -> None:
    out = run_demo("conv_equivariance_params", shift=8)
    assert out.metrics["max_diff_equivariance"] == 0.0
    assert out.metrics["max_diff_global_pool"] == 0.0
    assert set(out.series["global max-pool"]["y"]) == {1.0}
    assert len(out.series["2x2 max-pool"]["x"]) == 9


def test_conv2d_is_not_the_flipped_convolution() -> None:
    out = run_demo("conv_equivariance_params")
    assert out.metrics["max_diff_cross_correlation"] <= 1e-12
    assert out.metrics["max_diff_flipped_convolution"] > 0.1


@pytest.mark.parametrize(("shift", "pool"), [(2, 2), (3, 2), (2, 3)])
def test_a_shift_as_large_as_the_window_moves_the_pooled_map(shift: int, pool: int) -> None:
    out = run_demo("conv_equivariance_params", shift=shift, pool=pool)
    assert out.metrics["pool_kept_at_shift"] < 0.05
    assert not out.claims[0].holds
    assert_words_follow_the_run(out)
    assert f"A shift of {shift} moved almost every output" in out.takeaway
    assert out.answers["kept"].option == Q_KEPT.options[2]


def test_without_a_shift_every_pooled_output_stays() -> None:
    out = run_demo("conv_equivariance_params", shift=0)
    assert out.metrics["pool_kept_at_shift"] == 1.0
    assert out.answers["kept"].option == Q_KEPT.options[0]
    assert "Unshifted, every output" in out.takeaway
    assert "only in part" not in out.takeaway


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("conv_equivariance_params")
    with pytest.raises(ParamError):
        spec.resolve({"kernel": 1})
    with pytest.raises(ParamError):
        spec.resolve({"shift": 9})
