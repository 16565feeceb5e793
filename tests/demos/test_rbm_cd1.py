"""rbm_cd1: CD-1 raises the exact log-likelihood of bars and stripes."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest

from demos._common import generator
from demos.rbm_cd1 import _RBM, _all_visible, bars_and_stripes
from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import run_demo

torch = pytest.importorskip("torch")


def test_bars_and_stripes_are_the_fourteen_uniform_patterns() -> None:
    data = bars_and_stripes()
    assert data.shape == (14, 9)
    for row in data.view(14, 3, 3):
        rows_uniform = all(len(set(r.tolist())) == 1 for r in row)
        cols_uniform = all(len(set(c.tolist())) == 1 for c in row.T)
        assert rows_uniform or cols_uniform


def test_free_energy_likelihood_matches_brute_force_over_hidden_units() -> None:
    rbm = _RBM(3, "cpu", generator(0))
    rbm.w = torch.randn(9, 3, dtype=torch.float64, generator=generator(1))
    rbm.b = torch.randn(9, dtype=torch.float64, generator=generator(2))
    rbm.c = torch.randn(3, dtype=torch.float64, generator=generator(3))
    data = bars_and_stripes()
    every_v = _all_visible()
    hiddens = torch.tensor(list(itertools.product([0.0, 1.0], repeat=3)), dtype=torch.float64)

    def neg_energy(v: Any) -> Any:
        return v @ rbm.b + hiddens @ rbm.c + (v @ rbm.w) @ hiddens.T

    log_z = torch.logsumexp(torch.stack([neg_energy(v).flatten() for v in every_v]).flatten(), 0)
    brute = torch.stack([torch.logsumexp(neg_energy(v), 0) for v in data]) - log_z
    exact, _ = rbm.log_likelihood(data, every_v)
    assert exact == pytest.approx(brute.mean().item(), abs=1e-10)


def test_likelihood_starts_uniform_and_rises_by_more_than_two_nats() -> None:
    out = run_demo("rbm_cd1")
    curve = out.series["exact log-likelihood"]["y"]
    assert curve[0] == pytest.approx(-9 * math.log(2), abs=0.01)
    assert curve[-1] == pytest.approx(out.metrics["end_log_likelihood"], abs=1e-4)
    assert curve[-1] - curve[0] > 2.0
    assert curve[-1] <= -math.log(14) + 1e-9


def test_a_tiny_learning_rate_learns_nothing_in_the_same_updates() -> None:
    out = run_demo("rbm_cd1", lr=0.001)
    assert out.metrics["gain"] < 0.5
    assert not out.claims[0].holds


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("rbm_cd1")
    with pytest.raises(ParamError):
        spec.resolve({"k": 0})
    with pytest.raises(ParamError):
        spec.resolve({"lr": 5.0})
