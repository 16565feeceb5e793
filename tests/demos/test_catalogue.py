"""Every demo in the catalogue: tiny runs whose claims hold at several seeds, deterministically."""

from __future__ import annotations

import pytest
import torch

from studyapp.demo_api import (
    all_specs,
    answer_problems,
    claim_problems,
    get_spec,
    non_finite_fields,
)
from studyapp.demo_api.result import stable_metrics
from tests.demos.conftest import assert_words_follow_the_run, run_demo

SPECS = all_specs()
IDS = [s.id for s in SPECS]


@pytest.mark.parametrize("demo_id", IDS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tiny_run_claims_hold(demo_id: str, seed: int) -> None:
    out = run_demo(demo_id, seed=seed)
    assert out.claims, "a demo checks at least one claim"
    failed = [c.text for c in out.claims if not c.holds]
    assert not failed, f"{demo_id} seed {seed}: claims that did not hold: {failed}"
    assert not non_finite_fields(out)
    assert not claim_problems(out)
    assert_words_follow_the_run(out)
    assert not answer_problems(out, get_spec(demo_id).questions)
    assert out.takeaway.strip()
    assert out.series and out.table.columns and out.metrics


@pytest.mark.parametrize("demo_id", IDS)
def test_same_seed_same_result(demo_id: str) -> None:
    a = run_demo(demo_id, seed=3)
    b = run_demo(demo_id, seed=3)
    # As the runner reports them (see stable_metrics): equal to 12 significant digits.
    assert stable_metrics(a.metrics) == stable_metrics(b.metrics)
    assert a.series == b.series
    assert [c.text for c in a.claims] == [c.text for c in b.claims]


@pytest.mark.parametrize("demo_id", IDS)
def test_every_demo_asks_a_question_before_it_runs(demo_id: str) -> None:
    spec = get_spec(demo_id)
    assert spec.questions, "every demo asks at least one question before it runs"
    for question in spec.questions:
        assert question.text.strip() and all(o.strip() for o in question.options)


@pytest.mark.parametrize(
    "demo_id", [s.id for s in SPECS if any(p.name == "device" for p in s.params)]
)
def test_asking_for_a_gpu_without_one_fails_instead_of_running_on_the_cpu(demo_id: str) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        run_demo(demo_id, device="cuda")
