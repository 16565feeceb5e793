"""Dead ReLU units: a too-large step switches units off; does a leaky slope bring them back?

One-hidden-layer regression nets start from the same weights, some with ReLU and some with
leaky ReLU. One ReLU net and one leaky net take their first step at a too-large learning rate,
the way units get switched off in practice; the other two skip that step, as controls. All
four then train with the same plain SGD at a sane learning rate. A unit is switched off when
it fires on none of the training inputs. The run checks on its own gradients that such a ReLU
unit gets exactly zero gradient (so under plain SGD it can never fire again) and that such a
leaky unit gets the slope times the gradient above it. How many units the big step switches
off, and how many switched-off leaky units fire again within the run, are the experiments;
the run reports what happened.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from demos._common import Ticker, floats, fmt, generator, one_thread, setup
from studyapp.demo_api import (
    Answer,
    Claim,
    DemoOutput,
    DemoSpec,
    PlotSpec,
    Progress,
    Question,
    Table,
    device_param,
    float_param,
    int_param,
)

# Under plain SGD fewer than half come back at every slope tried, unless the leaky net
# diverges (slope 0.5 with lr 0.05); "half or more" is what many learners expect.
Q_COME_BACK = Question(
    "come_back",
    "After the big step, of the leaky ReLU units that get switched off (fire on no input), "
    "how many fire again by the end of training?",
    ("none of them", "some, fewer than half", "half or more"),
)
Q_LOSS = Question(
    "loss",
    "After the big step, which net ends training with the lower loss?",
    ("the ReLU net", "the leaky ReLU net", "about the same (within 10%)"),
)

SPEC = DemoSpec(
    id="dead_relu",
    title="Dead ReLU units and leaky ReLU",
    summary="A too-large step switches units off; do ReLU or leaky ReLU units come back?",
    topics=("dead ReLU", "leaky ReLU"),
    params=(
        float_param(
            "lr_spike",
            2.0,
            0.01,
            20.0,
            "learning rate of the one too-large first step",
            log_scale=True,
        ),
        float_param("lr", 0.02, 1e-3, 0.1, "plain SGD learning rate after it", log_scale=True),
        float_param("slope", 0.01, 0.001, 0.5, "leaky ReLU slope for negative inputs"),
        int_param("steps", 800, 10, 5000, "full-batch SGD steps, the big one included"),
        int_param("width", 32, 4, 256, "hidden units"),
        device_param(),
    ),
    tiny={"steps": 300},
    questions=(Q_COME_BACK, Q_LOSS),
    timeout_s=60,
)

POINTS = 256
OFFSET = 1.0  # the target's level: the untrained net's error starts large and one-signed
NETS = ("ReLU", "leaky ReLU", "ReLU, no big step", "leaky ReLU, no big step")
EXACT = 1e-6  # relative tolerance of "slope x upstream" (the product is computed exactly)
CAP = 1e6  # a diverged loss is shown at this value, never as NaN
SAME_LOSS = 0.1  # "about the same" final loss: within this fraction


@dataclass
class _Trace:
    """What one net did."""

    name: str
    switched_off: int = 0  # units that fired at the start and at some step fired on no input
    came_back: int = 0  # of those, units that fire on some input at the end
    off_at_end: int = 0
    off_per_step: list[float] = field(default_factory=list)
    largest_off_grad: float = 0.0  # ReLU: largest gradient entry of a unit while it is off
    slope_error: float = 0.0  # leaky: largest |dL/dz - slope dL/da| of an off unit, relative
    final_loss: float = 0.0
    diverged: bool = False  # the loss became NaN or infinite


def _data(torch: Any, seed: int) -> tuple[Any, Any]:
    """Inputs in the square [-1, 1]^2 and a curved target around OFFSET."""
    g = generator(seed)
    x = 2.0 * torch.rand(POINTS, 2, generator=g) - 1.0
    return x, OFFSET + torch.sin(3.0 * x[:, :1]) + x[:, 1:] ** 2


def _off(z: Any) -> Any:
    """Units that fire on no input (pre-activation <= 0 on every row), per net."""
    return (z <= 0).all(dim=-2)


class _Nets:
    """The four nets side by side: index i of every tensor is net NETS[i].

    They start from one nn.Linear initialization and are trained in one autograd graph (the
    summed loss gives each net exactly its own gradient), so they take their steps by the same
    rule. The activations are torch's own relu and leaky_relu, whose gradients the run checks.
    """

    def __init__(self, torch: Any, width: int, slope: float, device: Any) -> None:
        hidden, out = torch.nn.Linear(2, width), torch.nn.Linear(width, 1)
        start = [hidden.weight.T, hidden.bias[None, :], out.weight.T, out.bias[None, :]]
        self.params = [
            p.detach().expand(len(NETS), *p.shape).clone().to(device).requires_grad_()
            for p in start
        ]
        self.slope = slope
        self.torch = torch

    def forward(self, x: Any, y: Any) -> tuple[Any, Any, Any]:
        """Pre-activations and activations (nets x points x units) and each net's loss."""
        functional = self.torch.nn.functional
        w1, b1, w2, b2 = self.params
        z = self.torch.baddbmm(b1, x.expand(len(NETS), -1, -1), w1)
        relu = functional.relu(z[0::2])
        leaky = functional.leaky_relu(z[1::2], self.slope)
        a = self.torch.stack([relu[0], leaky[0], relu[1], leaky[1]])
        losses = ((self.torch.baddbmm(b2, a, w2) - y) ** 2).mean(dim=(1, 2))
        return z, a, losses

    def step(self, lr: Any) -> None:
        """One plain gradient step (no momentum, no decay) at each net's learning rate."""
        with self.torch.no_grad():
            for p in self.params:
                p -= lr.view(-1, *[1] * (p.dim() - 1)) * p.grad
                p.grad = None


