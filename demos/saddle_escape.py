"""Escaping a saddle point: gradient descent, gradient noise and momentum on x²/2 - y²/2 + y⁴/4.

The surface has a saddle at the origin (f = 0) and two minima at (0, ±1) (f = -1/4). Along
the line y = 0 the saddle attracts (its stable manifold); off it, y grows by a factor 1 + lr a
step while |y| is small. Four runs start at the same x: plain gradient descent exactly on the
line, plain gradient descent and heavy-ball momentum a small distance delta off it, and
gradient descent with Gaussian noise added to every gradient (a stand-in for minibatch noise)
started exactly on the line. A run "leaves the saddle" when |y| first reaches 1/2.

What the run measures: whether noise alone carries gradient descent off the line, and which of
gradient descent and momentum leaves first from the same start. It also checks two things that
follow from the algebra: on the line the y-gradient is exactly zero, so plain gradient descent
can only slide into the saddle; and each factor of 10 closer to the line adds the same number
of steps, ln 10 / ln(1 + lr), to the time plain gradient descent takes to leave.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from demos._common import Ticker, floats, fmt, generator, setup
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
    float_param,
    int_param,
)

ESCAPE = 0.5  # a run has left the saddle once |y| reaches this (the minima are at |y| = 1)
CAP = 10.0  # a run with |x| or |y| past this has blown up after leaving; its curve stops
F_MIN = -0.25  # f at the two minima
LADDER = tuple(10.0**-k for k in range(2, 13, 2))  # starting distances for the log-scale check
LADDER_TOL = 0.03  # steps per decade within 3% of ln 10 / ln(1 + lr)
GROWTH_WINDOW = 10  # |y| growth per step is measured over at most this many early steps
SMALL_Y = 0.05  # ... and only while |y| stays below this, where the y⁴ term is negligible
MIN_WINDOW = 3  # fewer small-|y| steps than this and no growth factor is reported

RUNS = ("gd on the line", "gd", "momentum", "noisy gd")

SPEC = DemoSpec(
    id="saddle_escape",
    title="Escaping a saddle point",
    summary="Gradient descent, momentum and gradient noise near the saddle of x²/2 - y²/2 + y⁴/4.",
    topics=(
        "saddle point",
        "loss surface",
        "gradient noise",
        "SGD escapes saddle points",
        "momentum",
    ),
    params=(
        float_param("lr", 0.1, 0.01, 0.5, "learning rate of every run", log_scale=True),
        float_param("beta", 0.9, 0.0, 0.99, "momentum coefficient of the momentum run"),
        float_param(
            "delta",
            1e-6,
            1e-12,
            0.1,
            "distance from the stable line (y = 0) where gradient descent and momentum start",
            log_scale=True,
        ),
        float_param(
            "noise", 0.01, 0.0, 0.1, "standard deviation of the noise added to each gradient"
        ),
        int_param("steps", 300, 20, 3000, "optimizer steps of each run"),
        choice_param(
            "view",
            "loss",
            ("loss", "distance", "path"),
            "plot f per step, the escape time against the starting distance, or the paths",
        ),
    ),
    tiny={"steps": 200},
    questions=(
        Question(
            "momentum",
            "Gradient descent and momentum start at the same point a distance delta off the "
            "saddle's stable line, with the same learning rate. Which leaves the saddle first?",
            # Plain gradient descent never leaves first: momentum's first step equals gradient
            # descent's and |y| then grows at least as fast. It is kept as the answer a learner
            # expects who thinks momentum overshoots.
            ("momentum", "plain gradient descent", "both at the same step", "neither in the run"),
        ),
        Question(
            "noise",
            "Noisy gradient descent starts exactly on the stable line; plain gradient descent "
            "starts delta off it. Which leaves the saddle first?",
            (
                "noisy gradient descent",
                "plain gradient descent",
                "both at the same step",
                "neither in the run",
            ),
        ),
    ),
    timeout_s=60,
)


def _f(x: float, y: float) -> float:
    return 0.5 * x * x - 0.5 * y * y + 0.25 * y**4


def _descend(
    torch: Any,
    start: tuple[float, float],
    lr: float,
    beta: float,
    noise: float,
    steps: int,
    gen: Any,
    tick: Any,
) -> dict[str, Any]:
    """One run of torch's SGD on f; returns f per step, the path and when |y| reached ESCAPE."""
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, momentum=beta)
    values, path, ys = [_f(*start)], [start], [abs(start[1])]
    escaped: int | None = None
    blew_up = False
    for step in range(1, steps + 1):
        opt.zero_grad()
        x, y = p[0], p[1]
        (0.5 * x * x - 0.5 * y * y + 0.25 * y**4).backward()
        if noise > 0:
            p.grad.add_(noise * torch.randn(2, generator=gen, dtype=torch.float64))
        opt.step()
        tick()
        xv, yv = p[0].item(), p[1].item()
        if not (math.isfinite(xv) and math.isfinite(yv)) or max(abs(xv), abs(yv)) > CAP:
            blew_up = True
            break
        values.append(_f(xv, yv))
        path.append((xv, yv))
        ys.append(abs(yv))
        if escaped is None and abs(yv) >= ESCAPE:
            escaped = step
    return {"f": values, "path": path, "abs_y": ys, "escaped": escaped, "blew_up": blew_up}


