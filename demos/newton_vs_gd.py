"""Newton's method vs gradient descent: what the Hessian buys.

Gradient descent takes steps of lr * gradient, and a stable lr is set by the steepest
curvature L: even at its best constant step, 2/(L + mu), it shrinks the error by only
(k - 1)/(k + 1) per step on a quadratic with condition number k = L/mu. Newton's method
solves H d = g with the Hessian H, here computed by autograd from the loss itself, and so
rescales every direction by its own curvature: on a quadratic one undamped step lands on the
minimum. The run counts the iterations each method needs to bring the gradient to 1e-8 of its
start, on a quadratic and on L2-regularised logistic regression, and reports whether Newton
needed at least 10x fewer on both. Both methods use the same written-out gradients. `damping`
adds lambda * I to H (Levenberg-Marquardt style), which turns Newton's step part way back
towards a small gradient step."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
    float_param,
    int_param,
)

DIM = 10  # parameters of the quadratic
FEATURES, POINTS, L2 = 6, 200, 1e-2  # logistic regression
TOL = 1e-8  # "solved": gradient norm at most TOL times its start
NEWTON_CAP = 200  # most Newton iterations per problem
FAR_FEWER = 10.0  # "far fewer iterations": at least this many times fewer
FLOOR = 1e-30  # gradient norms below this are shown as this, for the log plot
ONE, A_FEW, MANY = "one", "2 to 10", "more than 10"

SPEC = DemoSpec(
    id="newton_vs_gd",
    title="Newton's method vs gradient descent",
    summary="Newton steps with an autograd Hessian against gradient descent, on two problems.",
    topics=("Hessian", "second-order methods", "Newton's method", "condition number"),
    params=(
        float_param("k", 100.0, 1.0, 1e4, "condition number of both problems", log_scale=True),
        float_param("damping", 0.0, 0.0, 10.0, "lambda added to the Hessian's diagonal"),
        int_param("gd_iters", 10000, 10, 50000, "most gradient descent iterations per problem"),
    ),
    tiny={"gd_iters": 2000, "k": 30.0},
    timeout_s=60,
    questions=(
        Question(
            "quadratic_newton_steps",
            f"How many Newton steps does the quadratic need to bring its gradient to {TOL:g} of "
            "its start?",
            (ONE, A_FEW, MANY),
        ),
    ),
)


@dataclass(frozen=True)
class _Problem:
    """A smooth objective with its gradient written out, its Lipschitz constant and a start."""

    f: Callable[[Any], Any]
    grad: Callable[[Any], Any]
    lipschitz: float
    mu: float  # a lower bound on the curvature
    x0: Any


def _quadratic(torch: Any, k: float, g: Any) -> _Problem:
    """f(x) = 0.5 x^T A x - b^T x, A with eigenvalues log-spaced on [1, k] in a random basis."""
    q, _ = torch.linalg.qr(torch.randn(DIM, DIM, generator=g, dtype=torch.float64))
    eig = torch.logspace(0, math.log10(k), DIM, dtype=torch.float64)
    a = q @ torch.diag(eig) @ q.T
    b = torch.randn(DIM, generator=g, dtype=torch.float64)
    return _Problem(
        f=lambda x: 0.5 * x @ a @ x - b @ x,
        grad=lambda x: a @ x - b,
        lipschitz=float(eig.max()),
        mu=float(eig.min()),
        x0=torch.zeros(DIM, dtype=torch.float64),
    )


def _logistic(torch: Any, k: float, g: Any) -> _Problem:
    """Mean logistic loss + L2 / 2 |w|^2, with features scaled so the Hessian spans ~k."""
    scale = torch.logspace(0, 0.5 * math.log10(k), FEATURES, dtype=torch.float64)
    x = torch.randn(POINTS, FEATURES, generator=g, dtype=torch.float64) * scale
    w_true = torch.randn(FEATURES, generator=g, dtype=torch.float64) / scale
    p = torch.sigmoid(x @ w_true)
    y = (torch.rand(POINTS, generator=g, dtype=torch.float64) < p).double() * 2 - 1

    def f(w: Any) -> Any:
        return torch.nn.functional.softplus(-y * (x @ w)).mean() + 0.5 * L2 * w @ w

    def grad(w: Any) -> Any:
        return -(x.T @ (y * torch.sigmoid(-y * (x @ w)))) / POINTS + L2 * w

    lipschitz = 0.25 * float(torch.linalg.eigvalsh(x.T @ x / POINTS).max()) + L2
    return _Problem(f, grad, lipschitz, L2, torch.zeros(FEATURES, dtype=torch.float64))


def _descend(problem: _Problem, iters: int, tick: Callable) -> list[float]:
    """Gradient descent at lr 2/(L + mu); gradient norm per iteration, stopping once solved."""
    x, lr = problem.x0, _gd_lr(problem)
    grad = problem.grad(x)
    norms = [float(grad.norm())]
    for _ in range(iters):
        x = x - lr * grad
        grad = problem.grad(x)
        norms.append(float(grad.norm()))
        tick()
        if norms[-1] <= TOL * norms[0] or not math.isfinite(norms[-1]):
            break
    return norms


def _gd_lr(problem: _Problem) -> float:
    """The best constant step for curvature between mu and L."""
    return 2.0 / (problem.lipschitz + problem.mu)


def _newton(torch: Any, problem: _Problem, damping: float, tick: Callable) -> list[float]:
    """Newton steps x -= (H + damping I)^-1 g, with the Hessian H from autograd."""
    x = problem.x0
    norms = [float(problem.grad(x).norm())]
    eye = torch.eye(len(x), dtype=torch.float64)
    for _ in range(NEWTON_CAP):
        hessian = torch.autograd.functional.hessian(problem.f, x, vectorize=True)
        x = x - torch.linalg.solve(hessian + damping * eye, problem.grad(x))
        norms.append(float(problem.grad(x).norm()))
        tick()
        if norms[-1] <= TOL * norms[0] or not math.isfinite(norms[-1]):
            break
    return norms


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, _ = setup(seed, "cpu")
    with one_thread():
        return _run(torch, params, seed, progress)


def _run(torch: Any, params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    k, damping, gd_iters = params["k"], params["damping"], params["gd_iters"]
    tick = Ticker(progress, 2 * gd_iters + 20, "iterating")

    g = generator(seed)
    problems = {"quadratic": _quadratic(torch, k, g), "logistic": _logistic(torch, k, g)}
    curves: dict[str, list[float]] = {}
    for name, problem in problems.items():
        curves[f"{name} GD"] = _descend(problem, gd_iters, tick)
        curves[f"{name} Newton"] = _newton(torch, problem, damping, tick)
    caps = {label: gd_iters if "GD" in label else NEWTON_CAP for label in curves}
    iters = {
        label: len(norms) - 1 if norms[-1] <= TOL * norms[0] else None
        for label, norms in curves.items()
    }
    race = {name: _Race(name, curves, iters, caps) for name in problems}
    quad = curves["quadratic Newton"]
    claims = [
        _fewer_claim(race, damping),
        _one_step_check(quad, damping),
    ]
    series = {label: _plot_curve(norms) for label, norms in curves.items()}
    metrics: dict[str, float] = {"newton_quadratic_one_step_ratio": quad[1] / quad[0]}
    for label, norms in curves.items():
        key = label.replace(" ", "_").lower()
        count = iters[label]
        metrics[f"iters_{key}"] = float(caps[label] + 1 if count is None else count)
        metrics[f"final_grad_{key}"] = min(norms[-1], 1e300)
    metrics |= {f"gd_lr_{name}": _gd_lr(p) for name, p in problems.items()}
    rows = [
        (label, _count(iters[label], caps[label]), fmt(norms[0]), fmt(min(norms[-1], 1e300)))
        for label, norms in curves.items()
    ]
    return DemoOutput(
        series=series,
        table=Table.of(
            ["run", f"iterations to {TOL:g}", "start gradient norm", "final norm"], rows
        ),
        metrics=metrics,
        claims=claims,
        plot=PlotSpec(
            title="gradient norm per iteration",
            x_label="iteration",
            y_label="|gradient|",
            log_y=True,
        ),
        setup=(
            "Gradient descent runs at 2/(L + mu), the best constant step for curvature between "
            f"mu and L (quadratic: mu = 1, L = k; logistic regression: mu = the L2 weight {L2:g}, "
            f"L from the data). Both stop once the gradient norm is {TOL:g} of its start; GD "
            f"gets at most {gd_iters} iterations, Newton {NEWTON_CAP}."
        ),
        answers={"quadratic_newton_steps": _steps_answer(iters["quadratic Newton"], quad)},
    )


def _count(count: int | None, cap: int) -> str:
    return f">{cap}" if count is None else str(count)


def _words(count: int | None, cap: int) -> str:
    """ "1 iteration", "6 iterations", "more than 10000 iterations"."""
    if count is None:
        return f"more than {cap} iterations"
    return f"{count} iteration{'' if count == 1 else 's'}"


class _Race:
    """Newton against GD on one problem: iterations to TOL (None past the cap) and what is left."""

    def __init__(
        self,
        problem: str,
        curves: Mapping[str, list[float]],
        iters: Mapping[str, int | None],
        caps: Mapping[str, int],
    ) -> None:
        newton, gd = curves[f"{problem} Newton"], curves[f"{problem} GD"]
        self.problem = problem
        self.newton, self.gd = iters[f"{problem} Newton"], iters[f"{problem} GD"]
        self.newton_cap, self.gd_cap = caps[f"{problem} Newton"], caps[f"{problem} GD"]
        self.newton_left, self.gd_left = newton[-1] / newton[0], gd[-1] / gd[0]

    @property
    def far_fewer(self) -> bool:
        """Newton's count times FAR_FEWER is at most GD's (a capped GD counts as cap + 1)."""
        if self.newton is None:
            return False
        return (self.gd_cap + 1 if self.gd is None else self.gd) >= FAR_FEWER * self.newton

    @property
    def name(self) -> str:
        return "logistic regression" if self.problem == "logistic" else "the quadratic"

    def why_not(self, damping: float) -> str:
        """What this problem's numbers show when Newton was not FAR_FEWER times faster."""
        if self.newton is None:
            return (
                f"on {self.name} Newton with damping {fmt(damping)} did not get there in "
                f"{self.newton_cap} iterations (gradient still {fmt(self.newton_left)} of its "
                f"start; GD {_count(self.gd, self.gd_cap)})"
            )
        if self.gd is None:
            return (
                f"on {self.name} GD stopped at its cap of {self.gd_cap} iterations (gradient "
                f"still {fmt(self.gd_left)} of its start), too few to show a {FAR_FEWER:g}x gap "
                f"to Newton's {self.newton}"
            )
        return (
            f"on {self.name} Newton needed {_words(self.newton, self.newton_cap)} and GD "
            f"{self.gd}, under {FAR_FEWER:g}x as many"
        )


