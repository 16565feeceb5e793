"""adamw_vs_l2: L2 inside Adam decays large-gradient weights least; AdamW decays all alike."""

from __future__ import annotations

import math

import pytest

from studyapp.demo_api import DemoOutput, ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo


@pytest.fixture(scope="module")
def out() -> DemoOutput:
    return run_demo("adamw_vs_l2", seed=0)


def _claim(out: DemoOutput, start: str):
    return next(c for c in out.claims if c.text.startswith(start))


@pytest.mark.parametrize("seed", range(5))
def test_decay_is_uneven_with_l2_and_adamw_generalises_better_at_five_seeds(seed: int) -> None:
    out = run_demo("adamw_vs_l2", seed=seed)
    assert all(c.holds for c in out.claims), [c.text for c in out.claims if not c.holds]
    m = out.metrics
    assert m["decay_rate_ratio_l2"] >= 10
    assert m["test_mse_adamw"] <= 0.8 * m["test_mse_l2"]
    assert m["check_gap"] <= 1e-5
    assert out.answers["who"].option == "those with the smallest gradients"
    assert out.answers["test"].option == "AdamW"
    assert_words_follow_the_run(out)


def test_the_decay_cloud_falls_with_the_gradient_scale_for_l2_only(out: DemoOutput) -> None:
    adamw = out.series["AdamW"]["y"]
    assert max(abs(v - 1) for v in adamw) <= 1e-5
    l2 = out.series["L2 inside Adam"]
    n = len(l2["x"])
    assert n >= 100 and l2["x"] == sorted(l2["x"])
    tenth = n // 10
    small = sorted(l2["y"][:tenth])[tenth // 2]
    large = sorted(l2["y"][-tenth:])[tenth // 2]
    assert small >= 5 * large
    # a straight line through the cloud on log-log axes falls
    xs, ys = l2["x"], [math.log10(v) for v in l2["y"]]
    mx, my = sum(xs) / n, sum(ys) / n
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    assert slope < -0.5


def test_the_sweep_view_gives_each_method_the_same_grid_and_start(out: DemoOutput) -> None:
    sweep = run_demo("adamw_vs_l2", seed=0, view="sweep")
    l2, adamw = sweep.series["L2 inside Adam"], sweep.series["AdamW"]
    assert l2["x"] == adamw["x"] and len(l2["x"]) == 10
    assert l2["y"][0] == adamw["y"][0]  # lambda = 0: both are plain Adam
    m = sweep.metrics
    assert m["val_mse_adamw"] == pytest.approx(min(adamw["y"]), rel=1e-5)
    assert m["val_mse_l2"] == pytest.approx(min(l2["y"]), rel=1e-5)
    assert m == out.metrics  # the view changes the plot, not the run


def test_a_large_epsilon_flattens_adams_normaliser_and_the_words_say_so() -> None:
    out = run_demo("adamw_vs_l2", seed=1, eps=1.0)
    assert out.metrics["decay_rate_ratio_l2"] <= 1.5
    assert not _claim(out, "With L2 inside Adam").holds
    assert "within 3x of each other" in out.takeaway
    assert out.answers["who"].option == "all about the same (within 1.5x)"
    assert_words_follow_the_run(out)


def test_when_the_penalty_dominates_the_gradient_the_decay_evens_out() -> None:
    out = run_demo("adamw_vs_l2", seed=2, decay=3.0)
    assert out.metrics["decay_rate_ratio_l2"] <= 2
    assert not _claim(out, "With L2 inside Adam").holds
    assert_words_follow_the_run(out)


def _expected_test_answer(m: dict[str, float]) -> str:
    l2, adamw = m["test_mse_l2"], m["test_mse_adamw"]
    if abs(l2 - adamw) <= 0.05 * max(l2, adamw):
        return "within 5% of each other"
    return "AdamW" if adamw < l2 else "L2 inside Adam"


@pytest.mark.parametrize(("seed", "points"), [(2, 60), (4, 60), (1, 30)])
def test_with_inputs_on_one_scale_adamw_has_no_edge_and_the_words_say_so(
    seed: int, points: int
) -> None:
    out = run_demo("adamw_vs_l2", seed=seed, spread=1.0, points=points)
    m = out.metrics
    assert m["test_mse_adamw"] >= 0.95 * m["test_mse_l2"]
    assert not _claim(out, "Each at its best lambda").holds
    assert (
        "L2 inside Adam did at least as well" in out.takeaway
        or "within 10% of each other on the test set" in out.takeaway
    )
    assert out.answers["test"].option == _expected_test_answer(m)
    assert_words_follow_the_run(out)


def test_with_plenty_of_data_the_two_tie() -> None:
    out = run_demo("adamw_vs_l2", seed=1, points=2000)
    m = out.metrics
    assert abs(m["test_mse_l2"] - m["test_mse_adamw"]) <= 0.02 * m["test_mse_l2"]
    assert not _claim(out, "Each at its best lambda").holds
    assert out.answers["test"].option == "within 5% of each other"


@pytest.mark.parametrize(
    "overrides",
    [{"decay": 0.0}, {"decay": 5.0}, {"spread": 0.5}, {"eps": 2.0}, {"steps": 10}, {"points": 5}],
)
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec("adamw_vs_l2").resolve(overrides)


def test_cuda_without_a_gpu_is_an_error_not_a_silent_cpu_run() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="cuda"):
        run_demo("adamw_vs_l2", device="cuda")
