"""l1_vs_l2_sparsity: L1 puts irrelevant weights at exactly zero, L2 zeroes none."""

from __future__ import annotations

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import run_demo


def test_l1_zeroes_most_irrelevant_weights_and_l2_none() -> None:
    out = run_demo("l1_vs_l2_sparsity")
    relevant = int(out.metrics["relevant_features"])
    l1, l2 = out.series["L1"]["y"], out.series["L2"]["y"]
    irrelevant_l1 = l1[relevant:]
    assert sum(w == 0.0 for w in irrelevant_l1) >= 0.75 * len(irrelevant_l1)
    assert all(w != 0.0 for w in l1[:relevant])
    assert all(w != 0.0 for w in l2)
    assert all(c.holds for c in out.claims)


def test_stronger_l1_gives_more_zeros() -> None:
    weak = run_demo("l1_vs_l2_sparsity", lambda_l1=0.001)
    strong = run_demo("l1_vs_l2_sparsity", lambda_l1=0.3)
    key = "zeros_irrelevant_L1"
    assert strong.metrics[key] > weak.metrics[key]
    assert not weak.claims[0].holds


def test_l2_shrinks_weights_towards_zero() -> None:
    out = run_demo("l1_vs_l2_sparsity", lambda_l2=1.0)
    ridge = sum(w * w for w in out.series["L2"]["y"])
    plain = sum(w * w for w in out.series["least squares"]["y"])
    assert ridge < plain


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("l1_vs_l2_sparsity")
    with pytest.raises(ParamError):
        spec.resolve({"features": 300})
    with pytest.raises(ParamError):
        spec.resolve({"lambda_l1": 0.0})
