"""dead_relu: pushed ReLU units never fire or change; leaky ReLU units fire again."""

from __future__ import annotations

import pytest

from studyapp.demo_api import DemoOutput, ParamError, get_spec
from tests.demos.conftest import run_demo


@pytest.fixture(scope="module")
def default_out() -> DemoOutput:
    return run_demo("dead_relu")


def test_dead_relu_units_stay_dead_and_leaky_units_recover(default_out: DemoOutput) -> None:
    out = default_out
    pushed = out.metrics["pushed_units"]
    relu = out.series["relu: pushed units firing"]
    leaky = out.series["leaky_relu: pushed units firing"]
    assert pushed > 0
    assert set(relu) == {0.0}
    assert leaky[0] == 0.0 and leaky[-1] >= pushed / 2
    assert out.metrics["pushed_weight_change_relu"] == 0.0
    assert out.metrics["pushed_weight_change_leaky_relu"] > 0.0


def test_recovered_units_help_the_fit(default_out: DemoOutput) -> None:
    m = default_out.metrics
    assert m["final_loss_leaky_relu"] < m["final_loss_relu"]


def test_elu_units_recover_too() -> None:
    out = run_demo("dead_relu", activation="elu")
    assert out.metrics["pushed_firing_end_elu"] >= out.metrics["pushed_units"] / 2


def test_without_a_shift_no_unit_starts_dead_and_the_claim_says_so() -> None:
    out = run_demo("dead_relu", bias_shift=0.0)
    assert out.metrics["pushed_firing_start_relu"] > 0
    assert not out.claims[0].holds


def test_out_of_bounds_share_is_refused() -> None:
    with pytest.raises(ParamError):
        get_spec("dead_relu").resolve({"pushed": 1.5})
