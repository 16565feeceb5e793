"""rbm_cd1: CD-k raises the exact log-likelihood of bars and stripes, or the run says it did not."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest

from demos._common import generator
from demos.rbm_cd1 import (
    _RBM,
    OVER_HALF,
    TENTH_TO_HALF,
    UNDER_TENTH,
    _all_visible,
    bars_and_stripes,
)
from studyapp.demo_api import DemoOutput, ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo

torch = pytest.importorskip("torch")
SEEDS = range(5)


@pytest.fixture(scope="module")
def tiny_runs() -> list[DemoOutput]:
    return [run_demo("rbm_cd1", seed=s) for s in SEEDS]


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


def test_likelihood_starts_uniform_and_rises_by_more_than_two_nats(
    tiny_runs: list[DemoOutput],
) -> None:
    for out in tiny_runs:
        curve = out.series["exact log-likelihood"]["y"]
        assert curve[0] == pytest.approx(-9 * math.log(2), abs=0.01)
        assert curve[-1] == pytest.approx(out.metrics["end_log_likelihood"], abs=1e-4)
        assert curve[-1] - curve[0] > 2.5
        assert curve[-1] <= -math.log(14) + 1e-9
        assert out.metrics["end_data_mass"] >= 10 * out.metrics["start_data_mass"]
        assert all(c.holds for c in out.claims)
        assert [c.kind for c in out.claims] == ["experiment", "experiment"]
        assert_words_follow_the_run(out)
        assert out.answers["data_mass"].option == OVER_HALF


def test_the_words_name_the_k_that_was_run() -> None:
    out = run_demo("rbm_cd1", k=3, updates=200)
    assert out.claims[0].text.startswith("Over 200 CD-3 updates")
    assert "CD-1" not in out.takeaway


def test_a_tiny_learning_rate_learns_nothing_and_the_words_say_so() -> None:
    out = run_demo("rbm_cd1", lr=0.001)
    assert out.metrics["gain"] < 0.5
    assert not any(c.holds for c in out.claims)
    assert "changed by only" in out.headline
    assert "never computes the partition function" not in out.takeaway
    assert_words_follow_the_run(out)
    assert out.answers["data_mass"].option == UNDER_TENTH


def test_a_few_hidden_units_move_some_probability_onto_the_data() -> None:
    out = run_demo("rbm_cd1", hidden=4)
    assert 0.12 <= out.metrics["end_data_mass"] <= 0.4
    assert out.answers["data_mass"].option == TENTH_TO_HALF
    assert_words_follow_the_run(out)


def test_answers_follow_the_numbers(tiny_runs: list[DemoOutput]) -> None:
    (question,) = get_spec("rbm_cd1").questions
    for out in tiny_runs:
        mass = out.metrics["end_data_mass"]
        expected = UNDER_TENTH if mass < 0.1 else TENTH_TO_HALF if mass <= 0.5 else OVER_HALF
        answer = out.answers[question.id]
        assert answer.option == expected and answer.option in question.options


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("rbm_cd1")
    with pytest.raises(ParamError):
        spec.resolve({"k": 0})
    with pytest.raises(ParamError):
        spec.resolve({"lr": 5.0})


def test_cuda_without_a_gpu_is_an_error_not_a_cpu_run() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="no CUDA"):
        run_demo("rbm_cd1", device="cuda")
