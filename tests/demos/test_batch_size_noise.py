"""batch_size_noise: minibatch gradient variance falls as 1/B; an epoch is ceil(N/B) steps."""

from __future__ import annotations

import math

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import run_demo


def _slope(xs: list[float], ys: list[float]) -> float:
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    num = sum((a - mx) * (b - my) for a, b in zip(xs, ys, strict=True))
    return num / sum((a - mx) ** 2 for a in xs)


def test_variance_slope_recomputed_from_the_series() -> None:
    out = run_demo("batch_size_noise", seed=0)
    curve = out.series["measured variance"]
    small = [(x, y) for x, y in zip(curve["x"], curve["y"], strict=True) if 2**x <= 500 // 8]
    slope = _slope([x * math.log(2) for x, _ in small], [math.log(y) for _, y in small])
    assert -1.15 <= slope <= -0.85
    assert slope == pytest.approx(out.metrics["slope"], abs=1e-3)
    assert out.claims[0].holds


def test_four_times_the_batch_a_quarter_of_the_variance() -> None:
    out = run_demo("batch_size_noise", seed=1)
    ratio = out.metrics["variance_b4"] / out.metrics["variance_b16"]
    assert 3.0 < ratio < 5.3


def test_batch_of_one_has_the_per_example_variance() -> None:
    out = run_demo("batch_size_noise", seed=2)
    assert out.metrics["variance_b1"] == pytest.approx(out.metrics["sigma2"], rel=0.15)


def test_iterations_are_ceil_n_over_b_times_epochs() -> None:
    out = run_demo("batch_size_noise", seed=0, points=300, epochs=3, max_batch=128)
    for b in (1, 2, 4, 8, 16, 32, 64, 128):
        assert out.metrics[f"iterations_b{b}"] == math.ceil(300 / b) * 3
    assert out.claims[1].holds


@pytest.mark.parametrize("overrides", [{"max_batch": 2}, {"points": 10}, {"epochs": 0}])
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec("batch_size_noise").resolve(overrides)
