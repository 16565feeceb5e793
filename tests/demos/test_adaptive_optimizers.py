"""adaptive_optimizers: AdaGrad's shrinking step, RMSProp's leaky average, bias correction."""

from __future__ import annotations

import math

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import run_demo


def test_adagrad_effective_lr_never_grows_read_from_the_series() -> None:
    out = run_demo("adaptive_optimizers", seed=0)
    for coord in ("x1", "x2"):
        eff = out.series[f"adagrad {coord}"]["y"]
        assert all(b <= a for a, b in zip(eff, eff[1:], strict=False))
    x1 = out.series["adagrad x1"]["y"]
    assert x1[0] >= 2 * x1[-1]
    assert out.claims[0].holds


def test_flat_direction_gets_the_larger_step() -> None:
    out = run_demo("adaptive_optimizers", seed=0)
    for label in ("adagrad", "rmsprop", "adam"):
        assert out.series[f"{label} x1"]["y"][0] > out.series[f"{label} x2"]["y"][0]


@pytest.mark.parametrize(("beta1", "beta2"), [(0.9, 0.999), (0.5, 0.99), (0.0, 0.9)])
def test_uncorrected_first_step_is_too_large_by_the_formula(beta1: float, beta2: float) -> None:
    out = run_demo("adaptive_optimizers", seed=0, beta1=beta1, beta2=beta2)
    ratio = out.metrics["adam_first_step_uncorrected"] / out.metrics["adam_first_step_corrected"]
    assert ratio == pytest.approx((1 - beta1) / math.sqrt(1 - beta2), rel=1e-6)
    assert out.claims[2].holds


def test_slow_averages_that_cancel_do_not_count_as_too_large() -> None:
    # (1 - 0.99) / sqrt(1 - 0.9999) = 1: the uncorrected first step is the right size.
    out = run_demo("adaptive_optimizers", seed=0, beta1=0.99, beta2=0.9999)
    assert not out.claims[2].holds


def test_written_out_updates_match_torch_optimizers() -> None:
    torch = pytest.importorskip("torch")
    steps = 15
    out = run_demo("adaptive_optimizers", seed=0, view="path", steps=steps)
    makers = {
        "adagrad": lambda p: torch.optim.Adagrad(p, lr=0.4, eps=1e-8),
        "rmsprop": lambda p: torch.optim.RMSprop(p, lr=0.4, alpha=0.9, eps=1e-8),
        "adam": lambda p: torch.optim.Adam(p, lr=0.4, betas=(0.9, 0.999), eps=1e-8),
    }
    curvature = torch.tensor([0.2, 4.0], dtype=torch.float64)
    for label, make in makers.items():
        x = torch.tensor([-5.0, -2.0], dtype=torch.float64, requires_grad=True)
        opt = make([x])
        for _ in range(steps):
            opt.zero_grad()
            (0.5 * (curvature * x * x).sum()).backward()
            opt.step()
        path = out.series[label]
        assert path["x"][-1] == pytest.approx(x[0].item(), rel=1e-5, abs=1e-9)
        assert path["y"][-1] == pytest.approx(x[1].item(), rel=1e-5, abs=1e-9)


def test_bias_correction_off_relabels_the_adam_run() -> None:
    out = run_demo("adaptive_optimizers", seed=0, bias_correction=False)
    assert "adam (no bias correction) x1" in out.series
    assert out.series["adam (no bias correction) x1"]["y"][0] > out.series["adagrad x1"]["y"][0]


@pytest.mark.parametrize("overrides", [{"lr": 3.0}, {"beta1": 1.0}, {"steps": 1}])
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec("adaptive_optimizers").resolve(overrides)
