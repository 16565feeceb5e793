"""fit_curves: training error falls with capacity, validation error is U-shaped."""

from __future__ import annotations

from itertools import pairwise

import pytest

from studyapp.demo_api import DemoOutput, ParamError, get_spec
from tests.demos.conftest import run_demo


@pytest.fixture(scope="module")
def default_out() -> DemoOutput:
    return run_demo("fit_curves")


def test_training_error_falls_and_validation_error_is_u_shaped(default_out: DemoOutput) -> None:
    out = default_out
    train = out.series["train MSE by degree"]["y"]
    val = out.series["validation MSE by degree"]["y"]
    assert all(b <= a * (1 + 1e-5) for a, b in pairwise(train))
    best = val.index(min(val))
    assert 0 < best < len(val) - 1
    assert min(val[0], val[-1]) >= 1.5 * val[best]
    assert all(c.holds for c in out.claims)


def test_mlp_overfits_with_epochs(default_out: DemoOutput) -> None:
    out = default_out
    train = out.series["MLP train MSE by epoch"]["y"]
    val = out.series["MLP validation MSE by epoch"]["y"]
    assert train[-1] < train[0]
    assert val[-1] > min(val)


def test_without_noise_there_is_nothing_to_overfit() -> None:
    out = run_demo("fit_curves", noise=0.0, epochs=20)
    u_claim = [c for c in out.claims if c.text.startswith("Validation")][0]
    assert not u_claim.holds


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("fit_curves")
    with pytest.raises(ParamError):
        spec.resolve({"degree": 2})
    with pytest.raises(ParamError):
        spec.resolve({"noise": -0.1})