def _ladder_steps(torch: Any, lr: float) -> list[int]:
    """Steps plain gradient descent takes to reach |y| = ESCAPE from each distance in LADDER."""
    y = torch.tensor(LADDER, dtype=torch.float64)
    limit = math.ceil(2 * math.log(ESCAPE / min(LADDER)) / math.log1p(lr)) + 100
    out = [0] * len(LADDER)
    for step in range(1, limit + 1):
        y = y - lr * (y**3 - y)
        for i, value in enumerate(y.tolist()):
            if out[i] == 0 and abs(value) >= ESCAPE:
                out[i] = step
        if all(out):
            break
    return out


def _growth(abs_y: list[float]) -> float:
    """|y|'s growth factor per step over the first GROWTH_WINDOW steps, while |y| is small."""
    window = 0
    while window < min(GROWTH_WINDOW, len(abs_y) - 1) and abs_y[window + 1] < SMALL_Y:
        window += 1
    if window < MIN_WINDOW or abs_y[0] <= 0:
        return float("nan")
    return (abs_y[window] / abs_y[0]) ** (1.0 / window)


def _when(escaped: int | None, steps: int) -> str:
    return f"step {escaped}" if escaped is not None else f"not within {steps} steps"


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, _ = setup(seed, "cpu")
    lr, beta, delta = params["lr"], params["beta"], params["delta"]
    noise, steps = params["noise"], params["steps"]
    u = torch.rand(2, generator=generator(seed), dtype=torch.float64).tolist()
    x0 = 0.5 + u[0]
    side = 1.0 if u[1] < 0.5 else -1.0
    settings = {
        "gd on the line": ((x0, 0.0), 0.0, 0.0),
        "gd": ((x0, side * delta), 0.0, 0.0),
        "momentum": ((x0, side * delta), beta, 0.0),
        "noisy gd": ((x0, 0.0), 0.0, noise),
    }
    tick = Ticker(progress, steps * len(RUNS), "descending")
    gen = torch.Generator().manual_seed(seed)
    runs = {
        name: _descend(torch, start, lr, b, sigma, steps, gen, tick)
        for name, (start, b, sigma) in settings.items()
    }
    ladder = _ladder_steps(torch, lr)

    on_line, gd, mom, noisy = (runs[n] for n in RUNS)
    t_gd, t_mom, t_noisy = gd["escaped"], mom["escaped"], noisy["escaped"]
    stayed = all(p[1] == 0.0 for p in on_line["path"])
    f_line = on_line["f"][-1]
    g_gd, g_mom = _growth(gd["abs_y"]), _growth(mom["abs_y"])

    decades = math.log10(LADDER[0] / LADDER[-1])
    per_decade = (ladder[-1] - ladder[0]) / decades
    theory = math.log(10.0) / math.log1p(lr)

    claims = [
        _noise_claim(noise, steps, t_noisy, noisy, f_line),
        _momentum_claim(beta, delta, steps, t_gd, t_mom, g_gd, g_mom),
        Claim.check(
            f"On the stable line the y-gradient is exactly 0, so plain GD stays on it: y = 0 at "
            f"all {steps} steps, and f only falls toward the saddle's level 0 (ends at "
            f"{fmt(f_line)}; the minima are at {F_MIN:g})",
            stayed and f_line >= 0.0 and on_line["escaped"] is None,
        ),
        Claim.check(
            f"Each factor of 10 closer to the line adds the same number of steps before plain GD "
            f"leaves: {per_decade:.1f} per decade from delta = {LADDER[0]:.0e} to "
            f"{LADDER[-1]:.0e}, as ln 10 / ln(1 + lr) = {theory:.1f} predicts",
            all(ladder) and abs(per_decade - theory) <= LADDER_TOL * theory,
        ),
    ]

    answers = {
        "momentum": _momentum_answer(t_gd, t_mom, steps),
        "noise": _noise_answer(t_gd, t_noisy, steps),
    }

    series, plot = _plot(params["view"], runs, ladder, theory, x0)
    rows = [
        (
            name,
            _start_text(settings[name][0]),
            _when(runs[name]["escaped"], steps),
            "blew up" if runs[name]["blew_up"] else f"{runs[name]['f'][-1]:.4f}",
        )
        for name in RUNS
    ]
    metrics: dict[str, float] = {
        "escape_gd": _steps_or_nan(t_gd),
        "escape_momentum": _steps_or_nan(t_mom),
        "escape_noisy_gd": _steps_or_nan(t_noisy),
        "final_f_on_line": f_line,
        "growth_gd": g_gd,
        "growth_momentum": g_mom,
        "steps_per_decade": per_decade,
        "steps_per_decade_theory": theory,
    }
    metrics = {k: v for k, v in metrics.items() if math.isfinite(v)}
    return DemoOutput(
        series=series,
        table=Table.of(["run", "start (x, y)", "left the saddle", f"f after {steps} steps"], rows),
        metrics=metrics,
        claims=claims,
        plot=plot,
        setup=(
            f"Every run uses torch's SGD at lr {fmt(lr)} from x = {x0:.2f}; momentum uses "
            f"beta {beta:g}; the noisy run adds Gaussian noise of std {noise:g} to each gradient. "
            f"A run leaves the saddle when |y| first reaches {ESCAPE:g}."
        ),
        answers=answers,
    )


