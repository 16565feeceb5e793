"""dropout_on_off: what dropout does to held-out error, and words that follow the run."""

from __future__ import annotations

import pytest

from demos.dropout_on_off import HIGHER, LOWER, SAME
from studyapp.demo_api import Claim, DemoOutput, ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo

SEEDS = range(5)


def _claim(out: DemoOutput, start: str) -> Claim:
    return next(c for c in out.claims if c.text.startswith(start))


@pytest.fixture(scope="module")
def tiny_runs() -> list[DemoOutput]:
    return [run_demo("dropout_on_off", seed=s) for s in SEEDS]


@pytest.fixture(scope="module")
def no_dropout() -> DemoOutput:
    return run_demo("dropout_on_off", p=0.0)


def test_dropout_lowers_held_out_error_at_every_seed(tiny_runs: list[DemoOutput]) -> None:
    for out in tiny_runs:
        m = out.metrics
        assert m["train_mse_plain"] * 3 <= m["test_mse_plain"]
        assert abs(m["gap_dropout"]) < abs(m["gap_plain"])
        assert all(c.holds for c in out.claims), [c.text for c in out.claims if not c.holds]
        assert_words_follow_the_run(out)
        assert out.answers["test_error"].option == LOWER


def test_claims_are_marked_as_experiments_or_checks(tiny_runs: list[DemoOutput]) -> None:
    kinds = [c.kind for c in tiny_runs[0].claims]
    assert kinds == ["experiment"] * 3 + ["check"] * 2
    assert tiny_runs[0].headline.startswith("Dropout p=0.2 traded training fit")


def test_eval_mode_is_the_identity_and_training_mode_keeps_the_mean(
    tiny_runs: list[DemoOutput],
) -> None:
    m = tiny_runs[0].metrics
    assert m["eval_max_abs_change"] == 0.0
    assert abs(m["train_mode_mean_ratio"] - 1.0) <= 0.02


def test_at_p_zero_the_words_say_there_is_no_dropout(no_dropout: DemoOutput) -> None:
    out = no_dropout
    held_out = out.claims[0]
    assert not held_out.holds
    assert "no dropout" in out.headline and "same" in out.headline
    assert "keeps the fit smooth" not in out.takeaway
    gap = _claim(out, "The gap")
    assert not gap.holds and "unchanged" in gap.says
    assert out.metrics["test_mse_dropout"] == out.metrics["test_mse_plain"]
    assert [row[0] for row in out.table.rows] == ["no dropout"]
    assert_words_follow_the_run(out)
    assert out.answers["test_error"].option == SAME


def test_too_much_dropout_raises_held_out_error_and_says_so() -> None:
    out = run_demo("dropout_on_off", p=0.9)
    m = out.metrics
    assert m["test_mse_dropout"] >= 1.15 * m["test_mse_plain"]
    assert not out.claims[0].holds
    assert "worse" in out.headline
    assert_words_follow_the_run(out)
    assert out.answers["test_error"].option == HIGHER


def test_without_noise_nothing_is_memorized_and_the_words_say_so() -> None:
    out = run_demo("dropout_on_off", noise=0.0)
    memorize = _claim(out, "Without dropout")
    assert not memorize.holds
    assert "no clear memorization of its 20 training points" in out.takeaway
    assert not _claim(out, "The gap").holds
    assert_words_follow_the_run(out)


def test_answers_follow_the_numbers(tiny_runs: list[DemoOutput], no_dropout: DemoOutput) -> None:
    spec = get_spec("dropout_on_off")
    (question,) = spec.questions
    for out in [*tiny_runs, no_dropout]:
        change = out.metrics["test_mse_dropout"] / out.metrics["test_mse_plain"] - 1
        expected = LOWER if change <= -0.05 else HIGHER if change >= 0.05 else SAME
        answer = out.answers[question.id]
        assert answer.option == expected and answer.option in question.options
        assert answer.why.strip()


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("dropout_on_off")
    with pytest.raises(ParamError):
        spec.resolve({"p": 0.95})
    with pytest.raises(ParamError):
        spec.resolve({"points": 3})


def test_cuda_without_a_gpu_is_an_error_not_a_cpu_run() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="no CUDA"):
        run_demo("dropout_on_off", device="cuda")
