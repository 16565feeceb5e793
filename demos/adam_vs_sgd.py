"""Adam vs SGD: the same small network trained three ways on two interleaved spirals.

Plain SGD crawls on this problem, momentum helps, and Adam's per-parameter step sizes get the
loss down in far fewer steps. All three start from the same weights and see the same data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from demos._common import first_below, floats, fmt, generator, one_thread, report_every, setup
from studyapp.demo_api import (
    Claim,
    DemoOutput,
    DemoSpec,
    PlotSpec,
    Progress,
    Table,
    device_param,
    float_param,
    int_param,
)

SPEC = DemoSpec(
    id="adam_vs_sgd",
    title="Adam vs SGD vs momentum",
    summary="Train one small MLP on two spirals with SGD, SGD with momentum and Adam.",
    topics=("optimizers", "Adam", "SGD", "momentum", "faster optimizers"),
    params=(
        float_param("lr_sgd", 0.1, 1e-4, 2.0, "learning rate of plain SGD", log_scale=True),
        float_param("lr_momentum", 0.1, 1e-4, 2.0, "learning rate of SGD+momentum", log_scale=True),
        float_param("momentum", 0.9, 0.0, 0.99, "momentum coefficient of SGD+momentum"),
        float_param("lr_adam", 0.01, 1e-5, 0.5, "learning rate of Adam", log_scale=True),
        int_param("steps", 400, 20, 5000, "full-batch training steps for each optimizer"),
        int_param("width", 32, 4, 256, "hidden units in each of the two hidden layers"),
        int_param("points", 300, 50, 5000, "training points (half per spiral arm)"),
        float_param("target", 0.3, 0.01, 1.0, "loss target for the steps-to-target race"),
        device_param(),
    ),
    tiny={"steps": 200, "width": 16, "points": 120, "target": 0.45},
    timeout_s=60,
)


def _spirals(n: int, seed: int) -> tuple[Any, Any]:
    import torch

    g = generator(seed)
    half = n // 2
    t = torch.linspace(0.25, 1.0, half).repeat(2) * 3.0 * torch.pi
    arm = torch.cat([torch.zeros(half), torch.ones(half)])
    angle = t + arm * torch.pi
    radius = t / (3.0 * torch.pi)
    x = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    x = x + 0.03 * torch.randn(x.shape, generator=g)
    return x, arm.long()


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    nn = torch.nn
    x, y = _spirals(params["points"], seed)
    x, y = x.to(device), y.to(device)
    width = params["width"]
    base = nn.Sequential(
        nn.Linear(2, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 2)
    )
    start = {k: v.clone() for k, v in base.state_dict().items()}
    optimizers = {
        "sgd": lambda p: torch.optim.SGD(p, lr=params["lr_sgd"]),
        "momentum": lambda p: torch.optim.SGD(
            p, lr=params["lr_momentum"], momentum=params["momentum"]
        ),
        "adam": lambda p: torch.optim.Adam(p, lr=params["lr_adam"]),
    }
    steps = params["steps"]
    every = report_every(steps * len(optimizers))
    losses: dict[str, list[float]] = {}
    accuracy: dict[str, float] = {}
    done = 0
    for name, make in optimizers.items():
        model = base.to(device)
        model.load_state_dict(start)
        opt = make(model.parameters())
        curve: list[float] = []
        for _ in range(steps):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            curve.append(loss.item())
            done += 1
            if done % every == 0:
                progress(done / (steps * len(optimizers)), name, {**losses, name: curve})
        losses[name] = floats(curve)
        with torch.no_grad():
            accuracy[name] = (model(x).argmax(1) == y).float().mean().item()

    target = params["target"]
    reach = {name: first_below(curve, target) for name, curve in losses.items()}
    final = {name: curve[-1] for name, curve in losses.items()}
    adam_reach = reach["adam"]
    others_reach = [r for name, r in reach.items() if name != "adam"]
    adam_fastest = adam_reach is not None and all(r is None or adam_reach < r for r in others_reach)

    def steps_text(r: int | None) -> str:
        return "never" if r is None else f"step {r + 1}"

    claims = [
        Claim(
            f"Adam's final loss ({fmt(final['adam'])}) is below SGD's ({fmt(final['sgd'])})",
            final["adam"] < final["sgd"],
        ),
        Claim(
            f"Adam reaches loss {fmt(target)} first ({steps_text(adam_reach)}; "
            f"momentum {steps_text(reach['momentum'])}, SGD {steps_text(reach['sgd'])})",
            adam_fastest,
        ),
    ]
    rows = [
        (
            name,
            round(final[name], 4),
            round(accuracy[name], 3),
            reach[name] + 1 if reach[name] is not None else None,
        )
        for name in optimizers
    ]
    metrics = {f"final_loss_{n}": final[n] for n in optimizers}
    metrics |= {f"accuracy_{n}": accuracy[n] for n in optimizers}
    metrics |= {
        f"steps_to_target_{n}": float(reach[n] + 1 if reach[n] is not None else steps + 1)
        for n in optimizers
    }
    return DemoOutput(
        series=losses,
        table=Table.of(["optimizer", "final loss", "train accuracy", "steps to target"], rows),
        metrics=metrics,
        claims=claims,
        fixed_takeaway=(
            f"With the same {steps} steps, Adam ends at loss {fmt(final['adam'])} against "
            f"{fmt(final['sgd'])} for plain SGD: per-parameter step sizes cross flat regions fast."
        ),
        plot=PlotSpec(title="training loss", x_label="step", y_label="cross-entropy"),
    )