def _noise_claim(
    noise: float, steps: int, t_noisy: int | None, noisy: dict[str, Any], f_line: float
) -> Claim:
    text = (
        f"Started exactly on the stable line, GD with gradient noise {noise:g} leaves the saddle "
        f"({_when(t_noisy, steps)}), where plain GD from the same start never does"
    )
    if noise == 0:
        otherwise = (
            f"With no gradient noise, GD started on the stable line never leaves it: after "
            f"{steps} steps it sits at f = {fmt(f_line)}, the saddle's level, not the minima's."
        )
    else:
        otherwise = (
            f"Noise of {noise:g} did not carry GD off the saddle in {steps} steps: |y| reached "
            f"only {fmt(max(noisy['abs_y']))} of the {ESCAPE:g} needed."
        )
    return Claim.experiment(
        text,
        t_noisy is not None,
        lesson=(
            f"Gradient noise knocks gradient descent off a saddle's stable line: the noisy run "
            f"left at step {t_noisy}, while exact GD from the same start stays stuck."
        ),
        otherwise=otherwise,
    )


def _momentum_claim(
    beta: float,
    delta: float,
    steps: int,
    t_gd: int | None,
    t_mom: int | None,
    g_gd: float,
    g_mom: float,
) -> Claim:
    text = (
        f"From delta = {delta:.0e} off the line, momentum (beta {beta:g}) leaves the saddle "
        f"before plain GD (momentum: {_when(t_mom, steps)}; plain GD: {_when(t_gd, steps)})"
    )
    holds = t_mom is not None and (t_gd is None or t_mom < t_gd)
    # The growth factors only describe the flat start when |y| began well below the y⁴ region.
    growth = (
        f": near the saddle |y| grew {g_mom:.3f}x a step against {g_gd:.3f}x"
        if math.isfinite(g_mom) and math.isfinite(g_gd)
        else ""
    )
    if t_mom is None and t_gd is None:
        otherwise = f"Neither plain GD nor momentum left the saddle within {steps} steps."
    elif t_mom == t_gd:
        otherwise = f"With beta {beta:g}, momentum left at the same step as plain GD ({t_gd})."
    else:
        otherwise = (
            f"Momentum did not leave first: {_left('momentum', t_mom, steps)}, "
            f"{_left('plain GD', t_gd, steps)}."
        )
    return Claim.experiment(
        text,
        holds,
        lesson=(
            f"Momentum leaves a saddle sooner than plain GD ({_when(t_mom, steps)} against "
            f"{_when(t_gd, steps)}){growth}."
        ),
        otherwise=otherwise,
    )


