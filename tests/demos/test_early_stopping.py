"""early_stopping: the best-validation weights beat the last ones on a separate test set."""

from __future__ import annotations

import pytest

from studyapp.demo_api import DemoOutput, ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo


@pytest.fixture(scope="module")
def out() -> DemoOutput:
    return run_demo("early_stopping", seed=0)


def _claim(out: DemoOutput, start: str):
    return next(c for c in out.claims if c.text.startswith(start))


@pytest.mark.parametrize("seed", range(5))
def test_early_stopping_wins_on_the_test_set_with_room_at_five_seeds(seed: int) -> None:
    out = run_demo("early_stopping", seed=seed)
    assert all(c.holds for c in out.claims), [c.text for c in out.claims if not c.holds]
    m = out.metrics
    assert m["test_mse_kept"] <= 0.8 * m["test_mse_last"]
    assert m["val_mse_last"] >= 1.4 * m["val_mse_lowest"]
    assert m["train_mse_last"] <= 0.4 * m["train_mse_best"]
    assert out.answers["test"].option == "the early-stopped weights"
    assert_words_follow_the_run(out)


def test_the_stop_comes_patience_epochs_after_the_kept_epoch(out: DemoOutput) -> None:
    m = out.metrics
    patience = get_spec("early_stopping").tiny["patience"]
    assert m["stop_epoch"] == m["best_epoch"] + patience
    # the kept epoch is where the validation curve is lowest up to the stop (the plotted curve
    # skips epochs, so it can only be at or above the kept value)
    curve = out.series["validation MSE"]
    before_stop = [y for x, y in zip(curve["x"], curve["y"], strict=True) if x <= m["stop_epoch"]]
    assert m["val_mse_best"] <= min(before_stop) * (1 + 1e-5)


def test_training_loss_falls_to_the_end_while_validation_turns_up(out: DemoOutput) -> None:
    train = out.series["training MSE"]["y"]
    val = out.series["validation MSE"]["y"]
    assert train[-1] < min(train[: len(train) // 4])
    assert val[-1] > min(val)
    assert out.plot.log_y


def test_the_fit_view_shows_both_sets_of_weights() -> None:
    out = run_demo("early_stopping", seed=1, view="fit")
    kept = next(k for k in out.series if k.startswith("early-stopped"))
    last = next(k for k in out.series if k.startswith("after all"))
    assert len(out.series[kept]["y"]) == len(out.series[last]["y"]) == 200
    assert len(out.series["training points"]["x"]) == 20


def test_a_patience_of_one_stops_at_the_first_bump_and_the_words_say_so() -> None:
    out = run_demo("early_stopping", seed=0, patience=1)
    m = out.metrics
    assert m["stop_epoch"] == m["best_epoch"] + 1
    assert m["val_mse_best"] > 1.5 * m["val_mse_lowest"]
    assert not _claim(out, "With patience 1").holds
    assert not _claim(out, "The weights early stopping keeps").holds
    assert "Patience 1 stopped too soon" in out.takeaway
    assert "did no better on the test set" in out.takeaway
    assert out.answers["test"].option == "the weights after all epochs"
    assert_words_follow_the_run(out)


def test_too_few_epochs_to_overfit_and_the_words_say_so() -> None:
    # seed 4: the validation loss is still falling at epoch 50, so the kept weights are the last
    out = run_demo("early_stopping", seed=4, epochs=50)
    m = out.metrics
    assert m["best_epoch"] == m["lowest_val_epoch"] == m["stop_epoch"] == 50
    assert m["test_mse_kept"] == m["test_mse_last"]
    assert not _claim(out, "The weights early stopping keeps").holds
    assert not _claim(out, "After epoch").holds
    assert "never turned up" in out.takeaway
    assert "did no better on the test set" in out.takeaway
    assert out.answers["test"].option == "within 5% of each other"
    assert out.answers["turn"].option == "in the last quarter"
    assert_words_follow_the_run(out)


def test_without_label_noise_there_is_little_to_stop_for() -> None:
    out = run_demo("early_stopping", seed=2, noise=0.0)
    noisy = run_demo("early_stopping", seed=2)
    assert out.metrics["test_mse_last"] < 0.05 * noisy.metrics["test_mse_last"]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [({}, "in the first quarter of training"), ({"epochs": 60}, "in the middle half")],
)
def test_the_turn_answer_follows_the_validation_curve(overrides: dict, expected: str) -> None:
    out = run_demo("early_stopping", seed=1, **overrides)
    share = out.metrics["lowest_val_epoch"] / (overrides.get("epochs") or 400)
    assert (share < 0.25) == (expected == "in the first quarter of training")
    assert out.answers["turn"].option == expected


@pytest.mark.parametrize(
    "overrides",
    [
        {"noise": -0.1},
        {"noise": 2.0},
        {"patience": 0},
        {"epochs": 10},
        {"width": 2},
        {"width": 300},
        {"points": 5},
    ],
)
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec("early_stopping").resolve(overrides)


def test_cuda_without_a_gpu_is_an_error_not_a_silent_cpu_run() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="cuda"):
        run_demo("early_stopping", device="cuda")
