"""init_signal_propagation: He keeps a deep ReLU stack's signal, Xavier loses it, bad scales too."""

from __future__ import annotations

import pytest

from demos.init_signal_propagation import Q_THIRD, Q_XAVIER
from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_he_keeps_the_std_and_xavier_shrinks_it_with_a_margin(seed: int) -> None:
    out = run_demo("init_signal_propagation", seed=seed)
    he, xavier = out.series["He"]["y"], out.series["Xavier"]["y"]
    assert max(he) / min(he) <= 10 / 2
    assert xavier[0] / xavier[-1] >= 100 * 10
    assert len(he) == len(xavier) == get_spec("init_signal_propagation").tiny["depth"]
    assert all(c.holds for c in out.claims)
    assert_words_follow_the_run(out)
    assert "makes up for the half" in out.takeaway


def test_deeper_nets_lose_more_signal() -> None:
    shallow = run_demo("init_signal_propagation", depth=5).metrics["xavier_drop"]
    deep = run_demo("init_signal_propagation", depth=30).metrics["xavier_drop"]
    assert deep > 100 * shallow


def test_a_shallow_stack_loses_no_orders_of_magnitude_and_says_so() -> None:
    out = run_demo("init_signal_propagation", depth=3)
    xavier_claim = out.claims[1]
    assert not xavier_claim.holds
    assert_words_follow_the_run(out)
    assert "less than two orders of magnitude" in out.takeaway
    assert out.answers["xavier"].option == Q_XAVIER.options[0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_in_narrow_layers_he_init_does_not_keep_the_signal(seed: int) -> None:
    out = run_demo("init_signal_propagation", seed=seed, width=16, depth=100)
    assert out.metrics["he_spread"] > 10 * 10
    assert not out.claims[0].holds
    assert_words_follow_the_run(out)
    assert "He init did not keep the std within 10x over 100 layers of 16 units" in out.takeaway


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("depth", [30, 100])
def test_with_tanh_xavier_keeps_the_signal_too(seed: int, depth: int) -> None:
    out = run_demo("init_signal_propagation", seed=seed, activation="tanh", depth=depth)
    assert [c.holds for c in out.claims] == [True, True], [c.text for c in out.claims]
    assert out.metrics["xavier_drop"] < 100 / 2
    assert "loses no orders of magnitude" in out.claims[1].text
    assert "Xavier's scale suits tanh" in out.takeaway
    assert out.answers["xavier"].option == Q_XAVIER.options[0]


def test_the_default_answers_follow_the_numbers() -> None:
    out = run_demo("init_signal_propagation", tiny=False)
    assert out.metrics["xavier_drop"] > 1e6 * 4
    assert out.answers["xavier"].option == Q_XAVIER.options[2]
    assert out.answers["third"].option == Q_THIRD.options[0]
    assert all(c.holds for c in out.claims)


@pytest.mark.parametrize(
    ("overrides", "option"),
    [
        ({"init": "large"}, Q_THIRD.options[2]),
        ({"init": "large", "activation": "tanh"}, Q_THIRD.options[1]),
        ({"init": "small"}, Q_THIRD.options[0]),
        ({"init": "small", "depth": 2}, Q_THIRD.options[1]),
    ],
)
def test_the_third_inits_answer_follows_its_std(overrides: dict, option: str) -> None:
    out = run_demo("init_signal_propagation", **overrides)
    label = next(k for k in out.series if k.startswith(overrides["init"]))
    std = out.series[label]["y"]
    change = std[-1] / std[0]
    assert out.answers["third"].option == option
    assert (change <= 1 / 100) == (option == Q_THIRD.options[0])
    assert (change >= 100) == (option == Q_THIRD.options[2])


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_cuda_without_it_fails_clearly() -> None:
    with pytest.raises(RuntimeError, match="no CUDA device"):
        run_demo("init_signal_propagation", device="cuda")


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("init_signal_propagation")
    with pytest.raises(ParamError):
        spec.resolve({"depth": 101})
    with pytest.raises(ParamError):
        spec.resolve({"activation": "sigmoid"})