def _train(torch: Any, data: tuple[Any, Any], params: Mapping[str, Any], tick: Any) -> Any:
    """Train the four nets; their traces and the number of units off before any step."""
    x, y = data
    nets = _Nets(torch, params["width"], params["slope"], x.device)
    lr = torch.tensor([params["lr"]] * len(NETS), device=x.device)
    first = lr.clone()
    first[:2] = params["lr_spike"]
    slope = params["slope"]
    with torch.no_grad():
        off_at_start = _off(nets.forward(x, y)[0])[0]
    ever_off = torch.zeros(len(NETS), params["width"], dtype=torch.bool, device=x.device)
    off_counts = []
    zero = torch.zeros(2, device=x.device)
    off_grad, slope_diff, upstream = zero, zero, zero
    for step in range(params["steps"]):
        z, a, losses = nets.forward(x, y)
        z.retain_grad()
        a.retain_grad()
        losses.sum().backward()
        off = _off(z.detach())
        ever_off |= off & ~off_at_start
        off_counts.append(off.sum(dim=1))
        # ReLU nets (0, 2): every gradient entry of a unit that is off.
        w1, b1 = nets.params[0].grad[0::2], nets.params[1].grad[0::2]
        grads = torch.cat([w1, b1], dim=1).abs() * off[0::2, None, :]
        off_grad = torch.maximum(off_grad, grads.amax(dim=(1, 2)))
        # Leaky nets (1, 3): dL/dz against slope x dL/da on every input of a unit that is off.
        expected = slope * a.grad[1::2]
        diff = (z.grad[1::2] - expected).abs() * off[1::2, None, :]
        slope_diff = torch.maximum(slope_diff, diff.amax(dim=(1, 2)))
        upstream = torch.maximum(upstream, (expected.abs() * off[1::2, None, :]).amax(dim=(1, 2)))
        nets.step(first if step == 0 else lr)
        tick()

    with torch.no_grad():
        z, _, losses = nets.forward(x, y)
    off = _off(z)
    ever_off |= off & ~off_at_start
    off_counts.append(off.sum(dim=1))
    counts = torch.stack(off_counts).T.tolist()
    traces = []
    for i, name in enumerate(NETS):
        loss = losses[i].item()
        diverged = not math.isfinite(loss)
        traces.append(
            _Trace(
                name,
                switched_off=int(ever_off[i].sum().item()),
                came_back=int((ever_off[i] & ~off[i]).sum().item()),
                off_at_end=int(off[i].sum().item()),
                off_per_step=[float(c) for c in counts[i]],
                final_loss=CAP if diverged else min(loss, CAP),
                diverged=diverged,
            )
        )
    for i, k in enumerate((0, 2)):
        traces[k].largest_off_grad = off_grad[i].item()
    for i, k in enumerate((1, 3)):
        traces[k].slope_error = (slope_diff[i] / upstream[i].clamp(min=1e-30)).item()
    return traces, int(off_at_start.sum().item())


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    x, y = (t.to(device) for t in _data(torch, seed))
    width, steps, slope = params["width"], params["steps"], params["slope"]
    tick = Ticker(progress, steps, lambda done: f"step {done} of {steps}")
    traces, off_at_start = _train(torch, (x, y), params, tick)
    relu, leaky, relu_control, leaky_control = traces
    firing = width - off_at_start
    spike = fmt(params["lr_spike"])

    claims = [
        _kill_claim(relu, relu_control, firing, spike),
        _come_back_claim(leaky, steps, slope),
        Claim.check(
            "A ReLU unit that fires on no input gets exactly zero gradient, so it never fires "
            f"again: the largest gradient entry of such a unit at any step is "
            f"{fmt(max(relu.largest_off_grad, relu_control.largest_off_grad))}, and "
            f"{relu.came_back + relu_control.came_back} switched-off ReLU units fire again",
            max(relu.largest_off_grad, relu_control.largest_off_grad) == 0.0
            and relu.came_back + relu_control.came_back == 0,
        ),
        Claim.check(
            f"A leaky unit that fires on no input gets slope x upstream: dL/dz = {slope:g} x "
            f"dL/da on every input, largest relative difference "
            f"{fmt(max(leaky.slope_error, leaky_control.slope_error))}",
            max(leaky.slope_error, leaky_control.slope_error) <= EXACT,
        ),
    ]
    answers = {
        Q_COME_BACK.id: Answer(
            _come_back_option(leaky),
            f"{leaky.came_back} of the {leaky.switched_off} leaky units switched off after the "
            f"big step fire again after {steps} steps of SGD.",
        ),
        Q_LOSS.id: Answer(
            _loss_option(relu.final_loss, leaky.final_loss),
            f"After the big step the ReLU net ends at loss {fmt(relu.final_loss)}, the leaky "
            f"ReLU net at {fmt(leaky.final_loss)}.",
        ),
    }
    rows = [
        (
            t.name,
            t.switched_off,
            t.came_back,
            t.off_at_end,
            floats([t.final_loss], 4)[0],
        )
        for t in traces
    ]
    metrics = {"off_at_start": float(off_at_start)}
    for key, t in zip(("relu", "leaky", "relu_control", "leaky_control"), traces, strict=True):
        metrics |= {
            f"{key}_switched_off": float(t.switched_off),
            f"{key}_came_back": float(t.came_back),
            f"{key}_off_at_end": float(t.off_at_end),
            f"{key}_final_loss": t.final_loss,
        }
    metrics |= {
        "relu_largest_off_gradient": max(relu.largest_off_grad, relu_control.largest_off_grad),
        "leaky_slope_error": max(leaky.slope_error, leaky_control.slope_error),
    }
    return DemoOutput(
        series={f"{t.name}: units firing on no input": t.off_per_step for t in traces},
        table=Table.of(
            [
                "net",
                "units switched off during the run",
                "of those, firing again at the end",
                "firing on no input at the end",
                "final training loss",
            ],
            rows,
        ),
        metrics=metrics,
        claims=claims,
        setup=(
            f"All four nets start from the same weights and train by {steps} full-batch "
            f"plain SGD steps at learning rate {params['lr']:g} on the same {POINTS} points, "
            f"except that the first two take their first step at learning rate {spike}. Leaky "
            "ReLU has slope "
            f"{slope:g}. At the start {off_at_start} of the {width} units already fire on no "
            "input and are not counted as switched off."
        ),
        answers=answers,
        plot=PlotSpec(title="hidden units that fire on no input", x_label="step", y_label="units"),
    )


