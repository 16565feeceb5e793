"""Vanishing and exploding gradients in a recurrent net, and gradient clipping.

A tanh RNN (`torch.nn.RNN`) reads sequences of `seq_len` steps: the first step carries a sign,
+1 or -1, and every step carries noise. At the end it must output the sign, a dependency as
long as the sequence. The run makes two measurements.

1. Gradient through time, at initialization. The recurrent weights start as a radius times a
   random orthogonal matrix. Going back one step, the chain rule multiplies the gradient by
   those weights (transposed) and by tanh's slope at that step, which is at most 1. The run
   measures the norm of the loss's gradient with respect to each hidden state h_t, for the
   same net at radius 0.5, at `radius` and at radius 3, and plots it against t
   (`view=gradient`). Whether the gradient vanishes, holds or explodes is read off the numbers.
2. Training with and without clipping. Two copies of the same net (at `radius`) see the same
   batches with plain SGD at `lr`. Before each step, one of them rescales its gradient to a
   global norm of at most `clip` with `torch.nn.utils.clip_grad_norm_`. A run whose loss or
   gradient stops being finite, or whose loss passes 1e6, is stopped there and reported as
   diverged at that step. Both nets are scored on held-out sequences.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
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
    choice_param,
    device_param,
    float_param,
    int_param,
)

BATCH = 64
HELD_OUT = 512
NOISE = 0.5  # std of the distractor input at every step
LEARNED = 0.1  # held-out MSE below this = the sign was carried to the end (predicting 0 scores 1)
LOSS_CAP = 1e6  # a run whose training loss passes this has diverged; its curve stops there
VANISH = 1e-2  # gradient ratio first/last step below this: vanishing; above 1/VANISH: exploding
LOW_RADIUS, HIGH_RADIUS = 0.5, 3.0  # the two radii every run compares at initialization
CURVE_POINTS = 300

FLOW_OPTIONS = (
    "more than 100 times smaller (it vanishes)",
    "within a factor of 100",
    "more than 100 times larger (it explodes)",
)
RACE_OPTIONS = ("only the clipped run", "both runs", "neither run", "only the unclipped run")

SPEC = DemoSpec(
    id="rnn_gradient_clipping",
    title="Vanishing and exploding gradients in an RNN, and gradient clipping",
    summary=(
        "Measure the gradient through time of a tanh RNN, then train it on a long dependency "
        "with and without clipping the gradient norm."
    ),
    topics=(
        "recurrent neural networks",
        "vanishing gradients",
        "exploding gradients",
        "gradient clipping",
        "backpropagation through time",
    ),
    params=(
        float_param(
            "radius",
            1.0,
            0.3,
            3.0,
            "norm (= spectral radius) of the initial recurrent weights of the trained nets: "
            "radius x a random orthogonal matrix",
        ),
        float_param("lr", 0.1, 1e-3, 3.0, "SGD learning rate of both runs", log_scale=True),
        float_param(
            "clip", 1.0, 0.01, 100.0, "largest gradient norm of the clipped run", log_scale=True
        ),
        int_param("seq_len", 30, 5, 60, "sequence length T: steps from the sign to the output"),
        int_param("steps", 200, 20, 1000, "SGD steps of each run"),
        int_param("hidden", 32, 4, 64, "hidden units"),
        choice_param(
            "view",
            "training",
            ("training", "gradient"),
            "plot the two training runs, or the gradient norm per time step at initialization",
        ),
        device_param(),
    ),
    tiny={"seq_len": 20, "hidden": 16, "steps": 120, "lr": 0.3, "clip": 0.25},
    timeout_s=60,
    questions=(
        Question(
            "flow",
            "At initialization, at this run's radius, how does the gradient reaching the first "
            "step of the sequence compare with the gradient at the last step?",
            FLOW_OPTIONS,
        ),
        Question(
            "race",
            "Training at this learning rate, which run learns the long dependency (held-out loss "
            "below 0.1)?",
            RACE_OPTIONS,
        ),
    ),
)


def _sequences(torch: Any, gen: Any, n: int, seq_len: int) -> tuple[Any, Any]:
    """Inputs (n, T, 2) and targets (n,): channel 0 holds the sign at step 0, channel 1 noise."""
    sign = torch.randint(0, 2, (n,), generator=gen).float() * 2 - 1
    x = torch.zeros(n, seq_len, 2)
    x[:, 0, 0] = sign
    x[:, :, 1] = NOISE * torch.randn(n, seq_len, generator=gen)
    return x, sign


def _build(torch: Any, seed: int, hidden: int, radius: float) -> Any:
    """The RNN and its readout; the same `seed` gives the same weights up to the radius."""
    nn = torch.nn
    torch.manual_seed(seed)
    model = nn.ModuleDict(
        {"rnn": nn.RNN(2, hidden, batch_first=True), "readout": nn.Linear(hidden, 1)}
    )
    orthogonal, _ = torch.linalg.qr(torch.randn(hidden, hidden))
    with torch.no_grad():
        model["rnn"].weight_hh_l0.copy_(radius * orthogonal)
    return model


def _predict(model: Any, x: Any) -> Any:
    states, _ = model["rnn"](x)
    return model["readout"](states[:, -1]).squeeze(1)


def _gradient_through_time(torch: Any, model: Any, x: Any, sign: Any) -> dict[str, Any]:
    """‖∂loss/∂h_t‖ for every t, by a hand-written recurrence in float64 on `model`'s weights.

    Float64 keeps a gradient that shrinks by 1e-20 over the sequence from rounding to zero; the
    recurrence is compared with nn.RNN in float64 too, since at a large radius the dynamics
    amplify float32 rounding.
    """
    rnn, readout = model["rnn"], model["readout"]
    w_ih, w_hh = rnn.weight_ih_l0.double(), rnn.weight_hh_l0.double()
    bias = (rnn.bias_ih_l0 + rnn.bias_hh_l0).double()
    xs = x.double()
    h = torch.zeros(x.shape[0], w_hh.shape[0], dtype=torch.float64, device=x.device)
    states = []
    for t in range(x.shape[1]):
        h = torch.tanh(xs[:, t] @ w_ih.T + h @ w_hh.T + bias)
        states.append(h)
    out = h @ readout.weight.double().T + readout.bias.double()
    loss = ((out.squeeze(1) - sign.double()) ** 2).mean()
    grads = torch.autograd.grad(loss, states)
    with torch.no_grad():
        reference, _ = copy.deepcopy(rnn).double()(xs)
        stacked = torch.stack(states, dim=1)
        mismatch = (stacked - reference).abs().max().item()
        slope = (1 - stacked**2).mean().item()
    norms = [g.norm().item() for g in grads]
    seq_len = x.shape[1]
    ratio = norms[0] / norms[-1]
    return {
        "norms": norms,
        "ratio": ratio,
        "per_step": ratio ** (1.0 / max(seq_len - 1, 1)),
        "slope": slope,
        "mismatch": mismatch,
    }


def _flat_grad(torch: Any, weights: list[Any]) -> Any:
    return torch.cat([p.grad.reshape(-1) for p in weights])


def _train(
    torch: Any,
    model: Any,
    batches: Callable[[], tuple[Any, Any]],
    max_norm: float | None,
    lr: float,
    steps: int,
    tick: Callable[[], None],
) -> dict[str, Any]:
    """Plain SGD; with `max_norm`, the gradient is clipped to it before each step."""
    weights = list(model.parameters())
    opt = torch.optim.SGD(weights, lr=lr)
    losses: list[float] = []
    norms: list[float] = []
    clipped = 0
    worst_clip_error = 0.0
    diverged_at: int | None = None
    for step in range(steps):
        x, sign = batches()
        loss = ((_predict(model, x) - sign) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        before = _flat_grad(torch, weights)
        norm = before.norm().item()
        value = loss.item()
        if not (math.isfinite(value) and math.isfinite(norm)) or value > LOSS_CAP:
            diverged_at = step
            break
        if max_norm is not None:
            torch.nn.utils.clip_grad_norm_(weights, max_norm)
            after = _flat_grad(torch, weights)
            after_norm = after.norm().item()
            clipped += norm > max_norm
            expected = min(norm, max_norm)
            cosine = (after @ before).item() / max(after_norm * norm, 1e-30)
            error = max(abs(after_norm - expected) / expected, 1.0 - cosine)
            worst_clip_error = max(worst_clip_error, error)
        opt.step()
        losses.append(value)
        norms.append(norm)
        tick()
    return {
        "losses": losses,
        "norms": norms,
        "clipped": clipped,
        "clip_error": worst_clip_error,
        "diverged_at": diverged_at,
    }


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    seq_len, steps, hidden = params["seq_len"], params["steps"], params["hidden"]
    gen = generator(seed)
    x_test, y_test = (t.to(device) for t in _sequences(torch, gen, HELD_OUT, seq_len))
    stream = gen.get_state()

    def batches() -> tuple[Any, Any]:
        x, sign = _sequences(torch, gen, BATCH, seq_len)
        return x.to(device), sign.to(device)

    flow_x, flow_y = batches()
    flows = {
        radius: _gradient_through_time(
            torch, _build(torch, seed, hidden, radius).to(device), flow_x, flow_y
        )
        for radius in (LOW_RADIUS, params["radius"], HIGH_RADIUS)
    }

    runs: dict[str, dict[str, Any]] = {}
    tick = Ticker(progress, 2 * steps, "training")
    for name, max_norm in (("unclipped", None), ("clipped", params["clip"])):
        model = _build(torch, seed, hidden, params["radius"]).to(device)
        gen.set_state(stream)  # both runs see the same batches
        result = _train(torch, model, batches, max_norm, params["lr"], steps, tick)
        if result["diverged_at"] is None:
            with torch.no_grad():
                held_out = ((_predict(model, x_test) - y_test) ** 2).mean().item()
            if math.isfinite(held_out) and held_out <= LOSS_CAP:
                result["held_out"] = held_out
            else:
                result["diverged_at"] = steps
        runs[name] = result
    return _report(params, flows, runs)


def _outcome(result: Mapping[str, Any]) -> str:
    if result["diverged_at"] is not None:
        return f"diverged at step {result['diverged_at']}"
    return f"held-out loss {fmt(result['held_out'])}"


def _learned(result: Mapping[str, Any]) -> bool:
    return result["diverged_at"] is None and result["held_out"] < LEARNED


def _report(
    params: Mapping[str, Any],
    flows: Mapping[float, Mapping[str, Any]],
    runs: Mapping[str, Mapping[str, Any]],
) -> DemoOutput:
    lr, clip, steps, radius = params["lr"], params["clip"], params["steps"], params["radius"]
    seq_len = params["seq_len"]
    flow = flows[radius]
    race = _race(runs)
    claims = [
        _clipping_claim(params, flow, runs, race),
        _flow_claim(seq_len, flows[LOW_RADIUS], flows[HIGH_RADIUS]),
        Claim.check(
            f"tanh's slope is at most 1, so going back {seq_len - 1} steps the gradient shrinks "
            f"at least as much as in a linear RNN with the same weights: ratio <= "
            f"radius^{seq_len - 1} at radius "
            + ", ".join(
                f"{r:g} ({fmt(f['ratio'])} <= {fmt(r ** (seq_len - 1))})" for r, f in flows.items()
            ),
            all(f["ratio"] <= r ** (seq_len - 1) * (1 + 1e-9) for r, f in flows.items()),
        ),
        Claim.check(
            f"clip_grad_norm_ rescales the gradient to norm min(‖g‖, {clip:g}) and keeps its "
            f"direction (largest relative deviation {fmt(runs['clipped']['clip_error'])})",
            runs["clipped"]["clip_error"] < 1e-4,
        ),
        Claim.check(
            "The hand-written recurrence h_t = tanh(W_ih x_t + W_hh h_(t-1) + b) gives nn.RNN's "
            f"hidden states (largest difference {fmt(flow['mismatch'])})",
            flow["mismatch"] < 1e-4,
        ),
    ]
    ratio = flow["ratio"]
    flow_answer = (
        FLOW_OPTIONS[0]
        if ratio < VANISH
        else FLOW_OPTIONS[2]
        if ratio > 1 / VANISH
        else FLOW_OPTIONS[1]
    )
    answers = {
        "flow": Answer(
            flow_answer,
            f"At radius {radius:g} the gradient reaching step 1 was {fmt(ratio)} times the one "
            f"at step {seq_len}, a factor {fmt(flow['per_step'])} per step.",
        ),
        "race": Answer(
            race,
            f"After {steps} steps at lr {lr:g}: {_outcome(runs['clipped'])} clipped, "
            f"{_outcome(runs['unclipped'])} unclipped (learned means below {LEARNED:g}).",
        ),
    }
    if params["view"] == "training":
        plot = PlotSpec(
            title="training loss and gradient norm (before clipping) per step",
            x_label="SGD step",
            y_label="value",
            log_y=True,
        )
    else:
        plot = PlotSpec(
            title="‖∂loss/∂h_t‖ at initialization, one curve per radius",
            x_label="time step t",
            y_label="gradient norm",
            log_y=True,
        )
    return DemoOutput(
        series=_series(params, flows, runs),
        table=_table(params, runs),
        metrics=_metrics(params, flows, runs),
        claims=claims,
        plot=plot,
        setup=(
            f"Both runs start from the same weights (radius {radius:g}) and draw the same "
            f"batches of {BATCH} sequences, for up to {steps} steps of plain SGD at lr {lr:g}; "
            f"the only difference is clip_grad_norm_(max_norm={clip:g}) before each step of the "
            f"clipped run."
        ),
        answers=answers,
    )


def _race(runs: Mapping[str, Mapping[str, Any]]) -> str:
    clipped, unclipped = _learned(runs["clipped"]), _learned(runs["unclipped"])
    if clipped:
        return RACE_OPTIONS[1] if unclipped else RACE_OPTIONS[0]
    return RACE_OPTIONS[3] if unclipped else RACE_OPTIONS[2]


def _clipping_claim(
    params: Mapping[str, Any],
    flow: Mapping[str, Any],
    runs: Mapping[str, Mapping[str, Any]],
    race: str,
) -> Claim:
    lr, clip, steps, seq_len = params["lr"], params["clip"], params["steps"], params["seq_len"]
    clipped, unclipped = runs["clipped"], runs["unclipped"]
    both = f"{_outcome(clipped)} clipped, {_outcome(unclipped)} unclipped"
    acted = f"clipping acted on {clipped['clipped']} of {len(clipped['norms'])} steps"
    peak = max(unclipped["norms"], default=0.0)
    peak_step = unclipped["norms"].index(peak) if unclipped["norms"] else 0
    start = unclipped["norms"][0] if unclipped["norms"] else 0.0
    ended = _outcome(unclipped)
    if unclipped["diverged_at"] is None:
        ended = f"ended at {ended}"
    if peak_step > 0:
        climb = f"climbed from {fmt(start)} to {fmt(peak)} (step {peak_step})"
    else:
        climb = f"was largest at the first step ({fmt(peak)})"
    lesson = (
        f"Without clipping the gradient norm {climb} and the run {ended}; clipping kept every "
        f"step at most lr x clip = {fmt(lr * clip)} long and the run learned the "
        f"{seq_len}-step dependency ({_outcome(clipped)})."
    )
    if race == RACE_OPTIONS[1]:
        otherwise = (
            f"At lr {lr:g} both runs learned the {seq_len}-step dependency ({both}): the "
            f"unclipped gradient norm peaked at {fmt(peak)} and {acted}, without changing the "
            f"outcome."
        )
    elif race == RACE_OPTIONS[3]:
        otherwise = (
            f"Only the unclipped run learned ({both}): clipping capped every step at lr x clip "
            f"= {fmt(lr * clip)} and {acted}."
        )
    elif race == RACE_OPTIONS[2]:
        otherwise = (
            f"Neither run learned the {seq_len}-step dependency in {steps} steps ({both}; "
            f"predicting 0 scores 1)"
        )
        if flow["ratio"] < VANISH:
            otherwise += (
                f": at radius {params['radius']:g} the gradient reaching step 1 was only "
                f"{fmt(flow['ratio'])} of its size at step {seq_len}, and clipping, which acted "
                f"on {clipped['clipped']} of {len(clipped['norms'])} steps, only shrinks "
                f"gradients above {clip:g}: it never enlarges a vanishing one."
            )
        else:
            otherwise += f"; {acted}."
    else:
        otherwise = f"After {steps} steps at lr {lr:g}: {both}."
    return Claim.experiment(
        f"With clipping to norm {clip:g} the held-out loss after {steps} steps at lr {lr:g} is "
        f"below {LEARNED:g} and without clipping it is not ({both})",
        race == RACE_OPTIONS[0],
        lesson=lesson,
        otherwise=otherwise,
    )


def _flow_claim(seq_len: int, low: Mapping[str, Any], high: Mapping[str, Any]) -> Claim:
    vanishes, explodes = low["ratio"] < VANISH, high["ratio"] > 1 / VANISH
    back = f"going back {seq_len - 1} steps"
    factors = (
        f"a factor {fmt(low['per_step'])} per step at radius {LOW_RADIUS:g} (mean tanh slope "
        f"{fmt(low['slope'])}) and {fmt(high['per_step'])} at radius {HIGH_RADIUS:g} (mean "
        f"tanh slope {fmt(high['slope'])})"
    )
    if vanishes and explodes:
        headline = f"Going back {seq_len - 1} steps the gradient vanished and exploded"
    elif vanishes:
        headline = (
            f"The gradient vanished at radius {LOW_RADIUS:g} but did not explode at radius "
            f"{HIGH_RADIUS:g} {back}"
        )
    elif explodes:
        headline = (
            f"The gradient exploded at radius {HIGH_RADIUS:g} but did not vanish at radius "
            f"{LOW_RADIUS:g} {back}"
        )
    else:
        headline = (
            f"The gradient neither vanished at radius {LOW_RADIUS:g} nor exploded at radius "
            f"{HIGH_RADIUS:g} {back}"
        )
    otherwise = (
        f"{headline}: the gradient reaching step 1 was {fmt(low['ratio'])} times its size at "
        f"step {seq_len} at radius {LOW_RADIUS:g} and {fmt(high['ratio'])} times at radius "
        f"{HIGH_RADIUS:g} ({factors})."
    )
    return Claim.experiment(
        f"At initialization, {back}, the gradient vanishes at radius {LOW_RADIUS:g} (ratio "
        f"{fmt(low['ratio'])}, below {VANISH:g}) and explodes at radius {HIGH_RADIUS:g} (ratio "
        f"{fmt(high['ratio'])}, above {1 / VANISH:g})",
        vanishes and explodes,
        lesson=(
            f"Each step back multiplies the gradient by the recurrent weights (norm = radius) "
            f"and by tanh's slope: {factors}. Over {seq_len - 1} steps that compounds: the "
            f"gradient reaching the first input shrank to {fmt(low['ratio'])} of its size at "
            f"radius {LOW_RADIUS:g} (vanishing) and grew {fmt(high['ratio'])}-fold at radius "
            f"{HIGH_RADIUS:g} (exploding)."
        ),
        otherwise=otherwise,
    )


def _thin(values: list[float]) -> dict[str, list[float]]:
    stride = max(1, math.ceil(len(values) / CURVE_POINTS))
    xs = list(range(0, len(values), stride))
    if values and xs[-1] != len(values) - 1:
        xs.append(len(values) - 1)
    return {"x": [float(i) for i in xs], "y": floats(values[i] for i in xs)}


def _series(
    params: Mapping[str, Any],
    flows: Mapping[float, Mapping[str, Any]],
    runs: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    series: dict[str, Any] = {}
    if params["view"] == "gradient":
        steps = [float(t + 1) for t in range(params["seq_len"])]
        for radius, flow in sorted(flows.items()):
            series[f"radius {radius:g}"] = {"x": steps, "y": floats(flow["norms"])}
        return series
    for name, result in runs.items():
        series[f"loss, {name}"] = _thin(result["losses"])
        series[f"gradient norm, {name}"] = _thin(result["norms"])
    return series


def _table(params: Mapping[str, Any], runs: Mapping[str, Mapping[str, Any]]) -> Table:
    rows = []
    for name, result in runs.items():
        rows.append(
            (
                name,
                "-" if name == "unclipped" else f"{params['clip']:g}",
                fmt(max(result["norms"], default=0.0)),
                result["clipped"],
                _outcome(result),
                "yes" if _learned(result) else "no",
            )
        )
    return Table.of(
        ["run", "max norm", "largest gradient norm", "steps clipped", "outcome", "learned"], rows
    )


def _metrics(
    params: Mapping[str, Any],
    flows: Mapping[float, Mapping[str, Any]],
    runs: Mapping[str, Mapping[str, Any]],
) -> dict[str, float]:
    flow = flows[params["radius"]]
    metrics = {
        "gradient_ratio_first_last": flow["ratio"],
        "gradient_factor_per_step": flow["per_step"],
        "mean_tanh_slope": flow["slope"],
        "gradient_ratio_low_radius": flows[LOW_RADIUS]["ratio"],
        "gradient_ratio_high_radius": flows[HIGH_RADIUS]["ratio"],
    }
    for name, result in runs.items():
        diverged = result["diverged_at"] is not None
        metrics[f"diverged_{name}"] = float(diverged)
        metrics[f"diverged_at_{name}"] = float(result["diverged_at"] if diverged else -1)
        metrics[f"held_out_loss_{name}"] = LOSS_CAP if diverged else result["held_out"]
        metrics[f"max_gradient_norm_{name}"] = max(result["norms"], default=0.0)
        metrics[f"steps_clipped_{name}"] = float(result["clipped"])
    return metrics
