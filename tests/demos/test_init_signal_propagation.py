"""init_signal_propagation: He keeps the signal through deep ReLU stacks, Xavier loses it."""

from __future__ import annotations

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import run_demo


def test_he_keeps_the_std_and_xavier_shrinks_it() -> None:
    series = run_demo("init_signal_propagation").series
    he, xavier = series["He"]["y"], series["Xavier"]["y"]
    assert max(he) / min(he) <= 10
    assert xavier[0] / xavier[-1] >= 100
    assert len(he) == len(xavier) == get_spec("init_signal_propagation").tiny["depth"]


def test_deeper_nets_lose_more_signal() -> None:
    shallow = run_demo("init_signal_propagation", depth=5).metrics["xavier_drop"]
    deep = run_demo("init_signal_propagation", depth=30).metrics["xavier_drop"]
    assert deep > 100 * shallow


def test_a_shallow_stack_does_not_show_orders_of_magnitude() -> None:
    out = run_demo("init_signal_propagation", depth=3)
    xavier_claim = [c for c in out.claims if c.text.startswith("Xavier")][0]
    assert not xavier_claim.holds


def test_tanh_keeps_xavier_signal_far_better_than_relu() -> None:
    relu = run_demo("init_signal_propagation").metrics["xavier_drop"]
    tanh = run_demo("init_signal_propagation", activation="tanh").metrics["xavier_drop"]
    assert tanh < 100 < relu


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("depth", [30, 100])
def test_every_claim_holds_with_tanh_too_where_xavier_is_the_right_scale(
    seed: int, depth: int
) -> None:
    out = run_demo("init_signal_propagation", seed=seed, activation="tanh", depth=depth)
    assert [c.holds for c in out.claims] == [True, True], [c.text for c in out.claims]
    xavier_claim = [c for c in out.claims if c.text.startswith("Xavier")][0]
    assert "loses no orders of magnitude" in xavier_claim.text
    assert "the init must match the activation" in out.takeaway.lower()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_claim_holds_with_relu_for_several_seeds(seed: int) -> None:
    out = run_demo("init_signal_propagation", seed=seed)
    assert [c.holds for c in out.claims] == [True, True], [c.text for c in out.claims]


def test_large_init_explodes_with_relu() -> None:
    series = run_demo("init_signal_propagation", init="large").series
    large = series["large N(0, 1^2)"]["y"]
    assert large[-1] / large[0] > 1e6


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("init_signal_propagation")
    with pytest.raises(ParamError):
        spec.resolve({"depth": 101})
    with pytest.raises(ParamError):
        spec.resolve({"activation": "sigmoid"})
