"""A restricted Boltzmann machine trained on bars and stripes by contrastive divergence.

The 14 "bars and stripes" patterns on a 3x3 grid (every row uniform, or every column uniform)
are the data. An RBM with 9 visible and (by default) 8 hidden binary units is trained with
CD-k (k = 1 by default): the weight update is the data's correlations <v h> minus those after
k Gibbs steps started at the data, a cheap stand-in for the model's own correlations. The model
is small enough to score exactly: summing the hidden units out gives each visible pattern a
free energy, and enumerating all 512 visible patterns gives the partition function, so the
log-likelihood of the data and the probability the model puts on the 14 patterns are computed
exactly as training goes, rather than guessed from reconstruction error. The run reports
whether they rose clearly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from demos._common import floats, fmt, generator, one_thread, report_every, setup
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

UNDER_TENTH, TENTH_TO_HALF, OVER_HALF = "Under 10%", "10% to 50%", "Over 50%"

SPEC = DemoSpec(
    id="rbm_cd1",
    title="RBM trained with contrastive divergence",
    summary="Train a 9x8 RBM on 3x3 bars and stripes with CD-k; score it by exact likelihood.",
    topics=("Boltzmann machines", "RBM", "contrastive divergence", "generative models"),
    params=(
        float_param("lr", 0.3, 1e-3, 2.0, "learning rate of the CD updates", log_scale=True),
        int_param("k", 1, 1, 10, "Gibbs steps per update (CD-k)"),
        int_param("hidden", 8, 1, 32, "hidden units"),
        int_param("updates", 2000, 10, 5000, "parameter updates"),
        int_param("chains", 4, 1, 16, "copies of each pattern in a batch (negative chains)"),
        device_param(),
    ),
    tiny={"updates": 800, "lr": 0.5},
    timeout_s=60,
    questions=(
        Question(
            "data_mass",
            "At the start the model gives each of the 512 possible 3x3 patterns the same "
            "probability, so the 14 training patterns hold 14/512 (2.7%) of it. After training, "
            "how much of the model's probability sits on those 14 patterns?",
            (UNDER_TENTH, TENTH_TO_HALF, OVER_HALF),
        ),
    ),
)

SIDE, VISIBLE = 3, 9
GAIN = 2.0  # nats the log-likelihood must rise by
MASS_FACTOR = 5.0  # probability on the data must reach this many times its share at the start
CURVE_POINTS = 100
FLOOR = -1e6  # a diverged model's log-likelihood is shown at this floor, never as -inf


def bars_and_stripes() -> Any:
    """The 14 distinct 3x3 patterns whose rows are all uniform or whose columns are."""
    import torch

    patterns: set[tuple[int, ...]] = set()
    for mask in range(2**SIDE):
        bits = [(mask >> i) & 1 for i in range(SIDE)]
        patterns.add(tuple(bits[r] for r in range(SIDE) for _ in range(SIDE)))
        patterns.add(tuple(bits[c] for _ in range(SIDE) for c in range(SIDE)))
    return torch.tensor(sorted(patterns), dtype=torch.float64)


def _all_visible() -> Any:
    import torch

    codes = torch.arange(2**VISIBLE)
    return ((codes[:, None] >> torch.arange(VISIBLE)) & 1).double()


def _sample(p: Any, g: Any) -> Any:
    """Binary units on with probability p, drawn from the seeded CPU generator."""
    import torch

    return torch.bernoulli(p.cpu(), generator=g).to(p.device)


class _RBM:
    def __init__(self, hidden: int, device: Any, g: Any) -> None:
        import torch

        self.w = (0.01 * torch.randn(VISIBLE, hidden, generator=g, dtype=torch.float64)).to(device)
        self.b = torch.zeros(VISIBLE, dtype=torch.float64, device=device)
        self.c = torch.zeros(hidden, dtype=torch.float64, device=device)

    def hidden_prob(self, v: Any) -> Any:
        import torch

        return torch.sigmoid(self.c + v @ self.w)

    def visible_prob(self, h: Any) -> Any:
        import torch

        return torch.sigmoid(self.b + h @ self.w.T)

    def free_energy(self, v: Any) -> Any:
        """F(v) = -b.v - sum_j softplus(c_j + v.W_j): p(v) is proportional to exp(-F(v))."""
        import torch

        return -(v @ self.b) - torch.nn.functional.softplus(self.c + v @ self.w).sum(1)

    def log_likelihood(self, data: Any, every_v: Any) -> tuple[float, float]:
        """Mean exact log p(v) over the data, and the probability mass on the data patterns."""
        import torch

        log_z = torch.logsumexp(-self.free_energy(every_v), 0)
        log_p = -self.free_energy(data) - log_z
        mean = log_p.mean().item()
        mass = log_p.exp().sum().item()
        return (mean if math.isfinite(mean) else FLOOR), (mass if math.isfinite(mass) else 0.0)

    def cd_update(self, v0: Any, k: int, lr: float, g: Any) -> float:
        """One CD-k step; returns the mean squared reconstruction error of the first Gibbs step."""
        ph0 = self.hidden_prob(v0)
        h = _sample(ph0, g)
        for step in range(k):
            pv = self.visible_prob(h)
            if step == 0:
                recon = ((pv - v0) ** 2).mean().item()
            v = _sample(pv, g)
            ph = self.hidden_prob(v)
            h = _sample(ph, g)
        n = v0.shape[0]
        # Probabilities, not samples, in the statistics: same expectation, less noise.
        self.w += lr * (v0.T @ ph0 - v.T @ ph) / n
        self.b += lr * (v0 - v).mean(0)
        self.c += lr * (ph0 - ph).mean(0)
        return recon


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    with one_thread():
        return _run(params, seed, progress)


def _run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    torch, device = setup(seed, params["device"])
    g = generator(seed)
    data = bars_and_stripes().to(device)
    every_v = _all_visible().to(device)
    rbm = _RBM(params["hidden"], device, g)
    batch = data.repeat(params["chains"], 1)
    updates, k, lr = params["updates"], params["k"], params["lr"]
    score_every = max(1, updates // CURVE_POINTS)
    report = report_every(updates, 25)

    start_ll, start_mass = rbm.log_likelihood(data, every_v)
    xs, curve, recon_curve = [0.0], [start_ll], []
    for u in range(1, updates + 1):
        recon = rbm.cd_update(batch, k, lr, g)
        if u % score_every == 0 or u == updates:
            xs.append(float(u))
            curve.append(rbm.log_likelihood(data, every_v)[0])
            recon_curve.append(recon)
        if u % report == 0:
            progress(u / updates, f"CD-{k} update {u}", {"exact log-likelihood": curve})

    end_ll, end_mass = rbm.log_likelihood(data, every_v)
    best_ll = max(curve)
    ceiling = -math.log(data.shape[0])
    gain = end_ll - start_ll
    patterns = data.shape[0]
    claims = [
        Claim.experiment(
            f"Over {updates} CD-{k} updates (lr {lr:g}) the exact log-likelihood goes from "
            f"{fmt(start_ll)} to {fmt(end_ll)} nats per pattern, a change of {fmt(gain)} (a "
            f"clear rise needs more than {GAIN:g}; the best possible is {fmt(ceiling)})",
            gain > GAIN,
            lesson=(
                f"CD-{k} never computes the partition function, yet its updates raised the "
                f"exact log-likelihood of the data by {fmt(gain)} nats per pattern, to "
                f"{fmt(end_ll)} of a possible {fmt(ceiling)}."
            ),
            otherwise=(
                f"In {updates} CD-{k} updates at lr {lr:g} the exact log-likelihood changed "
                f"by only {fmt(gain)} nats per pattern ({fmt(start_ll)} to {fmt(end_ll)})."
            ),
        ),
        Claim.experiment(
            f"The model's probability on the {patterns} training patterns goes from "
            f"{fmt(start_mass)} to {fmt(end_mass)} of the total over all 512 patterns (a clear "
            f"rise needs {MASS_FACTOR:g}x)",
            end_mass >= MASS_FACTOR * start_mass,
            lesson=(
                f"The model moved its probability onto the patterns it was shown: "
                f"{fmt(end_mass)} of it now sits on the {patterns} training patterns, against "
                f"{fmt(start_mass)} at the start."
            ),
            otherwise=(
                f"The model's probability on the {patterns} training patterns only went from "
                f"{fmt(start_mass)} to {fmt(end_mass)}, less than {MASS_FACTOR:g}x."
            ),
        ),
    ]
    rows = [
        ("log-likelihood at start", *floats([start_ll], 4)),
        ("log-likelihood at end", *floats([end_ll], 4)),
        ("best log-likelihood seen", *floats([best_ll], 4)),
        ("best possible: -ln 14", *floats([ceiling], 4)),
        ("uniform over 512: -9 ln 2", *floats([-VISIBLE * math.log(2)], 4)),
        ("probability on the data, start", *floats([start_mass], 4)),
        ("probability on the data, end", *floats([end_mass], 4)),
        ("reconstruction error, first update", *floats([recon_curve[0]], 4)),
        ("reconstruction error, last update", *floats([recon_curve[-1]], 4)),
    ]
    metrics = {
        "start_log_likelihood": start_ll,
        "end_log_likelihood": end_ll,
        "best_log_likelihood": best_ll,
        "gain": gain,
        "ceiling": ceiling,
        "start_data_mass": start_mass,
        "end_data_mass": end_mass,
        "end_reconstruction_error": recon_curve[-1],
    }
    return DemoOutput(
        series={
            "exact log-likelihood": {"x": xs, "y": floats(curve)},
            "best possible (-ln 14)": {"x": [xs[0], xs[-1]], "y": floats([ceiling, ceiling])},
        },
        table=Table.of(["quantity", "value"], rows),
        metrics=metrics,
        claims=claims,
        setup=(
            f"Each update uses the {patterns} patterns {params['chains']} times over; the "
            f"log-likelihood is computed exactly by summing over all 512 visible patterns."
        ),
        answers={"data_mass": _mass_answer(start_mass, end_mass, patterns)},
        plot=PlotSpec(
            title="exact log-likelihood of bars and stripes",
            x_label="update",
            y_label="mean log p(v), nats",
        ),
    )


def _mass_answer(start: float, end: float, patterns: int) -> Answer:
    option = UNDER_TENTH if end < 0.1 else TENTH_TO_HALF if end <= 0.5 else OVER_HALF
    return Answer(
        option,
        f"The {patterns} training patterns hold {end:.1%} of the model's probability after "
        f"training ({start:.1%} at the start).",
    )
