"""newton_vs_gd: Newton against GD at its best constant step, and the damped Newton step."""

from __future__ import annotations

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo


@pytest.fixture(scope="module")
def tiny_runs() -> list:
    return [run_demo("newton_vs_gd", seed=seed) for seed in range(5)]


def test_newton_needs_far_fewer_iterations_at_every_seed(tiny_runs: list) -> None:
    for out in tiny_runs:
        m = out.metrics
        assert m["iters_quadratic_newton"] == 1 and m["iters_logistic_newton"] <= 8
        assert m["iters_quadratic_gd"] >= 100 and m["iters_logistic_gd"] >= 100
        gd = out.series["logistic GD"]
        assert gd["x"][-1] == m["iters_logistic_gd"] and gd["y"][-1] <= 1e-8 * gd["y"][0]
        assert out.claims[0].holds
        assert out.answers["quadratic_newton_steps"].option == "one"
        assert "even at its best constant step" in out.takeaway
        assert_words_follow_the_run(out)


def test_gd_runs_at_two_over_l_plus_mu(tiny_runs: list) -> None:
    out = tiny_runs[0]
    assert out.metrics["gd_lr_quadratic"] == pytest.approx(2 / (30 + 1))
    assert "2/(L + mu)" in out.setup


def test_one_newton_step_solves_the_quadratic(tiny_runs: list) -> None:
    newton = tiny_runs[0].series["quadratic Newton"]["y"]
    assert len(newton) == 2 and newton[1] <= 1e-8 * newton[0]
    assert tiny_runs[0].claims[1].kind == "check" and tiny_runs[0].claims[1].holds


def test_on_a_round_bowl_gradient_descent_is_as_fast() -> None:
    # k = 1: the quadratic's Hessian is the identity and GD's best step is a Newton step.
    out = run_demo("newton_vs_gd", seed=0, k=1.0)
    assert out.metrics["iters_quadratic_gd"] == 1
    assert not out.claims[0].holds
    assert "on the quadratic Newton needed 1 iteration and GD 1" in out.takeaway
    assert_words_follow_the_run(out)


def test_too_small_a_gd_budget_is_reported_as_such() -> None:
    out = run_demo("newton_vs_gd", seed=0, gd_iters=10)
    assert not out.claims[0].holds
    assert "GD stopped at its cap of 10 iterations" in out.takeaway
    assert_words_follow_the_run(out)


@pytest.mark.parametrize(
    ("damping", "answer"), [(0.0, "one"), (0.01, "2 to 10"), (1.0, "more than 10")]
)
def test_damping_turns_the_newton_step_back_towards_a_gradient_step(
    damping: float, answer: str
) -> None:
    out = run_demo("newton_vs_gd", seed=0, damping=damping, gd_iters=10)
    steps = out.metrics["iters_quadratic_newton"]
    assert out.answers["quadratic_newton_steps"].option == answer
    assert (steps == 1) == (damping == 0) and (steps > 10) == (damping == 1.0)
    # One damped step keeps at most damping / (damping + 1) of the gradient: a check.
    assert out.claims[1].kind == "check" and out.claims[1].holds
    ratio = out.metrics["newton_quadratic_one_step_ratio"]
    assert ratio <= damping / (damping + 1) + 1e-8
    if damping:
        assert ratio > 1e-3


def test_heavy_damping_can_cost_newton_its_lead() -> None:
    out = run_demo("newton_vs_gd", seed=0, damping=10.0, k=30.0, gd_iters=2000)
    assert not out.claims[0].holds
    assert out.takeaway.startswith("Not at least 10x fewer")
    assert_words_follow_the_run(out)


def test_written_out_gradients_match_autograd() -> None:
    torch = pytest.importorskip("torch")
    from demos.newton_vs_gd import _logistic, _quadratic

    g = torch.Generator().manual_seed(0)
    for problem in (_quadratic(torch, 100.0, g), _logistic(torch, 100.0, g)):
        x = torch.randn(problem.x0.shape, generator=g, dtype=torch.float64, requires_grad=True)
        (auto,) = torch.autograd.grad(problem.f(x), x)
        assert torch.allclose(problem.grad(x.detach()), auto, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("overrides", [{"k": 0.5}, {"damping": -1.0}, {"gd_iters": 5}])
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec("newton_vs_gd").resolve(overrides)
