"""Adam vs SGD: the same small network trained three ways on two interleaved spirals.

Plain SGD, SGD with momentum and Adam each train one small tanh MLP, from the same start
weights on the same full batch, and race to a training-loss target. A race is only fair when
every runner is at its own good learning rate, so the defaults are each optimizer's fastest
learning rate from a sweep on this problem (setup says which rates this run used). The run
reports who reached the target first and whether momentum ended below plain SGD. It also
measures how far each optimizer moved the weights and Adam's largest single step as a multiple
of its learning rate, which is how an Adam rate set too small shows: it barely moves.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from demos._common import first_below, floats, fmt, generator, one_thread, report_every, setup
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

# Each optimizer's fastest rate to loss 0.3 at the defaults (width 32, 300 points, 400 steps,
# seeds 0-4), from a sweep in factors of 2: SGD 0.25-2, momentum 0.25-2 at 0.9, Adam 0.0125-0.2.
TUNED = {"sgd": 1.0, "momentum": 1.0, "adam": 0.1}
SWEEP = "SGD and momentum 0.25-2, Adam 0.0125-0.2"
NAMES = {"sgd": "plain SGD", "momentum": "SGD with momentum", "adam": "Adam"}
CAP = 1e4  # a loss past this (or not finite) counts as diverged; the curve stops there
NONE_REACHED = "none of them within the steps"

SPEC = DemoSpec(
    id="adam_vs_sgd",
    title="Adam vs SGD vs momentum",
    summary="Train one small MLP on two spirals with SGD, SGD with momentum and Adam.",
    topics=("optimizers", "Adam", "SGD", "momentum", "faster optimizers"),
    params=(
        float_param(
            "lr_sgd", TUNED["sgd"], 1e-4, 4.0, "learning rate of plain SGD", log_scale=True
        ),
        float_param(
            "lr_momentum",
            TUNED["momentum"],
            1e-4,
            4.0,
            "learning rate of SGD with momentum",
            log_scale=True,
        ),
        float_param(
            "momentum", 0.9, 0.5, 0.99, "momentum coefficient (plain SGD is the other run)"
        ),
        float_param("lr_adam", TUNED["adam"], 1e-5, 1.0, "learning rate of Adam", log_scale=True),
        int_param("steps", 400, 20, 2000, "full-batch training steps for each optimizer"),
        int_param("width", 32, 4, 64, "hidden units in each of the two hidden layers"),
        int_param("points", 300, 50, 1000, "training points (half per spiral arm)"),
        float_param("target", 0.3, 0.01, 0.6, "loss target of the race (the start is ~0.69)"),
        device_param(),
    ),
    tiny={"steps": 150},
    timeout_s=120,
    questions=(
        Question(
            "first_to_target",
            "Which optimizer is first to bring the training loss down to the target "
            "(0.3 by default)?",
            (NAMES["sgd"], NAMES["momentum"], NAMES["adam"], NONE_REACHED),
        ),
    ),
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
    model = nn.Sequential(
        nn.Linear(2, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 2)
    ).to(device)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    lrs = {"sgd": params["lr_sgd"], "momentum": params["lr_momentum"], "adam": params["lr_adam"]}
    optimizers = {
        "sgd": lambda p: torch.optim.SGD(p, lr=lrs["sgd"]),
        "momentum": lambda p: torch.optim.SGD(p, lr=lrs["momentum"], momentum=params["momentum"]),
        "adam": lambda p: torch.optim.Adam(p, lr=lrs["adam"]),
    }
    steps = params["steps"]
    every = report_every(steps * len(optimizers))
    losses: dict[str, list[float]] = {}
    accuracy: dict[str, float] = {}
    travel: dict[str, float] = {}
    adam_step = 0.0  # Adam's largest change of one weight in one step
    done = 0
    for name, make in optimizers.items():
        model.load_state_dict(start)
        opt = make(model.parameters())
        curve: list[float] = []
        for _ in range(steps):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            value = loss.item()
            if not math.isfinite(value) or value > CAP:
                curve.append(CAP)
                break
            loss.backward()
            if name == "adam":
                before = [p.detach().clone() for p in model.parameters()]
                opt.step()
                with torch.no_grad():
                    jump = max(
                        float((p - b).abs().max())
                        for p, b in zip(model.parameters(), before, strict=True)
                    )
                adam_step = max(adam_step, jump)
            else:
                opt.step()
            curve.append(value)
            done += 1
            if done % every == 0:
                progress(done / (steps * len(optimizers)), name, {**losses, name: curve})
        done += steps - len(curve)
        losses[name] = floats(curve)
        with torch.no_grad():
            moved = [(p - start[k]).abs().max() for k, p in model.state_dict().items()]
            travel[name] = _finite_or_cap(float(torch.stack(moved).max()))
            accuracy[name] = (model(x).argmax(1) == y).float().mean().item()
    if not all(math.isfinite(a) for a in accuracy.values()):
        accuracy = {k: v if math.isfinite(v) else 0.0 for k, v in accuracy.items()}

    race = _Race(losses, params["target"], steps)
    step_ratio = adam_step / lrs["adam"]
    claims = [
        _adam_claim(race, lrs, travel, steps, step_ratio),
        _momentum_claim(race, lrs),
    ]
    rows = [
        (
            NAMES[name],
            fmt(lrs[name]),
            _loss_text(race.final[name]),
            round(accuracy[name], 3),
            race.when(name),
            fmt(travel[name]),
        )
        for name in optimizers
    ]
    metrics = {f"final_loss_{n}": race.final[n] for n in optimizers}
    metrics |= {f"accuracy_{n}": accuracy[n] for n in optimizers}
    metrics |= {f"steps_to_target_{n}": float(race.steps_to(n)) for n in optimizers}
    metrics |= {f"largest_weight_change_{n}": travel[n] for n in optimizers}
    metrics["adam_largest_step_over_lr"] = step_ratio
    return DemoOutput(
        series=losses,
        table=Table.of(
            [
                "optimizer",
                "lr",
                "final loss",
                "train accuracy",
                f"reached {fmt(race.target)}",
                "largest weight change",
            ],
            rows,
        ),
        metrics=metrics,
        claims=claims,
        plot=PlotSpec(title="training loss", x_label="step", y_label="cross-entropy", log_y=True),
        setup=_setup_text(params),
        answers={"first_to_target": race.answer()},
    )


class _Race:
    """Who reached the loss target when; a tie on the step goes to the lower loss there."""

    def __init__(self, losses: Mapping[str, list[float]], target: float, steps: int) -> None:
        self.losses = losses
        self.target = target
        self.steps = steps
        self.reach = {name: first_below(curve, target) for name, curve in losses.items()}
        self.final = {name: curve[-1] for name, curve in losses.items()}
        reached = [name for name, r in self.reach.items() if r is not None]
        self.order = sorted(reached, key=lambda n: (self.reach[n], losses[n][self.reach[n]]))
        self.winner = self.order[0] if self.order else None

    def steps_to(self, name: str) -> int:
        """Steps taken to reach the target, or steps + 1 for never."""
        r = self.reach[name]
        return self.steps + 1 if r is None else r + 1

    def when(self, name: str) -> str:
        r = self.reach[name]
        if r is not None:
            return f"step {r + 1}"
        return "diverged" if self.final[name] >= CAP else f"not in {self.steps} steps"

    def before(self, first: str, second: str) -> bool:
        return first in self.order and (
            second not in self.order or self.order.index(first) < self.order.index(second)
        )

    def summary(self) -> str:
        """Each optimizer with the step it reached the target at, in the order they got there."""
        names = self.order + [n for n in self.losses if n not in self.order]
        return ", ".join(f"{NAMES[n]} {self.when(n)}" for n in names)

    def answer(self) -> Answer:
        if self.winner is None:
            lowest = ", ".join(f"{NAMES[n]} {_loss_text(min(c))}" for n, c in self.losses.items())
            why = f"No optimizer got to loss {fmt(self.target)} in {self.steps} steps (lowest: "
            return Answer(NONE_REACHED, why + lowest + ").")
        return Answer(
            NAMES[self.winner], f"Loss {fmt(self.target)} was reached by: {self.summary()}."
        )


def _adam_claim(
    race: _Race,
    lrs: Mapping[str, float],
    travel: Mapping[str, float],
    steps: int,
    step_ratio: float,
) -> Claim:
    target = fmt(race.target)
    text = f"Adam reaches loss {target} first ({race.summary()})"
    lesson = f"Each at its own learning rate, Adam reached loss {target} first."
    otherwise = f"Adam was not first to loss {target}."
    rivals = [n for n in race.order if n != "adam"]
    if race.winner == "adam" and rivals:
        ahead = race.steps_to(rivals[0]) / race.steps_to("adam")
        lesson = (
            f"Each at its own learning rate, Adam reached loss {target} first, in "
            f"{race.steps_to('adam')} steps: {fmt(ahead)}x fewer than "
            f"{NAMES[rivals[0]]} ({race.steps_to(rivals[0])})."
        )
    elif race.winner == "adam":
        lesson = (
            f"Each at its own learning rate, only Adam reached loss {target} within "
            f"{steps} steps (in {race.steps_to('adam')})."
        )
    elif race.winner is None:
        otherwise = (
            f"No optimizer reached loss {target} in {steps} steps; the lowest losses were "
            + ", ".join(f"{NAMES[n]} {_loss_text(min(c))}" for n, c in race.losses.items())
            + "."
        )
    else:
        otherwise = (
            f"{_capital(NAMES[race.winner])} reached loss {target} first (step "
            f"{race.steps_to(race.winner)}; Adam {race.when('adam')}). "
            + _why_adam_lost(race, lrs, travel, steps, step_ratio)
        )
    return Claim.experiment(text, race.winner == "adam", lesson=lesson, otherwise=otherwise)


def _why_adam_lost(
    race: _Race,
    lrs: Mapping[str, float],
    travel: Mapping[str, float],
    steps: int,
    step_ratio: float,
) -> str:
    """What the numbers show about Adam's run: too little travel, a blow-up, or a rise."""
    lr = lrs["adam"]
    curve = race.losses["adam"]
    rival = race.winner or max(travel, key=travel.__getitem__)
    if race.final["adam"] >= CAP:
        return f"At lr {fmt(lr)} Adam's loss blew up past {CAP:.0e} at step {len(curve)}."
    peak = max(range(len(curve)), key=curve.__getitem__)
    tuned = TUNED["adam"]
    if lr > tuned and peak > 0 and curve[peak] > curve[0]:
        return (
            f"At lr {fmt(lr)}, {_times(lr / tuned)} its tuned {fmt(tuned)}, Adam's loss rose "
            f"above its start ({fmt(curve[0])}) to {fmt(curve[peak])} at step {peak + 1}."
        )
    if lr < tuned and rival != "adam" and travel["adam"] < travel[rival]:
        return (
            f"At lr {fmt(lr)}, {_times(tuned / lr)} below its tuned {fmt(tuned)}, Adam moved no "
            f"weight by more than {fmt(travel['adam'])} in {steps} steps (no step by more than "
            f"{fmt(step_ratio)}x lr), while {NAMES[rival]} moved one by {fmt(travel[rival])}."
        )
    return (
        f"At lr {fmt(lr)} Adam ended at loss {_loss_text(race.final['adam'])} after {steps} steps."
    )


