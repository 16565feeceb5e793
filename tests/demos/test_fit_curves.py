"""fit_curves: the shape of validation error against degree and epochs, told as it comes out."""

from __future__ import annotations

from itertools import pairwise

import pytest

from demos.fit_curves import FALLS_RISES, KEEPS_FALLING, RISES, RISES_FALLS, STAYS
from studyapp.demo_api import Claim, DemoOutput, ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo

SEEDS = range(5)


def _claim(out: DemoOutput, start: str) -> Claim:
    return next(c for c in out.claims if c.text.startswith(start))


def _val(out: DemoOutput, degree: int) -> float:
    return out.metrics[f"val_mse_degree_{degree}"]


@pytest.fixture(scope="module")
def tiny_runs() -> list[DemoOutput]:
    return [run_demo("fit_curves", seed=s) for s in SEEDS]


@pytest.fixture(scope="module")
def past_interpolation() -> list[DemoOutput]:
    return [run_demo("fit_curves", seed=s, degree=25, epochs=20) for s in SEEDS]


def test_validation_error_is_u_shaped_and_the_mlp_overfits(tiny_runs: list[DemoOutput]) -> None:
    for out in tiny_runs:
        best = int(out.metrics["best_degree"])
        assert 1 < best < 15
        assert _val(out, 1) >= 1.5 * _val(out, best)
        assert max(_val(out, d) for d in range(best, 16)) >= 1.5 * _val(out, best)
        m = out.metrics
        assert m["mlp_final_val_mse"] >= 1.15 * m["mlp_best_val_mse"]
        assert all(c.holds for c in out.claims), [c.text for c in out.claims if not c.holds]
        assert_words_follow_the_run(out)
        assert out.answers["past_best_degree"].option == RISES
        assert out.answers["mlp_epochs"].option == FALLS_RISES


def test_training_error_never_rises_with_degree_and_that_is_a_check(
    tiny_runs: list[DemoOutput],
) -> None:
    out = tiny_runs[0]
    train = out.series["train MSE"]["y"]
    assert all(b <= a * (1 + 1e-5) for a, b in pairwise(train))
    check = _claim(out, "Training error never rises")
    assert check.kind == "check" and check.holds
    assert [c.kind for c in out.claims].count("experiment") == 2


def test_past_the_interpolation_threshold_the_second_descent_is_named(
    past_interpolation: list[DemoOutput],
) -> None:
    for out in past_interpolation:
        assert out.metrics["interpolation_degree"] == 19
        assert out.metrics["peak_degree"] in (19, 20)
        assert _val(out, 25) * 10 <= _val(out, 19)
        second = _claim(out, "Validation error at degree 19")
        assert second.holds
        assert "second descent" in out.takeaway
        assert "worst" not in out.takeaway
        assert out.answers["past_best_degree"].option == RISES_FALLS
        assert_words_follow_the_run(out)


def test_below_the_threshold_there_is_no_second_descent_claim(tiny_runs: list[DemoOutput]) -> None:
    assert not any(c.text.startswith("Validation error at degree") for c in tiny_runs[0].claims)


def test_without_noise_error_keeps_falling_and_the_words_say_so() -> None:
    out = run_demo("fit_curves", noise=0.0, epochs=20)
    u_shape = out.claims[0]
    assert not u_shape.holds
    assert out.metrics["best_degree"] == 15
    assert out.headline.startswith("Validation error was still at its lowest at degree 15")
    assert "traces a U" not in out.takeaway
    assert out.answers["past_best_degree"].option == STAYS
    assert_words_follow_the_run(out)


def test_without_noise_past_the_threshold_there_is_no_second_descent() -> None:
    out = run_demo("fit_curves", noise=0.0, degree=25, epochs=20)
    second = _claim(out, "Validation error at degree 19")
    assert not second.holds
    assert "did not fall again" in second.says
    assert out.answers["past_best_degree"].option == RISES
    assert_words_follow_the_run(out)


def test_a_short_mlp_run_does_not_overfit_and_the_words_say_so() -> None:
    out = run_demo("fit_curves", epochs=20)
    mlp = _claim(out, "The MLP")
    assert not mlp.holds
    assert "no clear overfitting" in mlp.says or "has not overfitted" in mlp.says
    assert "stop where validation error is lowest" not in out.takeaway
    assert_words_follow_the_run(out)


def test_many_points_leave_nothing_to_overfit() -> None:
    out = run_demo("fit_curves", points=500)
    assert not out.claims[0].holds
    assert out.answers["past_best_degree"].option == STAYS
    assert out.answers["mlp_epochs"].option == KEEPS_FALLING
    assert "has not overfitted" in out.takeaway
    assert_words_follow_the_run(out)


def test_answers_follow_the_numbers(
    tiny_runs: list[DemoOutput], past_interpolation: list[DemoOutput]
) -> None:
    spec = get_spec("fit_curves")
    options = {q.id: q.options for q in spec.questions}
    for out in [*tiny_runs, *past_interpolation]:
        m = out.metrics
        rose = m["mlp_final_val_mse"] >= 1.15 * m["mlp_best_val_mse"]
        assert out.answers["mlp_epochs"].option == (FALLS_RISES if rose else KEEPS_FALLING)
        for qid, answer in out.answers.items():
            assert answer.option in options[qid] and answer.why.strip()


def test_the_epoch_view_plots_the_mlp_curves() -> None:
    out = run_demo("fit_curves", view="epochs", epochs=20)
    assert set(out.series) == {"MLP train MSE", "MLP validation MSE"}
    assert out.plot.x_label == "epoch"


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("fit_curves")
    with pytest.raises(ParamError):
        spec.resolve({"degree": 2})
    with pytest.raises(ParamError):
        spec.resolve({"degree": 26})
    with pytest.raises(ParamError):
        spec.resolve({"noise": -0.1})


def test_cuda_without_a_gpu_is_an_error_not_a_cpu_run() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="no CUDA"):
        run_demo("fit_curves", device="cuda")
