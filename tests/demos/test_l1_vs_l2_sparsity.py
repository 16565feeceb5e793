"""l1_vs_l2_sparsity: L1 puts weights at exactly zero, L2 only shrinks them."""

from __future__ import annotations

import pytest

from demos.l1_vs_l2_sparsity import ALL, L1, NEITHER, NONE, SOME
from studyapp.demo_api import DemoOutput, ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo

SEEDS = range(5)


@pytest.fixture(scope="module")
def tiny_runs() -> list[DemoOutput]:
    return [run_demo("l1_vs_l2_sparsity", seed=s) for s in SEEDS]


def test_l1_selects_the_relevant_features_and_l2_zeroes_none(tiny_runs: list[DemoOutput]) -> None:
    for out in tiny_runs:
        relevant = int(out.metrics["relevant_features"])
        l1, l2 = out.series["L1"]["y"], out.series["L2"]["y"]
        irrelevant_l1 = l1[relevant:]
        assert sum(w == 0.0 for w in irrelevant_l1) >= 0.85 * len(irrelevant_l1)
        assert all(w != 0.0 for w in l1[:relevant])
        assert all(w != 0.0 for w in l2)
        assert all(c.holds for c in out.claims), [c.text for c in out.claims if not c.holds]
        assert_words_follow_the_run(out)
        assert out.answers["more_zeros"].option == L1
        assert out.answers["useful_kept"].option == ALL


def test_what_l2_does_is_a_check(tiny_runs: list[DemoOutput]) -> None:
    out = tiny_runs[0]
    assert [c.kind for c in out.claims] == ["experiment", "experiment", "check", "check"]
    assert out.metrics["norm_L2"] < out.metrics["norm_least_squares"]


def test_a_tiny_l1_penalty_zeroes_nothing_and_the_words_say_so() -> None:
    out = run_demo("l1_vs_l2_sparsity", lambda_l1=1e-4)
    assert out.metrics["zeros_irrelevant_L1"] == 0
    selection, held_out = out.claims[:2]
    assert not selection.holds and not held_out.holds
    assert "zeroed only 0 of the 45 useless weights" in out.headline
    assert "selects features" not in out.takeaway
    assert out.answers["more_zeros"].option == NEITHER
    assert_words_follow_the_run(out)


def test_a_huge_l1_penalty_zeroes_the_useful_weights_too() -> None:
    out = run_demo("l1_vs_l2_sparsity", lambda_l1=10.0)
    assert out.metrics["zeros_relevant_L1"] == 5
    assert not out.claims[0].holds
    assert "zeroed useful weights too" in out.headline
    assert "worse than plain least squares" in out.claims[1].says
    assert out.answers["useful_kept"].option == NONE
    assert_words_follow_the_run(out)


def test_with_fewer_examples_than_features_l1_keeps_only_some_useful_weights() -> None:
    out = run_demo("l1_vs_l2_sparsity", features=200, relevant=20, samples=20)
    kept = 20 - out.metrics["zeros_relevant_L1"]
    assert 0 < kept < 20
    assert out.answers["useful_kept"].option == SOME
    assert_words_follow_the_run(out)


def test_when_every_feature_matters_there_is_nothing_to_select() -> None:
    out = run_demo("l1_vs_l2_sparsity", features=20, relevant=20)
    assert out.metrics["irrelevant_features"] == 0
    assert not out.claims[0].holds
    assert "no useless weight" in out.headline
    assert_words_follow_the_run(out)


def test_without_noise_plain_least_squares_is_exact_and_l1_does_not_beat_it() -> None:
    out = run_demo("l1_vs_l2_sparsity", noise=0.0)
    assert out.metrics["test_mse_least_squares"] < 1e-12
    held_out = out.claims[1]
    assert not held_out.holds and "worse than plain least squares" in held_out.says
    assert_words_follow_the_run(out)


def test_answers_follow_the_numbers(tiny_runs: list[DemoOutput]) -> None:
    spec = get_spec("l1_vs_l2_sparsity")
    options = {q.id: q.options for q in spec.questions}
    for out in tiny_runs:
        m = out.metrics
        l1_zeros = m["zeros_irrelevant_L1"] + m["zeros_relevant_L1"]
        l2_zeros = m["zeros_irrelevant_L2"] + m["zeros_relevant_L2"]
        assert (out.answers["more_zeros"].option == L1) == (l1_zeros > l2_zeros)
        for qid, answer in out.answers.items():
            assert answer.option in options[qid] and answer.why.strip()


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("l1_vs_l2_sparsity")
    with pytest.raises(ParamError):
        spec.resolve({"features": 300})
    with pytest.raises(ParamError):
        spec.resolve({"relevant": 21})
    with pytest.raises(ParamError):
        spec.resolve({"lambda_l1": 0.0})


def test_cuda_without_a_gpu_is_an_error_not_a_cpu_run() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="no CUDA"):
        run_demo("l1_vs_l2_sparsity", device="cuda")