def _momentum_claim(race: _Race, lrs: Mapping[str, float]) -> Claim:
    steps = race.steps
    momentum, sgd = race.final["momentum"], race.final["sgd"]
    text = (
        f"After {steps} steps SGD with momentum's loss ({_loss_text(momentum)}) is below plain "
        f"SGD's ({_loss_text(sgd)})"
    )
    same = (
        f" at the same learning rate ({fmt(lrs['sgd'])})" if lrs["sgd"] == lrs["momentum"] else ""
    )
    return Claim.experiment(
        text,
        momentum < sgd,
        lesson=(
            f"Momentum{same} ended at loss {_loss_text(momentum)} after {steps} steps, plain "
            f"SGD at {_loss_text(sgd)}."
        ),
        otherwise=(
            f"Plain SGD{same} ended no higher than momentum after {steps} steps: loss "
            f"{_loss_text(sgd)} against {_loss_text(momentum)}."
        ),
    )


def _setup_text(params: Mapping[str, Any]) -> str:
    text = (
        "All three start from the same weights and train on the same full batch. The default "
        "learning rates are each optimizer's fastest to loss 0.3 in a sweep by factors of 2 "
        f"({SWEEP}; width 32, 300 points, seeds 0-4): plain SGD {fmt(TUNED['sgd'])}, "
        f"momentum {fmt(TUNED['momentum'])} (coefficient 0.9), Adam {fmt(TUNED['adam'])}."
    )
    keys = {"sgd": "lr_sgd", "momentum": "lr_momentum", "adam": "lr_adam"}
    changed = [f"{NAMES[n]} {fmt(params[k])}" for n, k in keys.items() if params[k] != TUNED[n]]
    if params["momentum"] != 0.9:
        changed.append(f"momentum coefficient {fmt(params['momentum'])}")
    if changed:
        text += " This run changes them: " + ", ".join(changed) + "."
    return text


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _times(ratio: float) -> str:
    """A ratio for a sentence: "1.5x", "30x", "1,000x"."""
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.2g}x"


def _loss_text(value: float) -> str:
    return f"diverged (past {CAP:.0e})" if value >= CAP else fmt(value)


def _finite_or_cap(value: float) -> float:
    return value if math.isfinite(value) and value < 1e30 else 1e30
