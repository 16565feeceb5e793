"""activation_gradient_flow: sigmoid gradients vanish with depth, ReLU with He init does not."""

from __future__ import annotations

import pytest

from demos.activation_gradient_flow import Q_SIGMOID, Q_THIRD
from studyapp.demo_api import DemoOutput, ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo

torch = pytest.importorskip("torch")


def _curve(out: DemoOutput, prefix: str) -> list[float]:
    (label,) = [k for k in out.series if k.startswith(prefix + " (")]
    return out.series[label]["y"]


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_sigmoid_vanishes_and_relu_stays_level_with_a_margin(seed: int) -> None:
    out = run_demo("activation_gradient_flow", seed=seed)
    sigmoid, relu = _curve(out, "sigmoid"), _curve(out, "relu")
    assert sigmoid[-1] / sigmoid[0] >= 1e4 * 100
    assert max(relu) / min(relu) <= 5 / 1.5
    assert all(c.holds for c in out.claims)
    assert_words_follow_the_run(out)
    assert "The gradient vanishes." in out.takeaway
    assert out.answers["sigmoid"].option == Q_SIGMOID.options[2]


def test_vanishing_gets_worse_with_depth() -> None:
    shallow = run_demo("activation_gradient_flow", depth=4).metrics["sigmoid_last_over_first"]
    deep = run_demo("activation_gradient_flow", depth=15).metrics["sigmoid_last_over_first"]
    assert deep > 1000 * shallow


@pytest.mark.parametrize(
    ("depth", "option"), [(2, Q_SIGMOID.options[0]), (5, Q_SIGMOID.options[1])]
)
def test_a_shallow_sigmoid_net_loses_less_and_says_so(depth: int, option: str) -> None:
    out = run_demo("activation_gradient_flow", depth=depth)
    assert not out.claims[0].holds
    assert_words_follow_the_run(out)
    assert f"Over {depth} layers sigmoid's first layer gets" in out.takeaway
    assert "under four orders of magnitude" in out.takeaway
    assert out.answers["sigmoid"].option == option


def test_relu_with_xavier_init_loses_the_level_gradient() -> None:
    matched = run_demo("activation_gradient_flow").metrics["relu_spread"]
    out = run_demo("activation_gradient_flow", init="xavier")
    assert out.metrics["relu_spread"] > 10 * matched
    relu_claim = out.claims[1]
    assert "xavier" in relu_claim.text and not relu_claim.holds
    assert_words_follow_the_run(out)
    assert "ReLU with xavier init did not keep the layers' gradients within 5x" in out.takeaway


@pytest.mark.parametrize(
    ("overrides", "option"),
    [
        ({}, Q_THIRD.options[1]),
        ({"activation": "leaky_relu"}, Q_THIRD.options[1]),
        ({"width": 8, "depth": 40}, Q_THIRD.options[0]),
        ({"init": "he", "depth": 100}, Q_THIRD.options[2]),
    ],
)
def test_the_third_activations_answer_follows_its_gradients(overrides: dict, option: str) -> None:
    out = run_demo("activation_gradient_flow", **overrides)
    ratio = out.metrics["third_last_over_first"]
    assert out.answers["third"].option == option
    assert (ratio >= 10) == (option == Q_THIRD.options[0])
    assert (ratio <= 0.1) == (option == Q_THIRD.options[2])


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_cuda_without_it_fails_clearly() -> None:
    with pytest.raises(RuntimeError, match="no CUDA device"):
        run_demo("activation_gradient_flow", device="cuda")


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("activation_gradient_flow")
    with pytest.raises(ParamError):
        spec.resolve({"batch": 0})
    with pytest.raises(ParamError):
        spec.resolve({"init": "orthogonal"})
