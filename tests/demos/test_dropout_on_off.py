"""dropout_on_off: the plain net memorizes the noise, dropout generalizes, eval is the identity."""

from __future__ import annotations

from itertools import pairwise

import pytest

from studyapp.demo_api import DemoOutput, ParamError, get_spec
from tests.demos.conftest import run_demo


@pytest.fixture(scope="module")
def out() -> DemoOutput:
    return run_demo("dropout_on_off")


def _roughness(curve: dict[str, list[float]]) -> float:
    slopes = [b - a for a, b in pairwise(curve["y"])]
    return sum((b - a) ** 2 for a, b in pairwise(slopes))


def test_plain_net_memorizes_and_dropout_generalizes(out: DemoOutput) -> None:
    m = out.metrics
    assert m["train_mse_p0"] * 3 <= m["test_mse_p0"]
    assert m["test_mse_p0.2"] < m["test_mse_p0"]
    gap_plain = m["test_mse_p0"] - m["train_mse_p0"]
    gap_dropout = m["test_mse_p0.2"] - m["train_mse_p0.2"]
    assert gap_dropout < gap_plain
    assert m["gap_p0"] == pytest.approx(gap_plain)


def test_dropout_fit_is_smoother_than_the_plain_fit(out: DemoOutput) -> None:
    series = out.series
    assert _roughness(series["fit p=0.2"]) < _roughness(series["fit p=0"])


def test_eval_mode_is_the_identity_and_training_mode_keeps_the_mean(out: DemoOutput) -> None:
    assert out.metrics["eval_max_abs_change"] == 0.0
    assert abs(out.metrics["train_mode_mean_ratio"] - 1.0) <= 0.02
    assert all(c.holds for c in out.claims)


def test_no_dropout_gives_no_improvement_and_the_claim_says_so() -> None:
    plain = run_demo("dropout_on_off", p=0.0)
    assert "fit p=0" in plain.series
    improved = [c for c in plain.claims if c.text.startswith("With dropout")]
    assert improved and not improved[0].holds


def test_out_of_bounds_rate_is_refused() -> None:
    spec = get_spec("dropout_on_off")
    with pytest.raises(ParamError):
        spec.resolve({"p": 0.95})
    with pytest.raises(ParamError):
        spec.resolve({"points": 3})