def _fewer_claim(race: Mapping[str, _Race], damping: float) -> Claim:
    quad, logi = race["quadratic"], race["logistic"]
    text = (
        f"Newton needs at least {FAR_FEWER:g}x fewer iterations than gradient descent to bring "
        f"the gradient to {TOL:g} of its start: quadratic "
        f"{_count(quad.newton, quad.newton_cap)} vs GD {_count(quad.gd, quad.gd_cap)}, "
        f"logistic regression {_count(logi.newton, logi.newton_cap)} vs GD "
        f"{_count(logi.gd, logi.gd_cap)}"
    )
    holds = quad.far_fewer and logi.far_fewer
    damped = f" with damping {fmt(damping)}" if damping else ""
    lesson = (
        f"Newton{damped} got the gradient to {TOL:g} of its start in "
        f"{_words(quad.newton, quad.newton_cap)} on the quadratic and "
        f"{_words(logi.newton, logi.newton_cap)} on logistic regression; gradient descent, even "
        f"at its best constant step, needed {_words(quad.gd, quad.gd_cap)} and "
        f"{_words(logi.gd, logi.gd_cap)}."
    )
    reasons = [r.why_not(damping) for r in (quad, logi) if not r.far_fewer]
    otherwise = "Not at least " + f"{FAR_FEWER:g}x fewer: " + "; ".join(reasons) + "."
    return Claim.experiment(text, holds, lesson=lesson, otherwise=otherwise)


