"""adaptive_optimizers: AdaGrad's shrinking step on a long slope, and Adam's bias correction."""

from __future__ import annotations

import math

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo


@pytest.fixture(scope="module")
def tiny():
    return run_demo("adaptive_optimizers", seed=0)


def test_rmsprop_reaches_the_bottom_of_the_slope_while_adagrad_crawls(tiny) -> None:
    arrival = int(tiny.metrics["arrival_rmsprop"])
    assert arrival <= 100 < tiny.metrics["arrival_adagrad"]
    assert tiny.metrics["final_x1_adagrad"] < -5
    assert tiny.claims[0].holds
    assert tiny.answers["slope_race"].option == "RMSProp"
    assert f"RMSProp's leaky average got there at step {arrival}" in tiny.takeaway
    assert "AdaGrad's sum of squared gradients kept growing" in tiny.takeaway
    assert_words_follow_the_run(tiny)


def test_adagrad_effective_lr_never_grows_read_from_the_series(tiny) -> None:
    for coord in ("x1", "x2"):
        eff = tiny.series[f"adagrad {coord}"]["y"]
        assert all(b <= a for a, b in zip(eff, eff[1:], strict=False))
    x1 = tiny.series["adagrad x1"]["y"]
    # On the slope the gradient stays near 1, so the rate falls about as lr / sqrt(t).
    assert x1[-1] == pytest.approx(0.1 / math.sqrt(len(x1)), rel=0.1)
    rms = tiny.series["rmsprop x1"]["y"]
    assert rms[-1] > 10 * x1[-1]
    assert tiny.claims[1].holds and tiny.claims[1].kind == "check"


def test_the_steep_coordinate_gets_the_smaller_step(tiny) -> None:
    for label in ("adagrad", "rmsprop", "adam"):
        assert tiny.series[f"{label} x1"]["y"][0] > tiny.series[f"{label} x2"]["y"][0]
    assert tiny.claims[2].holds


def test_when_adagrad_does_arrive_it_arrives_second_and_the_text_says_when() -> None:
    out = run_demo("adaptive_optimizers", seed=0, lr=0.5, steps=150)
    assert out.metrics["arrival_rmsprop"] < out.metrics["arrival_adagrad"] <= 150
    assert out.claims[0].holds
    assert f"got there only at step {int(out.metrics['arrival_adagrad'])}" in out.takeaway
    assert_words_follow_the_run(out)


def test_too_few_steps_for_either_is_said_plainly() -> None:
    out = run_demo("adaptive_optimizers", seed=0, steps=20)
    assert not out.claims[0].holds
    assert out.answers["slope_race"].option == "neither within the steps"
    assert out.takeaway.startswith("Neither got within 1 of the minimum along x1 in 20 steps")
    assert_words_follow_the_run(out)


def test_a_slow_rmsprop_average_at_a_large_lr_overshoots_and_adagrad_wins() -> None:
    out = run_demo("adaptive_optimizers", seed=0, lr=2.0, rho=0.999)
    assert out.metrics["arrival_adagrad"] < out.metrics["arrival_rmsprop"]
    assert not out.claims[0].holds
    assert out.answers["slope_race"].option == "AdaGrad"
    assert out.takeaway.startswith("AdaGrad got within 1 of the minimum first")
    assert "its x1 ranging from" in out.takeaway
    assert_words_follow_the_run(out)


@pytest.mark.parametrize(
    ("beta1", "beta2", "answer", "holds"),
    [
        (0.9, 0.999, "several times lr", True),
        (0.99, 0.9999, "several times lr", True),
        (0.0, 0.5, "about lr", False),
        (0.999, 0.5, "well below lr", False),
    ],
)
def test_uncorrected_early_steps_follow_the_betas(
    beta1: float, beta2: float, answer: str, holds: bool
) -> None:
    out = run_demo("adaptive_optimizers", seed=0, beta1=beta1, beta2=beta2, steps=20)
    without = out.metrics["adam_early_step_uncorrected"]
    assert out.answers["uncorrected_steps"].option == answer
    assert out.claims[3].holds is holds
    assert (without >= 2 * out.metrics["adam_early_step_corrected"]) is holds
    if not holds:
        assert "not several times larger" in out.takeaway
    assert_words_follow_the_run(out)
    # The first step alone is the identity (1 - beta1) / sqrt(1 - beta2).
    assert out.claims[4].holds and out.claims[4].kind == "check"
    assert f"= {(1 - beta1) / math.sqrt(1 - beta2):.3g}" in out.claims[4].text


def test_written_out_updates_match_torch_optimizers() -> None:
    torch = pytest.importorskip("torch")
    from demos.adaptive_optimizers import START, _f_torch

    steps = 15
    out = run_demo("adaptive_optimizers", seed=0, view="path", steps=steps)
    makers = {
        "adagrad": lambda p: torch.optim.Adagrad(p, lr=0.1, eps=1e-8),
        "rmsprop": lambda p: torch.optim.RMSprop(p, lr=0.1, alpha=0.9, eps=1e-8),
        "adam": lambda p: torch.optim.Adam(p, lr=0.1, betas=(0.9, 0.999), eps=1e-8),
    }
    for label, make in makers.items():
        x = torch.tensor(START, dtype=torch.float64, requires_grad=True)
        opt = make([x])
        for _ in range(steps):
            opt.zero_grad()
            _f_torch(x).backward()
            opt.step()
        path = out.series[label]
        assert path["x"][-1] == pytest.approx(x[0].item(), rel=1e-5, abs=1e-9)
        assert path["y"][-1] == pytest.approx(x[1].item(), rel=1e-5, abs=1e-9)


def test_bias_correction_off_plots_the_uncorrected_run() -> None:
    out = run_demo("adaptive_optimizers", seed=0, bias_correction=False)
    assert "adam (no bias correction) x1" in out.series and "adam x1" not in out.series
    assert out.series["adam (no bias correction) x1"]["y"][0] > out.series["adagrad x1"]["y"][0]


def test_every_seed_gives_the_same_run(tiny) -> None:
    assert run_demo("adaptive_optimizers", seed=4).metrics == tiny.metrics


@pytest.mark.parametrize("overrides", [{"lr": 3.0}, {"beta1": 1.0}, {"steps": 1}, {"rho": 0.4}])
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec("adaptive_optimizers").resolve(overrides)
