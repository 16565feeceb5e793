"""augmentation_shapes: each augmentation measured on its own, on the variation it imitates."""

from __future__ import annotations

import pytest

from demos.augmentation_shapes import NEITHER, SHIFTED, WASHED
from studyapp.demo_api import Claim, DemoOutput, ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo

SEEDS = range(5)
EVERY_AUGMENTATION = {"shift": True, "flip": True, "jitter": True}


def _claim(out: DemoOutput, start: str) -> Claim:
    return next(c for c in out.claims if c.text.startswith(start))


@pytest.fixture(scope="module")
def tiny_runs() -> list[DemoOutput]:
    return [run_demo("augmentation_shapes", seed=s, **EVERY_AUGMENTATION) for s in SEEDS]


@pytest.fixture(scope="module")
def untrained() -> DemoOutput:
    return run_demo("augmentation_shapes", epochs=1, lr=1e-4, **EVERY_AUGMENTATION)


def test_each_augmentation_does_what_it_imitates(tiny_runs: list[DemoOutput]) -> None:
    for out in tiny_runs:
        m = out.metrics
        assert m["shifted_accuracy_shift"] >= m["shifted_accuracy_plain"] + 0.15
        assert m["washed_out_accuracy_jitter"] >= m["washed_out_accuracy_plain"] + 0.15
        assert m["mirrored_accuracy_flip"] <= m["mirrored_accuracy_plain"] - 0.3
        assert m["centred_accuracy_plain"] >= 0.9
        assert all(c.holds for c in out.claims), [c.text for c in out.claims if not c.holds]
        assert_words_follow_the_run(out)


def test_one_net_per_augmentation_and_the_headline_is_the_first(
    tiny_runs: list[DemoOutput],
) -> None:
    out = tiny_runs[0]
    assert out.table.columns == ("test set", "plain", "shifts", "flips", "jitter")
    assert [c.kind for c in out.claims] == ["experiment"] * 4 + ["check"]
    assert out.headline.startswith("Random shifts in training taught the net")


def test_jitter_alone_is_measured_on_its_own_test_set() -> None:
    out = run_demo("augmentation_shapes", shift=False, jitter=True)
    assert out.table.columns == ("test set", "plain", "jitter")
    assert out.headline.startswith("Brightness and contrast jitter made the net read glyphs")
    assert "washed-out" in out.claims[0].text
    assert_words_follow_the_run(out)


def test_a_mirrored_slash_is_a_backslash(tiny_runs: list[DemoOutput]) -> None:
    check = _claim(tiny_runs[0], "Mirrored left to right")
    assert check.kind == "check" and check.holds


def test_untrained_nets_fail_every_experiment_and_the_words_say_so(
    untrained: DemoOutput,
) -> None:
    out = untrained
    assert all(not c.holds for c in out.claims if c.kind == "experiment")
    assert "did not lift accuracy on shifted test glyphs" in out.takeaway
    assert "did not lift accuracy on washed-out glyphs" in out.takeaway
    assert "Mirror flips did not cost" in out.takeaway
    assert "learned little even on centred glyphs" in out.takeaway
    assert "must keep the label" not in out.takeaway
    assert_words_follow_the_run(out)
    assert out.answers["plain_worst"].option == NEITHER


def test_without_augmentation_the_plain_net_is_the_only_run() -> None:
    out = run_demo("augmentation_shapes", shift=False)
    assert out.table.columns == ("test set", "plain")
    assert [c.kind for c in out.claims] == ["experiment"]
    assert out.headline.startswith("A net learns only the variation its training data shows")
    assert_words_follow_the_run(out)


def test_the_question_follows_the_plain_nets_numbers(
    tiny_runs: list[DemoOutput], untrained: DemoOutput
) -> None:
    small_shift = run_demo("augmentation_shapes", max_shift=1)
    assert small_shift.answers["plain_worst"].option == WASHED
    big_shift = run_demo("augmentation_shapes", tiny=False)
    assert big_shift.answers["plain_worst"].option == SHIFTED
    (question,) = get_spec("augmentation_shapes").questions
    for out in [*tiny_runs, untrained, small_shift, big_shift]:
        shifted = out.metrics["shifted_accuracy_plain"]
        washed = out.metrics["washed_out_accuracy_plain"]
        expected = (
            NEITHER if abs(shifted - washed) <= 0.05 else SHIFTED if shifted < washed else WASHED
        )
        assert out.answers[question.id].option == expected


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("augmentation_shapes")
    with pytest.raises(ParamError):
        spec.resolve({"max_shift": 5})
    with pytest.raises(ParamError):
        spec.resolve({"epochs": 0})


def test_cuda_without_a_gpu_is_an_error_not_a_cpu_run() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="no CUDA"):
        run_demo("augmentation_shapes", device="cuda")