def _one_step_check(quad: list[float], damping: float) -> Claim:
    """One step of (H + damping I)^-1 leaves damping/(damping + a) of the gradient along an
    eigenvector of H with eigenvalue a, so at most damping/(damping + 1) here (a >= 1)."""
    ratio = quad[1] / quad[0]
    if damping == 0:
        return Claim.check(
            f"One Newton step solves the quadratic: the gradient norm falls from {fmt(quad[0])} "
            f"to {fmt(quad[1])} ({fmt(ratio)} of its start, at most {TOL:g})",
            ratio <= TOL,
        )
    bound = damping / (damping + 1.0)
    return Claim.check(
        f"One damped Newton step (lambda = {fmt(damping)}) keeps at most lambda/(lambda + 1) = "
        f"{fmt(bound)} of the quadratic's gradient, whose Hessian's eigenvalues are at least 1: "
        f"the norm falls from {fmt(quad[0])} to {fmt(quad[1])} ({fmt(ratio)} of its start)",
        ratio <= bound * (1 + 1e-9) + TOL,
    )


def _steps_answer(count: int | None, quad: list[float]) -> Answer:
    when = f"{count} Newton step{'s' if count != 1 else ''}" if count else ""
    if count == 1:
        return Answer(
            ONE, f"One Newton step took the gradient to {fmt(quad[1] / quad[0])} of its start."
        )
    if count is not None and count <= 10:
        return Answer(A_FEW, f"It took {when} to bring the gradient to {TOL:g} of its start.")
    done = when if count is not None else f"more than {NEWTON_CAP} steps"
    return Answer(MANY, f"It took {done} to bring the gradient to {TOL:g} of its start.")


def _plot_curve(norms: list[float]) -> dict[str, list[float]]:
    stride = max(1, math.ceil(len(norms) / 500))
    index = list(range(0, len(norms), stride))
    if index[-1] != len(norms) - 1:
        index.append(len(norms) - 1)
    values = [min(max(norms[i], FLOOR), 1e300) for i in index]
    return {"x": [float(i) for i in index], "y": floats(values)}
