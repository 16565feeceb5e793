"""universal_approx: trained nets, scored on held-out points, against width, depth and a line."""

from __future__ import annotations

import math

import pytest

from demos.universal_approx import FALL, Q_DEPTH, Q_WIDTH, RISE, TARGETS, _Nets
from studyapp.demo_api import DemoOutput, ParamError, get_spec
from tests.demos.conftest import assert_words_follow_the_run, run_demo

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny_run() -> DemoOutput:
    return run_demo("universal_approx")


@pytest.fixture(scope="module")
def linear_run() -> DemoOutput:
    return run_demo("universal_approx", activation="none")


def _mse(series: dict, label: str) -> float:
    fit, target = series[label]["y"], series["target"]["y"]
    return sum((a - b) ** 2 for a, b in zip(fit, target, strict=True)) / len(target)


def _width_errors(out: DemoOutput) -> list[float]:
    return [out.metrics[f"error_width_{i}"] for i in range(3)]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_every_claim_holds_with_a_margin_at_several_seeds(seed: int) -> None:
    out = run_demo("universal_approx", seed=seed)
    assert all(c.holds for c in out.claims), [c.text for c in out.claims if not c.holds]
    errors = _width_errors(out)
    assert errors[0] >= 1.2 * FALL * errors[1] and errors[1] >= 1.2 * FALL * errors[2]
    assert errors[1] >= 2 * FALL * out.metrics["deep_error"]


def test_errors_are_the_trained_nets_own_on_held_out_points(tiny_run: DemoOutput) -> None:
    out = tiny_run
    assert _mse(out.series, "1 x 32 units") == pytest.approx(out.metrics["error_width_2"], 1e-3)
    assert _mse(out.series, "3 x 6 units") == pytest.approx(out.metrics["deep_error"], 1e-3)
    line = _mse(out.series, "linear regression")
    assert line == pytest.approx(out.metrics["linear_error"], rel=1e-3)
    # The held-out points lie between the training samples, not on them.
    assert len(out.series["target"]["x"]) == 200
    assert all(c.holds for c in out.claims)
    assert_words_follow_the_run(out)
    assert "Wider nets fit the curve better" in out.takeaway
    assert out.answers["width"].option == Q_WIDTH.options[0]
    assert out.answers["depth"].option == Q_DEPTH.options[0]


def test_without_an_activation_no_width_or_depth_beats_the_line(linear_run: DemoOutput) -> None:
    out = linear_run
    assert [c.holds for c in out.claims] == [False, False, False]
    assert_words_follow_the_run(out)
    line = out.metrics["linear_error"]
    for error in [*_width_errors(out), out.metrics["deep_error"]]:
        assert error == pytest.approx(line, rel=0.05)
    assert "no activation function every layer is linear" in out.takeaway
    assert "Width did not lower the held-out error" in out.takeaway
    assert "Depth did not lower the held-out error" in out.takeaway
    assert out.answers["width"].option == "it stops falling at some step"
    assert out.answers["depth"].option == "no, it stays about the same"


def _expected_width_option(errors: list[float]) -> str:
    if errors[0] >= FALL * errors[1] and errors[1] >= FALL * errors[2]:
        return Q_WIDTH.options[0]
    if errors[1] >= RISE * errors[0] or errors[2] >= RISE * min(errors[:2]):
        return Q_WIDTH.options[2]
    return Q_WIDTH.options[1]


def test_with_ten_samples_the_answers_follow_the_numbers() -> None:
    """Ten samples of an eight-turn curve: wider or deeper nets may fit them and miss the rest."""
    seen = set()
    for seed in range(5):
        out = run_demo("universal_approx", seed=seed, points=10)
        assert_words_follow_the_run(out)
        errors = _width_errors(out)
        assert out.answers["width"].option == _expected_width_option(errors)
        seen.add(out.answers["width"].option)
        shallow, deep = errors[1], out.metrics["deep_error"]
        depth_falls = shallow >= FALL * deep
        assert (out.answers["depth"].option == Q_DEPTH.options[0]) == depth_falls
        if out.answers["width"].option == Q_WIDTH.options[2]:
            assert "More width did not keep helping here" in out.takeaway
    assert Q_WIDTH.options[2] in seen or Q_WIDTH.options[1] in seen


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "none"])
@pytest.mark.parametrize("depth", [1, 3])
def test_hand_written_backward_equals_autograd(activation: str, depth: int) -> None:
    torch.manual_seed(0)
    nets = _Nets(depth, 5, [0.01, 0.03], activation, "cpu")
    x = 10 * torch.rand(40, 1) - 5
    y = TARGETS["wiggle"](x)
    nets.backward(x, y)
    manual = nets.grad.clone()
    theta = nets.theta.detach().clone().requires_grad_()
    sizes = [p.numel() for p in [*nets.weights, *nets.biases]]
    shapes = [p.shape for p in [*nets.weights, *nets.biases]]
    parts = [v.view(shape) for v, shape in zip(theta.split(sizes), shapes, strict=True)]
    nets.weights, nets.biases = parts[: depth + 1], parts[depth + 1 :]
    ((nets(x) - y) ** 2).mean(dim=(1, 2)).sum().backward()
    assert torch.allclose(theta.grad, manual, atol=1e-6)


def test_hand_written_adam_takes_torch_adams_steps() -> None:
    torch.manual_seed(0)
    nets = _Nets(2, 4, [0.03], "tanh", "cpu")
    copy = nets.theta.detach().clone().requires_grad_()
    opt = torch.optim.Adam([copy], lr=0.03)
    x = 10 * torch.rand(30, 1) - 5
    y = TARGETS["sine"](x)
    for step in range(5):
        nets.backward(x, y)
        copy.grad = nets.grad.clone()
        scale = 0.5 * (1 + math.cos(math.pi * step / 5))
        for group in opt.param_groups:
            group["lr"] = 0.03 * scale
        opt.step()
        nets.adam_step(scale)
        assert torch.allclose(nets.theta, copy.detach(), atol=1e-6)


def test_widths_are_compared_in_increasing_order() -> None:
    out = run_demo("universal_approx", width_small=32, width_large=2, steps=50)
    assert out.table.rows[1][0] == "1 x 2 units" and out.table.rows[3][0] == "1 x 32 units"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_cuda_without_it_fails_clearly() -> None:
    with pytest.raises(RuntimeError, match="no CUDA device"):
        run_demo("universal_approx", device="cuda", steps=50)


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("universal_approx")
    with pytest.raises(ParamError):
        spec.resolve({"width_large": 0})
    with pytest.raises(ParamError):
        spec.resolve({"depth": 6})
    with pytest.raises(ParamError):
        spec.resolve({"target": "square"})
