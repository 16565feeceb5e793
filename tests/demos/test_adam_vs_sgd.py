"""adam_vs_sgd: a fair race to a loss target, and words that follow whoever wins it."""

from __future__ import annotations

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo

SEEDS = range(5)


@pytest.fixture(scope="module")
def tiny_runs() -> list:
    return [run_demo("adam_vs_sgd", seed=seed) for seed in SEEDS]


def _reached(out, name: str) -> int:
    return int(out.metrics[f"steps_to_target_{name}"])


def test_tuned_adam_wins_the_race_by_a_margin_at_every_seed(tiny_runs: list) -> None:
    for out in tiny_runs:
        adam, momentum = _reached(out, "adam"), _reached(out, "momentum")
        assert adam * 1.3 <= momentum, (adam, momentum)
        assert out.series["adam"][adam - 1] <= 0.3 < out.series["adam"][adam - 2]
        assert out.claims[0].holds
        assert out.answers["first_to_target"].option == "Adam"
        assert f"in {adam} steps" in out.takeaway
        assert_words_follow_the_run(out)


def test_momentum_ends_far_below_plain_sgd_at_the_same_rate(tiny_runs: list) -> None:
    for out in tiny_runs:
        assert out.metrics["final_loss_momentum"] * 10 <= out.metrics["final_loss_sgd"]
        assert out.claims[1].holds
        assert "at the same learning rate (1)" in out.takeaway


def test_setup_names_the_tuned_rates_and_only_then_the_changes(tiny_runs: list) -> None:
    assert "plain SGD 1, momentum 1 (coefficient 0.9), Adam 0.1" in tiny_runs[0].setup
    assert "This run changes" not in tiny_runs[0].setup
    out = run_demo("adam_vs_sgd", seed=0, steps=20, lr_adam=0.001)
    assert "This run changes them: Adam 0.001." in out.setup


def test_adam_at_a_tiny_rate_loses_and_the_run_says_why_in_numbers() -> None:
    out = run_demo("adam_vs_sgd", seed=0, lr_adam=1e-4)
    assert not out.claims[0].holds
    assert_words_follow_the_run(out)
    assert out.answers["first_to_target"].option == "SGD with momentum"
    assert out.takeaway.startswith("SGD with momentum reached loss 0.3 first")
    travel = out.metrics["largest_weight_change_adam"]
    assert travel < 0.1 < out.metrics["largest_weight_change_momentum"]
    assert "1,000x below its tuned 0.1" in out.takeaway
    assert "Adam moved no weight by more than" in out.takeaway
    assert "Each at its own learning rate, Adam" not in out.takeaway


def test_adam_at_too_large_a_rate_loses_to_its_own_blow_up() -> None:
    out = run_demo("adam_vs_sgd", seed=1, lr_adam=1.0)
    assert not out.claims[0].holds
    assert_words_follow_the_run(out)
    assert "Adam's loss rose above its start" in out.takeaway or "blew up" in out.takeaway
    assert max(out.series["adam"]) > out.series["adam"][0]


def test_momentum_that_overshoots_ends_above_plain_sgd() -> None:
    out = run_demo("adam_vs_sgd", seed=0, lr_momentum=4.0)
    assert not out.claims[1].holds
    assert_words_follow_the_run(out)
    assert out.metrics["final_loss_momentum"] > out.metrics["final_loss_sgd"]
    assert "Plain SGD at the same learning rate" not in out.takeaway
    assert "Plain SGD ended no higher than momentum" in out.takeaway


def test_too_few_steps_for_anyone() -> None:
    out = run_demo("adam_vs_sgd", seed=0, steps=20)
    assert min(min(curve) for curve in out.series.values()) > 0.3
    assert out.answers["first_to_target"].option == "none of them within the steps"
    assert out.takeaway.startswith("No optimizer reached loss 0.3 in 20 steps")
    assert_words_follow_the_run(out)


def test_plain_sgd_wins_when_the_others_barely_move() -> None:
    out = run_demo("adam_vs_sgd", seed=0, target=0.6, lr_momentum=0.01, lr_adam=1e-4, steps=300)
    reached = {n: _reached(out, n) for n in ("sgd", "momentum", "adam")}
    assert reached["sgd"] <= 300 < min(reached["momentum"], reached["adam"])
    assert out.answers["first_to_target"].option == "plain SGD"
    assert out.takeaway.startswith("Plain SGD reached loss 0.6 first")


def test_a_diverging_run_stays_finite_and_is_reported() -> None:
    out = run_demo("adam_vs_sgd", seed=0, steps=60, lr_momentum=4.0, momentum=0.99)
    row = next(r for r in out.table.rows if r[0] == "SGD with momentum")
    assert row[4] == "diverged" or out.metrics["final_loss_momentum"] > 1.0
    assert all(v == v for curve in out.series.values() for v in curve)


def test_cuda_without_a_gpu_is_an_error_not_a_cpu_run() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        run_demo("adam_vs_sgd", seed=0, device="cuda")


@pytest.mark.parametrize(
    "overrides",
    [{"lr_adam": 2.0}, {"momentum": 0.0}, {"target": 0.7}, {"steps": 10}, {"width": 256}],
)
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec("adam_vs_sgd").resolve(overrides)
