"""rnn_gradient_clipping: gradients vanish or explode through time; clipping tames the explosion."""

from __future__ import annotations

import pytest

from demos._common import fmt
from studyapp.demo_api import DemoOutput, ParamError, get_spec, non_finite_fields
from tests.demos.conftest import assert_words_follow_the_run, run_demo

DEMO = "rnn_gradient_clipping"


@pytest.fixture(scope="module")
def tiny() -> DemoOutput:
    return run_demo(DEMO, seed=0)


@pytest.mark.parametrize("seed", range(5))
def test_clipping_trains_where_the_unclipped_run_fails(seed: int) -> None:
    out = run_demo(DEMO, seed=seed)
    m = out.metrics
    assert m["held_out_loss_clipped"] < 0.1 / 3
    assert m["diverged_unclipped"] == 1.0 or m["held_out_loss_unclipped"] > 0.3
    assert m["max_gradient_norm_unclipped"] > 100 * out.series["gradient norm, unclipped"]["y"][0]
    assert m["gradient_ratio_low_radius"] < 1e-2 / 10
    assert m["gradient_ratio_high_radius"] > 100 * 1.5
    assert all(c.holds for c in out.claims)
    assert out.answers["race"].option == "only the clipped run"
    assert_words_follow_the_run(out)


def test_a_diverged_run_stops_its_curve_and_stays_finite(tiny: DemoOutput) -> None:
    m = tiny.metrics
    assert m["diverged_unclipped"] == 1.0
    stop = int(m["diverged_at_unclipped"])
    assert tiny.series["loss, unclipped"]["x"][-1] == stop - 1
    assert tiny.series["loss, clipped"]["x"][-1] == get_spec(DEMO).tiny["steps"] - 1
    assert not non_finite_fields(tiny)
    assert f"diverged at step {stop}" in tiny.takeaway


def test_gradient_view_shows_one_curve_per_radius(tiny: DemoOutput) -> None:
    out = run_demo(DEMO, seed=0, view="gradient")
    low, high = out.series["radius 0.5"]["y"], out.series["radius 3"]["y"]
    assert len(low) == get_spec(DEMO).tiny["seq_len"] == len(out.series["radius 1"]["y"])
    assert low[0] < 1e-4 * low[-1]
    assert high[0] > 100 * high[-1]
    assert out.metrics == tiny.metrics
    assert out.plot.log_y


def test_at_a_small_radius_neither_run_learns_and_clipping_cannot_help() -> None:
    out = run_demo(DEMO, seed=0, radius=0.5)
    clipping = out.claims[0]
    assert not clipping.holds
    assert out.metrics["held_out_loss_clipped"] > 0.5
    assert out.metrics["held_out_loss_unclipped"] > 0.5
    assert out.answers["race"].option == "neither run"
    assert out.answers["flow"].option.startswith("more than 100 times smaller")
    assert "never enlarges a vanishing one" in out.takeaway
    assert_words_follow_the_run(out)


def test_on_a_short_sequence_both_runs_learn_and_nothing_explodes() -> None:
    out = run_demo(DEMO, seed=0, seq_len=8, lr=0.1)
    clipping, flow = out.claims[0], out.claims[1]
    assert not clipping.holds and not flow.holds
    assert out.metrics["held_out_loss_unclipped"] < 0.1 / 3
    assert out.metrics["gradient_ratio_high_radius"] < 100 / 3
    assert out.answers["race"].option == "both runs"
    assert "both runs learned" in out.takeaway
    assert "did not explode" in out.takeaway
    assert clipping.lesson not in out.takeaway and flow.lesson not in out.takeaway
    assert_words_follow_the_run(out)


def test_a_tiny_clip_holds_the_clipped_run_back() -> None:
    out = run_demo(DEMO, seed=0, lr=0.03, clip=0.01)
    assert out.metrics["held_out_loss_unclipped"] < 0.1 / 3
    assert out.metrics["held_out_loss_clipped"] > 0.5
    assert out.answers["race"].option == "only the unclipped run"
    assert "Only the unclipped run learned" in out.takeaway
    assert_words_follow_the_run(out)


@pytest.mark.parametrize(
    ("radius", "answer"),
    [
        (0.5, "more than 100 times smaller"),
        (1.0, "within a factor"),
        (3.0, "more than 100 times larger"),
    ],
)
def test_the_flow_answer_follows_the_measured_ratio(radius: float, answer: str) -> None:
    out = run_demo(DEMO, seed=0, radius=radius, steps=20)
    ratio = out.metrics["gradient_ratio_first_last"]
    assert out.answers["flow"].option.startswith(answer)
    assert fmt(ratio) in out.answers["flow"].why


def test_clip_grad_norm_check_and_recurrence_check_hold(tiny: DemoOutput) -> None:
    checks = [c for c in tiny.claims if c.kind == "check"]
    assert len(checks) == 3 and all(c.holds for c in checks)


@pytest.mark.parametrize(
    "overrides", [{"radius": 0.2}, {"lr": 5.0}, {"clip": 0.0}, {"seq_len": 2}, {"view": "both"}]
)
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec(DEMO).resolve(overrides)


def test_cuda_without_a_gpu_is_an_error() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="cuda"):
        run_demo(DEMO, device="cuda")