def _momentum_answer(t_gd: int | None, t_mom: int | None, steps: int) -> Answer:
    why = f"{_left('Momentum', t_mom, steps)}; {_left('plain GD', t_gd, steps)}."
    return Answer(_first(t_mom, t_gd, "momentum", "plain gradient descent"), why)


def _noise_answer(t_gd: int | None, t_noisy: int | None, steps: int) -> Answer:
    why = (
        f"{_left('Noisy GD (from on the line)', t_noisy, steps)}; "
        f"{_left('plain GD (from delta off it)', t_gd, steps)}."
    )
    return Answer(_first(t_noisy, t_gd, "noisy gradient descent", "plain gradient descent"), why)


def _left(name: str, t: int | None, steps: int) -> str:
    return f"{name} left at step {t}" if t is not None else f"{name} did not leave in {steps} steps"


def _first(a: int | None, b: int | None, name_a: str, name_b: str) -> str:
    """Which of two runs left first, as one of the questions' options."""
    if a is None and b is None:
        return "neither in the run"
    if a == b:
        return "both at the same step"
    if b is None or (a is not None and a < b):
        return name_a
    return name_b


def _plot(
    view: str, runs: dict[str, dict[str, Any]], ladder: list[int], theory: float, x0: float
) -> tuple[dict[str, Any], PlotSpec]:
    if view == "distance":
        decades = [-math.log10(d) for d in LADDER]
        base = ladder[0] - theory * decades[0]
        series: dict[str, Any] = {
            "steps to leave (plain GD)": {"x": decades, "y": [float(s) for s in ladder]},
            "ln 10 / ln(1 + lr) per decade": {
                "x": decades,
                "y": floats(base + theory * d for d in decades),
            },
        }
        return series, PlotSpec(
            title="steps to leave the saddle vs starting distance",
            x_label="log10(1 / delta)",
            y_label="steps until |y| reaches 1/2",
        )
    if view == "path":
        series = {
            name: {
                "x": floats(p[0] for p in _thin(run["path"])),
                "y": floats(p[1] for p in _thin(run["path"])),
            }
            for name, run in runs.items()
        }
        series["saddle and minima"] = {"x": [0.0, 0.0, 0.0], "y": [-1.0, 0.0, 1.0]}
        return series, PlotSpec(
            title=f"paths from x = {x0:.2f} on f = x²/2 - y²/2 + y⁴/4", x_label="x", y_label="y"
        )
    series = {}
    for name, run in runs.items():
        idx = _thin(list(range(len(run["f"]))))
        series[name] = {"x": [float(i) for i in idx], "y": floats(run["f"][i] for i in idx)}
    return series, PlotSpec(title="f per step (saddle at 0, minima at -0.25)", y_label="f")


def _thin(values: list[Any], limit: int = 400) -> list[Any]:
    stride = max(1, math.ceil(len(values) / limit))
    out = values[::stride]
    return out if out[-1] == values[-1] else [*out, values[-1]]


def _start_text(start: tuple[float, float]) -> str:
    return f"({start[0]:.2f}, {start[1]:.0e})" if start[1] else f"({start[0]:.2f}, 0)"


def _steps_or_nan(t: int | None) -> float:
    return float(t) if t is not None else float("nan")
