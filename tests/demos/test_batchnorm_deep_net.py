"""batchnorm_deep_net: the deep sigmoid net only trains at this learning rate with BN."""

from __future__ import annotations

import math

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import run_demo


def test_bn_trains_and_plain_net_stays_at_chance() -> None:
    out = run_demo("batchnorm_deep_net")
    plain, normed = out.series["loss plain"], out.series["loss with BN"]
    assert plain[-1] == pytest.approx(math.log(2), abs=0.05)
    assert normed[-1] < 0.5 * plain[-1]
    m = out.metrics
    assert m["test_accuracy_with_BN"] >= m["test_accuracy_plain"] + 0.2
    assert out.claims[0].holds


def test_bn_after_the_sigmoid_also_trains() -> None:
    out = run_demo("batchnorm_deep_net", bn="after")
    assert out.metrics["test_accuracy_with_BN"] > 0.9


def test_bn_off_gives_two_identical_nets_and_no_claim() -> None:
    out = run_demo("batchnorm_deep_net", bn="off", steps=30)
    assert out.series["loss plain"] == out.series["loss with BN"]
    assert not out.claims[0].holds


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("batchnorm_deep_net")
    with pytest.raises(ParamError):
        spec.resolve({"bn": "middle"})
    with pytest.raises(ParamError):
        spec.resolve({"depth": 31})
