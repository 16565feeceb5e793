"""dead_relu: a too-large step switches units off; ReLU ones get no gradient, leaky ones do."""

from __future__ import annotations

import pytest

from demos.dead_relu import Q_COME_BACK, Q_LOSS
from studyapp.demo_api import DemoOutput, ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny_run() -> DemoOutput:
    return run_demo("dead_relu")


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_every_claim_holds_with_a_margin(seed: int) -> None:
    out = run_demo("dead_relu", seed=seed)
    assert all(c.holds for c in out.claims), [c.text for c in out.claims if not c.holds]
    m = out.metrics
    assert m["relu_switched_off"] >= 2 * (2 * m["relu_control_switched_off"] + 2)
    assert 4 * m["leaky_came_back"] < m["leaky_switched_off"]


def test_switched_off_relu_units_get_no_gradient_and_stay_off(tiny_run: DemoOutput) -> None:
    m = tiny_run.metrics
    assert m["relu_switched_off"] > 0
    assert m["relu_largest_off_gradient"] == 0.0
    assert m["relu_came_back"] == 0 and m["relu_control_came_back"] == 0
    relu = tiny_run.series["ReLU: units firing on no input"]
    # Under plain SGD a ReLU unit that is off never fires again: the count never falls.
    assert all(b >= a for a, b in zip(relu, relu[1:], strict=False))
    assert m["leaky_slope_error"] <= 1e-6


def test_by_default_the_leaky_units_do_not_come_back(tiny_run: DemoOutput) -> None:
    out = tiny_run
    assert_words_follow_the_run(out)
    assert "brought back none of the" in out.takeaway
    assert out.answers["come_back"].option == Q_COME_BACK.options[0]
    assert out.headline.startswith("One too-large step (learning rate 2)")


def test_a_small_first_step_switches_nothing_off_and_the_words_say_so() -> None:
    out = run_demo("dead_relu", lr_spike=0.01)
    kill, come_back = out.claims[0], out.claims[1]
    assert not kill.holds and not come_back.holds
    assert_words_follow_the_run(out)
    assert "did not switch off clearly more ReLU units" in out.takeaway
    assert "No leaky unit was switched off" in out.takeaway
    assert out.answers["loss"].option == Q_LOSS.options[2]


@pytest.mark.parametrize("seed", [0, 2])
def test_a_steep_slope_brings_some_leaky_units_back(seed: int) -> None:
    out = run_demo("dead_relu", seed=seed, slope=0.5)
    m = out.metrics
    assert 0 < 2 * m["leaky_came_back"] < m["leaky_switched_off"]
    assert m["relu_came_back"] == 0
    assert out.claims[1].holds
    assert_words_follow_the_run(out)
    assert f"brought back only {int(m['leaky_came_back'])} of the" in out.takeaway
    assert out.answers["come_back"].option == Q_COME_BACK.options[1]


def _expected_loss_option(m: dict[str, float]) -> str:
    relu, leaky = m["relu_final_loss"], m["leaky_final_loss"]
    if abs(relu - leaky) <= 0.1 * max(relu, leaky):
        return Q_LOSS.options[2]
    return Q_LOSS.options[0] if relu < leaky else Q_LOSS.options[1]


def _expected_come_back_option(m: dict[str, float]) -> str:
    back, off = m["leaky_came_back"], m["leaky_switched_off"]
    if back == 0:
        return Q_COME_BACK.options[0]
    return Q_COME_BACK.options[1] if 2 * back < off else Q_COME_BACK.options[2]


SETTINGS = ({}, {"lr_spike": 8.0}, {"slope": 0.3, "lr": 0.05}, {"slope": 0.5, "lr": 0.05})


@pytest.fixture(scope="module")
def grid() -> list[DemoOutput]:
    return [run_demo("dead_relu", seed=s, **o) for o in SETTINGS for s in (0, 2, 4)]


def test_answers_follow_the_numbers_and_each_option_is_reached(grid: list[DemoOutput]) -> None:
    loss, come_back = set(), set()
    for out in grid:
        assert out.answers["loss"].option == _expected_loss_option(out.metrics)
        assert out.answers["come_back"].option == _expected_come_back_option(out.metrics)
        assert_words_follow_the_run(out)
        loss.add(out.answers["loss"].option)
        come_back.add(out.answers["come_back"].option)
    assert loss == set(Q_LOSS.options)
    assert come_back == set(Q_COME_BACK.options)


def test_a_diverged_leaky_net_is_reported_as_such() -> None:
    out = run_demo("dead_relu", lr_spike=20.0, lr=0.1, slope=0.5)
    assert out.metrics["leaky_final_loss"] == 1e6
    assert not out.claims[1].holds
    assert_words_follow_the_run(out)
    assert "The leaky net diverged" in out.takeaway


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_cuda_without_it_fails_clearly() -> None:
    with pytest.raises(RuntimeError, match="no CUDA device"):
        run_demo("dead_relu", device="cuda", steps=10)


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("dead_relu")
    with pytest.raises(ParamError):
        spec.resolve({"slope": 0.0})
    with pytest.raises(ParamError):
        spec.resolve({"lr_spike": 50.0})
    with pytest.raises(ParamError):
        spec.resolve({"pushed": 0.5})