def _kill_claim(relu: _Trace, control: _Trace, firing: int, spike: str) -> Claim:
    numbers = (
        f"{relu.switched_off} of the {firing} that fired at the start come to fire on no input, "
        f"against {control.switched_off} without that step"
    )
    again = "none" if relu.came_back == 0 else str(relu.came_back)
    return Claim.experiment(
        f"A too-large first step (learning rate {spike}) switches ReLU units off: {numbers}",
        relu.switched_off >= 2 * control.switched_off + 2,
        lesson=(
            f"One too-large step (learning rate {spike}) and the steps right after it switched "
            f"off {relu.switched_off} of {firing} ReLU units ({control.switched_off} without "
            f"it), and {again} of them fired again."
        ),
        otherwise=(
            f"The first step at learning rate {spike} did not switch off clearly more ReLU "
            f"units than training without it: {relu.switched_off} against "
            f"{control.switched_off}."
        ),
    )


def _come_back_option(leaky: _Trace) -> str:
    if leaky.came_back == 0:
        return Q_COME_BACK.options[0]
    if 2 * leaky.came_back < leaky.switched_off:
        return Q_COME_BACK.options[1]
    return Q_COME_BACK.options[2]


def _loss_option(relu: float, leaky: float) -> str:
    if abs(relu - leaky) <= SAME_LOSS * max(relu, leaky):
        return Q_LOSS.options[2]
    return Q_LOSS.options[0] if relu < leaky else Q_LOSS.options[1]


def _come_back_claim(leaky: _Trace, steps: int, slope: float) -> Claim:
    off = leaky.switched_off
    numbers = f"{leaky.came_back} of the {off} switched off fire again after {steps} SGD steps"
    back = "none" if leaky.came_back == 0 else f"only {leaky.came_back}"
    return Claim.experiment(
        f"Most switched-off leaky units stay off after the big step: {numbers}",
        off > 0 and 2 * leaky.came_back < off,
        lesson=(
            "A leaky unit that is off still gets a gradient, the slope times the gradient "
            f"above it; with slope {slope:g} and plain SGD that brought back {back} of the {off} "
            f"within {steps} steps."
        ),
        otherwise=_come_back_otherwise(leaky, steps, slope),
    )


def _come_back_otherwise(leaky: _Trace, steps: int, slope: float) -> str:
    off = leaky.switched_off
    if not off:
        return "No leaky unit was switched off, so none had to come back."
    if leaky.diverged:
        return (
            f"The leaky net diverged (its loss became infinite or NaN), so its {leaky.came_back} "
            f"of {off} units firing again at the end say nothing about recovery."
        )
    return (
        f"{leaky.came_back} of the {off} switched-off leaky units fire again within {steps} SGD "
        f"steps: with slope {slope:g}, the gradient they get while off ({slope:g} times the "
        "gradient above) was enough to bring them back."
    )
