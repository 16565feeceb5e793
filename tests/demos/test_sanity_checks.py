"""sanity_checks: initial loss near ln C, a tiny set memorized, accuracy leaps before loss."""

from __future__ import annotations

import math

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import run_demo


@pytest.mark.parametrize("classes", [3, 10, 50])
def test_initial_loss_is_ln_c_read_from_the_series(classes: int) -> None:
    out = run_demo("sanity_checks", seed=0, classes=classes)
    assert abs(out.series["loss, all data"]["y"][0] - math.log(classes)) <= 0.1
    assert out.claims[0].holds


def test_large_output_weights_fail_the_initial_loss_check() -> None:
    out = run_demo("sanity_checks", seed=0, init_scale=10.0)
    assert out.metrics["initial_loss"] > math.log(10) + 1.0
    assert not out.claims[0].holds


def test_twenty_examples_are_memorized() -> None:
    out = run_demo("sanity_checks", seed=1)
    assert out.series["accuracy, 20 examples"]["y"][-1] == 1.0
    assert out.series["loss, 20 examples"]["y"][-1] <= 0.05
    assert out.claims[1].holds


def test_accuracy_leaps_while_loss_barely_moves() -> None:
    out = run_demo("sanity_checks", seed=2)
    acc, loss = out.series["accuracy, all data"]["y"], out.series["loss, all data"]["y"]
    step = next(i for i, a in enumerate(acc) if a >= 0.55)
    assert acc[0] < 0.3
    assert (loss[0] - loss[step]) / loss[0] <= 0.1
    assert out.claims[2].holds


@pytest.mark.parametrize("overrides", [{"classes": 1}, {"noise": -1.0}, {"tiny_set": 500}])
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec("sanity_checks").resolve(overrides)
