"""self_attention: one attention layer learns a key-value lookup that uniform mixing cannot do."""

from __future__ import annotations

import pytest

from studyapp.demo_api import DemoOutput, ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo

DEMO = "self_attention"


@pytest.fixture(scope="module")
def untrained() -> DemoOutput:
    return run_demo(DEMO, seed=0, steps=10)


@pytest.mark.parametrize("seed", range(5))
def test_trained_attention_finds_the_matching_pair(seed: int) -> None:
    out = run_demo(DEMO, seed=seed)
    m = out.metrics
    assert m["attention_on_match"] > 0.8
    assert m["held_out_accuracy_attention"] > 0.9
    assert m["held_out_accuracy_uniform"] < m["pairing_blind_ceiling"] + 0.05
    assert m["held_out_accuracy_attention"] - m["held_out_accuracy_uniform"] > 0.3 + 0.2
    assert all(c.holds for c in out.claims)
    assert out.answers["where"].option.startswith("on the pair whose letter matches")
    assert out.answers["uniform"].option.startswith("far worse")
    assert_words_follow_the_run(out)


def test_attention_table_marks_the_match_and_rows_sum_to_one() -> None:
    out = run_demo(DEMO, seed=1, view="attention")
    pairs = get_spec(DEMO).defaults["pairs"]
    assert len(out.table.rows) == pairs + 1
    for column in (2, 4):
        weights = [row[column] for row in out.table.rows]
        assert sum(weights) == pytest.approx(1.0, abs=0.01)
        matched = next(i for i, row in enumerate(out.table.rows) if "(match)" in row[column - 1])
        assert weights[matched] == max(weights)
    curves = [s["y"] for s in out.series.values()]
    assert len(curves) == 2 and all(len(c) == pairs + 1 for c in curves)
    assert out.table.rows[-1][1].endswith("?")


def test_training_view_shows_attention_rising() -> None:
    out = run_demo(DEMO, seed=2)
    focus = out.series["attention on the matching pair"]["y"]
    assert focus[0] < 0.3 < 0.8 < focus[-1]
    accuracy = out.series["held-out accuracy, attention"]["y"]
    assert accuracy[-1] > accuracy[0] + 0.5


def test_before_training_nothing_is_found_and_the_words_say_so(untrained: DemoOutput) -> None:
    focus, gap = untrained.claims[0], untrained.claims[1]
    assert not focus.holds and not gap.holds
    assert untrained.metrics["attention_on_match"] < 0.3
    assert untrained.answers["where"].option.startswith("elsewhere")
    assert untrained.answers["uniform"].option.startswith("not far worse")
    assert "is only" in untrained.takeaway and "less than 0.3 apart" in untrained.takeaway
    assert focus.lesson not in untrained.takeaway and gap.lesson not in untrained.takeaway
    assert_words_follow_the_run(untrained)


def test_checks_hold_even_untrained(untrained: DemoOutput) -> None:
    checks = [c for c in untrained.claims if c.kind == "check"]
    assert len(checks) == 3 and all(c.holds for c in checks)
    assert untrained.metrics["shuffle_change_attention"] > 1e-2


def test_uniform_model_is_bounded_by_the_pairing_blind_ceiling_with_two_pairs() -> None:
    out = run_demo(DEMO, seed=0, pairs=2)
    m = out.metrics
    assert m["pairing_blind_ceiling"] > 0.5
    assert m["held_out_accuracy_uniform"] < m["pairing_blind_ceiling"] + 0.05
    assert m["even_spread"] == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    "overrides", [{"pairs": 1}, {"pairs": 13}, {"lr": 0.1}, {"dim": 4}, {"view": "heat"}]
)
def test_out_of_bounds_values_are_refused(overrides: dict) -> None:
    with pytest.raises(ParamError):
        get_spec(DEMO).resolve(overrides)


def test_cuda_without_a_gpu_is_an_error() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="cuda"):
        run_demo(DEMO, device="cuda")
