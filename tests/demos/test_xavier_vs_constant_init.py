"""xavier_vs_constant_init: constant init keeps hidden units identical; Xavier learns."""

from __future__ import annotations

import pytest

from demos.xavier_vs_constant_init import Q_BETTER
from studyapp.demo_api import DemoOutput, ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def default_out() -> DemoOutput:
    return run_demo("xavier_vs_constant_init")


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_every_claim_holds_with_a_margin(seed: int) -> None:
    out = run_demo("xavier_vs_constant_init", seed=seed)
    assert all(c.holds for c in out.claims), [c.text for c in out.claims if not c.holds]
    m = out.metrics
    assert m["test_accuracy_xavier"] >= 0.95
    assert m["test_accuracy_xavier"] >= m["test_accuracy_constant"] + 0.3
    assert out.answers["better"].option == Q_BETTER.options[1]


def test_constant_init_rows_stay_identical_at_every_step(default_out: DemoOutput) -> None:
    series = default_out.series
    assert set(series["row difference constant"]) == {0.0}
    assert max(series["row difference xavier"]) > 0.1
    rows = [r[2:] for r in default_out.table.rows if r[0] == "constant"]
    assert rows[0] == rows[1] == rows[2]


def test_constant_init_is_no_better_than_a_straight_line(default_out: DemoOutput) -> None:
    m = default_out.metrics
    assert m["train_accuracy_constant"] <= m["best_straight_line_accuracy"] <= 0.75
    assert_words_follow_the_run(default_out)
    assert "break the symmetry" in default_out.takeaway


@pytest.mark.parametrize("constant", [-1.0, 0.0, 2.0])
def test_any_constant_keeps_the_symmetry(constant: float) -> None:
    out = run_demo("xavier_vs_constant_init", constant=constant, steps=60)
    assert out.metrics["max_row_difference_constant"] == 0.0
    assert out.claims[1].holds and out.claims[2].holds


def test_a_tiny_learning_rate_learns_nothing_and_says_so() -> None:
    out = run_demo("xavier_vs_constant_init", lr=1e-4)
    assert out.metrics["test_accuracy_xavier"] < 0.7
    assert not out.claims[0].holds
    assert_words_follow_the_run(out)
    assert "Xavier init did not separate the rings in 150 steps" in out.takeaway


@pytest.mark.parametrize(
    ("overrides", "seed", "option"),
    [
        ({}, 0, Q_BETTER.options[1]),
        ({"lr": 1e-4}, 0, Q_BETTER.options[0]),
        ({"steps": 10}, 0, Q_BETTER.options[2]),
    ],
)
def test_the_answer_follows_the_held_out_accuracies(
    overrides: dict, seed: int, option: str
) -> None:
    out = run_demo("xavier_vs_constant_init", seed=seed, **overrides)
    xavier, constant = (out.metrics[f"test_accuracy_{n}"] for n in ("xavier", "constant"))
    expected = (
        Q_BETTER.options[2]
        if abs(xavier - constant) <= 0.05
        else Q_BETTER.options[1]
        if xavier > constant
        else Q_BETTER.options[0]
    )
    assert out.answers["better"].option == expected == option


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_cuda_without_it_fails_clearly() -> None:
    with pytest.raises(RuntimeError, match="no CUDA device"):
        run_demo("xavier_vs_constant_init", device="cuda")


def test_out_of_bounds_constant_is_refused() -> None:
    with pytest.raises(ParamError):
        get_spec("xavier_vs_constant_init").resolve({"constant": 3.0})
