"""perceptron_margin: mistakes stay under (R/gamma)^2 on separable data; XOR never converges."""

from __future__ import annotations

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import run_demo


def test_total_mistakes_stay_under_the_novikoff_bound() -> None:
    out = run_demo("perceptron_margin")
    m = out.metrics
    assert m["bound"] == pytest.approx((m["radius"] / m["gamma"]) ** 2)
    assert m["gamma"] >= 0.1 and m["radius"] <= 1.0
    per_epoch = out.series["separable: mistakes per epoch"]
    assert sum(per_epoch) == m["total_mistakes"] <= m["bound"]


def test_after_a_clean_epoch_the_perceptron_stops_changing() -> None:
    per_epoch = run_demo("perceptron_margin").series["separable: mistakes per epoch"]
    first_clean = per_epoch.index(0)
    assert all(m == 0 for m in per_epoch[first_clean:])


def test_xor_makes_mistakes_in_every_epoch() -> None:
    for spread in (0.0, 0.3):
        out = run_demo("perceptron_margin", xor_spread=spread)
        assert min(out.series["XOR: mistakes per epoch"]) > 0
        assert out.claims[2].holds


def test_a_smaller_margin_loosens_the_bound() -> None:
    wide = run_demo("perceptron_margin", margin=0.3).metrics["bound"]
    narrow = run_demo("perceptron_margin", margin=0.03).metrics["bound"]
    assert narrow > 50 * wide


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("perceptron_margin")
    with pytest.raises(ParamError):
        spec.resolve({"margin": 0.0})
    with pytest.raises(ParamError):
        spec.resolve({"points": 5})
