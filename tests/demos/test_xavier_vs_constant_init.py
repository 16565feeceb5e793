"""xavier_vs_constant_init: constant init keeps hidden units identical; Xavier learns."""

from __future__ import annotations

import pytest

from studyapp.demo_api import DemoOutput, ParamError, get_spec
from tests.demos.conftest import run_demo


@pytest.fixture(scope="module")
def default_out() -> DemoOutput:
    return run_demo("xavier_vs_constant_init")


def test_constant_init_rows_stay_identical_at_every_step(default_out: DemoOutput) -> None:
    series = default_out.series
    assert set(series["row difference constant"]) == {0.0}
    assert max(series["row difference xavier"]) > 0.1


def test_constant_init_stays_near_chance_and_xavier_learns(default_out: DemoOutput) -> None:
    out = default_out
    constant = out.series["accuracy constant"][-1]
    xavier = out.series["accuracy xavier"][-1]
    assert constant <= 0.7
    assert constant <= out.metrics["best_straight_line_accuracy"]
    assert xavier > 0.9
    assert [c.holds for c in out.claims] == [True, True, True]


@pytest.mark.parametrize("constant", [-1.0, 0.0])
def test_any_constant_keeps_the_symmetry(constant: float) -> None:
    out = run_demo("xavier_vs_constant_init", constant=constant, steps=60)
    assert out.metrics["max_row_difference_constant"] == 0.0


def test_out_of_bounds_constant_is_refused() -> None:
    with pytest.raises(ParamError):
        get_spec("xavier_vs_constant_init").resolve({"constant": 3.0})
