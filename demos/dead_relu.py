"""Dead ReLU units vs leaky ReLU: a unit that never fires never learns, unless it leaks.

A one-hidden-layer network fits a target that sits well above zero; its output is the
average of its hidden units (a fixed readout), so every unit is asked to give more output.
Before training, the bias of some hidden units is pushed far down, so those units are
negative on every training input. With ReLU their output and their gradient are exactly zero:
no step ever changes their weights and they stay dead. With leaky ReLU the negative side has a
small slope, the gradient still reaches them, their biases climb and they fire again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from demos._common import Ticker, floats, fmt, one_thread, setup
from studyapp.demo_api import (
    Claim,
    DemoOutput,
    DemoSpec,
    PlotSpec,
    Progress,
    Table,
    choice_param,
    device_param,
    float_param,
    int_param,
)

SPEC = DemoSpec(
    id="dead_relu",
    title="Dead ReLU vs leaky ReLU",
    summary="Push some biases far negative; ReLU units stay dead, leaky ReLU units come back.",
    topics=("dead ReLU", "leaky ReLU"),
    params=(
        float_param("bias_shift", 4.0, 0.0, 20.0, "amount subtracted from the pushed biases"),
        float_param("pushed", 0.5, 0.0, 1.0, "share of hidden units whose bias is pushed"),
        choice_param(
            "activation", "leaky_relu", ("leaky_relu", "elu"), "activation compared with ReLU"
        ),
        float_param("slope", 0.01, 0.001, 0.5, "leaky ReLU slope for negative inputs"),
        float_param("lr", 0.01, 1e-4, 0.1, "Adam learning rate", log_scale=True),
        int_param("steps", 600, 10, 5000, "full-batch training steps"),
        int_param("width", 32, 2, 256, "hidden units"),
        device_param(),
    ),
    tiny={"steps": 200, "width": 16, "lr": 0.03},
    timeout_s=60,
)

_POINTS = 256
_OFFSET = 3.0
_RECOVER_SHARE = 0.5  # "units recover" = at least this share of the pushed units fire again


def _data(torch: Any) -> tuple[Any, Any]:
    """Inputs in the square [-1, 1]^2 and a target well above zero, from the seeded stream."""
    x = 2.0 * torch.rand(_POINTS, 2) - 1.0
    y = _OFFSET + torch.sin(3.0 * x[:, :1]) + x[:, 1:] ** 2
    return x, y


def _activation(torch: Any, name: str, slope: float) -> Any:
    functional = torch.nn.functional
    if name == "relu":
        return torch.relu
    if name == "leaky_relu":
        return lambda t: functional.leaky_relu(t, slope)
    return functional.elu


def _train(
    torch: Any, hidden: Any, act: Any, data: tuple[Any, Any], params: Mapping[str, Any], tick: Any
) -> tuple[list[float], list[float]]:
    """Train `hidden` (averaged by the fixed readout); firing pushed units and loss per step."""
    x, y = data
    pushed = slice(0, _pushed_count(params))
    opt = torch.optim.Adam(hidden.parameters(), lr=params["lr"], foreach=True)
    firing, losses = [], []
    for _ in range(params["steps"]):
        opt.zero_grad()
        z = hidden(x)
        loss = torch.nn.functional.mse_loss(act(z).mean(dim=1, keepdim=True), y)
        loss.backward()
        opt.step()
        firing.append(float((z[:, pushed] > 0).any(dim=0).sum().item()))
        losses.append(loss.item())
        tick()
    return firing, losses


def _pushed_count(params: Mapping[str, Any]) -> int:
    return round(params["pushed"] * params["width"])


def _firing_units(hidden: Any, x: Any, count: int) -> int:
    return int((hidden(x)[:, :count] > 0).any(dim=0).sum().item())


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    x, y = (t.to(device) for t in _data(torch))
    count = _pushed_count(params)
    base = torch.nn.Linear(2, params["width"]).to(device)
    with torch.no_grad():
        base.bias[:count] -= params["bias_shift"]
    start = {k: v.clone() for k, v in base.state_dict().items()}
    other = params["activation"]
    names = ("relu", other)
    steps = params["steps"]
    total = steps * len(names)
    tick = Ticker(progress, total, lambda done: f"step {done} of {total}")

    firing: dict[str, list[float]] = {}
    losses: dict[str, float] = {}
    at_start: dict[str, int] = {}
    at_end: dict[str, int] = {}
    moved: dict[str, float] = {}
    for name in names:
        hidden = torch.nn.Linear(2, params["width"]).to(device)
        hidden.load_state_dict(start)
        with torch.no_grad():
            at_start[name] = _firing_units(hidden, x, count)
        act = _activation(torch, name, params["slope"])
        curve, loss_curve = _train(torch, hidden, act, (x, y), params, tick)
        firing[name] = floats(curve)
        losses[name] = loss_curve[-1]
        with torch.no_grad():
            at_end[name] = _firing_units(hidden, x, count)
            moved[name] = (
                max(
                    (hidden.weight[:count] - start["weight"][:count]).abs().max().item(),
                    (hidden.bias[:count] - start["bias"][:count]).abs().max().item(),
                )
                if count
                else 0.0
            )

    relu_dead = count > 0 and at_start["relu"] == 0 and at_end["relu"] == 0
    recovered = at_end[other]
    metrics = {f"pushed_firing_start_{n}": float(at_start[n]) for n in names}
    metrics |= {f"pushed_firing_end_{n}": float(at_end[n]) for n in names}
    metrics |= {f"pushed_weight_change_{n}": moved[n] for n in names}
    metrics |= {f"final_loss_{n}": losses[n] for n in names}
    metrics |= {"pushed_units": float(count)}
    claims = [
        Claim(
            f"The {count} pushed ReLU units start dead ({at_start['relu']} fire on any input), "
            f"stay dead ({at_end['relu']} fire after {steps} steps) and their weights never "
            f"change (largest change {fmt(moved['relu'])})",
            relu_dead and moved["relu"] == 0.0,
        ),
        Claim(
            f"The pushed {other} units recover: {recovered} of {count} fire again after "
            f"{steps} steps (from {at_start[other]} at the start; at least "
            f"{_RECOVER_SHARE:.0%} needed)",
            count > 0 and at_start[other] == 0 and recovered >= _RECOVER_SHARE * count,
        ),
    ]
    rows = [(n, count, at_start[n], at_end[n], fmt(moved[n]), round(losses[n], 4)) for n in names]
    return DemoOutput(
        series={f"{n}: pushed units firing": firing[n] for n in names},
        table=Table.of(
            [
                "activation",
                "pushed units",
                "firing at start",
                "firing at end",
                "largest weight change",
                "final loss",
            ],
            rows,
        ),
        metrics=metrics,
        claims=claims,
        fixed_takeaway=(
            f"ReLU units pushed below zero on every input get exactly zero gradient and stay "
            f"dead ({at_end['relu']} of {count} fire at the end); with {other} the gradient "
            f"still flows and {recovered} of {count} come back."
        ),
        plot=PlotSpec(
            title="pushed units that fire on some input", x_label="step", y_label="units"
        ),
    )
