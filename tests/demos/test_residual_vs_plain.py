"""residual_vs_plain: identity shortcuts keep deep ReLU stacks trainable where plain ones stall."""

from __future__ import annotations

import math

import pytest

from demos import residual_vs_plain as demo
from studyapp.demo_api import DemoOutput, ParamError, get_spec, non_finite_fields
from tests.demos.conftest import assert_words_follow_the_run, run_demo

DEMO = "residual_vs_plain"


@pytest.fixture(scope="module")
def shallow() -> DemoOutput:
    return run_demo(DEMO, seed=0, tiny=False, blocks=2)


@pytest.mark.parametrize("seed", range(5))
def test_at_eight_layers_only_the_residual_net_trains(seed: int) -> None:
    out = run_demo(DEMO, seed=seed)
    m = out.metrics
    assert m["final_loss_plain"] > 0.6
    assert m["final_loss_residual"] < 0.05
    assert m["gradient_first_over_last_plain"] < 1e-2 / 5
    assert 0.5 < m["gradient_first_over_last_residual"] < 2
    assert abs(m["gap_shallowest"]) < 0.05
    assert all(c.holds for c in out.claims)
    assert out.answers["race"].option.startswith("the residual net")
    assert out.answers["gradient"].option.startswith("more than 100 times smaller")
    assert_words_follow_the_run(out)


def test_at_four_layers_both_nets_train_and_the_words_say_so(shallow: DemoOutput) -> None:
    race, signal, growth = shallow.claims
    assert not race.holds and not signal.holds and not growth.holds
    assert shallow.metrics["final_loss_plain"] < 0.05
    assert shallow.answers["race"].option.startswith("neither")
    assert "both nets reach a similar training loss" in shallow.takeaway
    assert "does not shrink 100-fold" in shallow.takeaway
    assert "did not grow" in shallow.takeaway
    assert_words_follow_the_run(shallow)


def test_the_depth_table_runs_every_power_of_two_up_to_the_deepest() -> None:
    assert demo._depths(4) == [1, 2, 4]
    assert demo._depths(6) == [1, 2, 4, 6]
    assert demo._depths(2) == [1, 2]
    out = run_demo(DEMO, seed=1, steps=20)
    assert [row[0] for row in out.table.rows] == [2, 4, 8]
    plain_gradients = [float(row[3]) for row in out.table.rows]
    assert plain_gradients == sorted(plain_gradients, reverse=True)


def test_with_he_init_the_plain_net_keeps_its_gradient() -> None:
    out = run_demo(DEMO, seed=0, init="he")
    m = out.metrics
    assert m["gradient_first_over_last_plain"] > 0.1
    assert m["final_loss_plain"] < 0.05
    assert not out.claims[0].holds and not out.claims[1].holds
    assert out.answers["gradient"].option.startswith("within a factor of 100")
    assert "does not shrink 100-fold" in out.takeaway
    assert_words_follow_the_run(out)


def test_gradient_view_plots_the_backward_signal_of_both_nets() -> None:
    out = run_demo(DEMO, seed=0, view="gradient", steps=20)
    plain, residual = out.series["plain"]["y"], out.series["residual"]["y"]
    assert len(plain) == len(residual) == get_spec(DEMO).tiny["blocks"] + 1
    assert plain[0] < plain[-1] / 100
    assert residual[0] == pytest.approx(residual[-1], rel=1.0)
    assert out.plot.log_y


def test_batched_copies_compute_the_plain_and_residual_nets() -> None:
    torch = pytest.importorskip("torch")
    relu = torch.nn.functional.relu
    x, y = demo._rings(torch, torch.Generator().manual_seed(0), 16)
    copies = demo._Copies(torch, seed=3, blocks=2, width=8, init="default", device="cpu")
    losses = copies.losses(x, y)
    weights = [p[0].detach() for p in copies.params]  # every copy starts the same
    for copy, skip in ((0, False), (len(demo.LRS), True)):
        h = x @ weights[0] + weights[1]
        for b in range(2):
            w1, b1, w2, b2 = weights[2 + 4 * b : 6 + 4 * b]
            branch = relu(relu(h) @ w1 + b1) @ w2 + b2
            h = h + branch if skip else branch
        logits = relu(h) @ weights[-2] + weights[-1]
        expected = torch.nn.functional.cross_entropy(logits, y).item()
        assert losses[copy].item() == pytest.approx(expected, rel=1e-5)


def test_he_weights_under_deep_shortcuts_diverge_and_the_plain_net_wins() -> None:
    out = run_demo(DEMO, seed=0, init="he", blocks=16, steps=20)
    m = out.metrics
    assert m["diverged_residual"] == 1.0
    assert m["gradient_first_over_last_residual"] > 100
    assert all(math.isfinite(v) for v in m.values())
    assert not non_finite_fields(out)
    assert out.answers["race"].option.startswith("the plain net")
    assert "the plain net ends with the lower training loss" in out.takeaway
    assert "residual net diverged at every learning rate" in out.takeaway
    assert "grows more than 100-fold" in out.takeaway
    assert_words_follow_the_run(out)


@pytest.mark.parametrize(
    "overrides", [{"blocks": 1}, {"blocks": 17}, {"width": 4}, {"init": "zero"}, {"view": "loss"}]
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
