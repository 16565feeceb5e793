"""newton_vs_gd: one Newton step solves a quadratic; Newton needs far fewer iterations."""

from __future__ import annotations

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import run_demo


def test_one_newton_step_read_from_the_curve() -> None:
    out = run_demo("newton_vs_gd", seed=0)
    newton = out.series["quadratic Newton"]["y"]
    assert len(newton) == 2
    assert newton[1] <= 1e-8 * newton[0]
    assert out.claims[0].holds


def test_newton_needs_a_handful_of_steps_on_logistic_regression() -> None:
    out = run_demo("newton_vs_gd", seed=1)
    assert out.metrics["iters_logistic_newton"] <= 10
    assert out.metrics["iters_logistic_gd"] >= 10 * out.metrics["iters_logistic_newton"]
    gd = out.series["logistic GD"]
    assert gd["x"][-1] == out.metrics["iters_logistic_gd"]
    assert gd["y"][-1] <= 1e-8 * gd["y"][0]
    assert out.claims[1].holds


def test_on_a_round_bowl_gradient_descent_is_as_fast() -> None:
    # k = 1: the quadratic's Hessian is the identity and GD at lr 1/L is a Newton step.
    out = run_demo("newton_vs_gd", seed=0, k=1.0)
    assert out.metrics["iters_quadratic_gd"] == 1
    assert not out.claims[1].holds


def test_heavy_damping_spoils_the_one_step_solve() -> None:
    out = run_demo("newton_vs_gd", seed=0, damping=1.0)
    assert out.metrics["newton_quadratic_one_step_ratio"] > 1e-3
    assert not out.claims[0].holds


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
