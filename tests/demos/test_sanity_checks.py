"""sanity_checks: the initial loss near ln C, a tiny set memorized, accuracy leaping before the
loss moves, each reported in words that follow the run."""

from __future__ import annotations

import math

import pytest

from demos.sanity_checks import FLAT_OPTIONS, INITIAL
from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo


@pytest.fixture(scope="module")
def runs() -> list:
    return [run_demo("sanity_checks", seed=s) for s in range(5)]


def test_all_three_checks_pass_with_small_output_weights(runs: list) -> None:
    for out in runs:
        m = out.metrics
        assert abs(m["initial_loss"] / math.log(10) - 1) < 0.02  # the claim allows 10%
        assert m["tiny_final_accuracy"] == 1.0 and m["tiny_final_loss"] < 0.005
        assert m["loss_drop_at_target"] < 0.06  # the claim allows 10%
        assert [c.kind for c in out.claims] == ["experiment"] * 3
        assert all(c.holds for c in out.claims)
        assert_words_follow_the_run(out)
        assert "as a sound set-up should" in out.takeaway
        assert out.answers["initial"].option == INITIAL[0]
        assert out.answers["flat"].option == FLAT_OPTIONS[0]


def test_initial_loss_is_read_from_the_series(runs: list) -> None:
    out = runs[0]
    assert out.series["loss, all data"]["y"][0] == pytest.approx(
        out.metrics["initial_loss"], rel=1e-5
    )
    acc = out.series["accuracy, all data"]["y"]
    step = out.metrics["steps_to_target"]
    assert acc[int(step)] >= 0.55 > max(acc[: int(step)])


@pytest.mark.parametrize("classes", [2, 50])
def test_initial_loss_tracks_ln_c(classes: int) -> None:
    out = run_demo("sanity_checks", seed=0, classes=classes)
    assert out.metrics["initial_loss"] == pytest.approx(math.log(classes), rel=0.03)
    assert out.claims[0].holds


def test_huge_output_weights_fail_the_initial_loss_check_in_words() -> None:
    out = run_demo("sanity_checks", seed=0, init_scale=100.0)
    initial = out.metrics["initial_loss"]
    assert initial > 10 * math.log(10)
    assert not out.claims[0].holds
    assert_words_follow_the_run(out)
    assert out.headline.startswith("The set-up is not sound")
    assert "sound set-up should" not in out.takeaway
    assert "worth starting" not in out.takeaway
    # What the number means: exp(-loss) is the correct class's geometric-mean probability.
    assert f"{math.exp(-initial):.2e}" in out.takeaway
    assert out.answers["initial"].option == INITIAL[1]


def test_pytorch_default_output_weights_pass_but_loss_and_accuracy_move_together() -> None:
    out = run_demo("sanity_checks", seed=0, init_scale=1.0)
    initial, flat = out.claims[0], out.claims[2]
    assert initial.holds
    assert not flat.holds and out.metrics["loss_drop_at_target"] > 0.15
    assert_words_follow_the_run(out)
    assert "loss and accuracy moved together" in out.takeaway
    assert out.answers["flat"].option == FLAT_OPTIONS[1]


def test_too_few_steps_fail_the_overfitting_check_in_words() -> None:
    out = run_demo("sanity_checks", seed=0, tiny_steps=10)
    assert out.metrics["tiny_final_loss"] > 0.1
    assert not out.claims[1].holds
    assert_words_follow_the_run(out)
    assert "The overfitting check fails" in out.takeaway
    assert "it can fit data" not in out.takeaway


def test_accuracy_that_never_gets_halfway_is_said_so() -> None:
    out = run_demo("sanity_checks", seed=0, classes=100)
    assert out.metrics["full_final_accuracy"] < out.metrics["target_accuracy"]
    assert not out.claims[2].holds
    assert_words_follow_the_run(out)
    assert "never reached 50.5%" in out.takeaway
    assert out.answers["flat"].option == FLAT_OPTIONS[2]


def test_asking_for_cuda_without_it_is_an_error() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="no CUDA"):
        run_demo("sanity_checks", device="cuda")


@pytest.mark.parametrize(
    "overrides", [{"classes": 1}, {"noise": -1.0}, {"tiny_set": 500}, {"init_scale": 1000.0}]
)
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec("sanity_checks").resolve(overrides)
