"""Run demos at their costliest setting and compare the CPU time with the budget.

A learner may set every knob anywhere within its bounds, so a demo must finish quickly at the
costliest corner too, not only at its defaults. This script runs each demo (or those named on
the command line) once, in this process, on one torch thread, at its costliest setting, and
prints the process time of the run against the budget and against the demo's own time limit.
It exits 1 when a demo is over.

The costliest setting puts every whole-number knob (steps, epochs, width, depth, points...) at
its maximum. Choices and decimal knobs keep their defaults, except where `CORNERS` names a
costlier value: a learning rate or a scale matters only when it makes a run stop early (a
diverged loss, a converged fit), which the defaults rarely do, and most choices cost the same.

It is run by hand (`.venv/bin/python scripts/demo_worst_case.py [DEMO_ID ...]`), one demo at
a time, never in CI: its numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from typing import Any

from studyapp.demo_api import DemoSpec, all_specs, get_spec, no_progress

BUDGET_S = 30.0  # single-threaded process time a demo may take at its costliest setting
TIMEOUT_SHARE = 0.5  # and at most this share of its own time limit, which counts wall time

# Values costlier than the defaults for knobs that are not whole numbers (and any whole-number
# knob whose maximum is not its costliest value).
CORNERS: dict[str, dict[str, Any]] = {
    # Gradient descent stops at its tolerance: the worse the conditioning, the later.
    "newton_vs_gd": {"k": 10000},
    # At a peak below the start's limit no run blows up and stops early.
    "lr_warmup": {"peak": 1.0},
    # L1's fit stops once converged; with fewer samples than features and a tiny penalty it
    # runs to the iteration limit.
    "l1_vs_l2_sparsity": {"lambda_l1": 1e-4, "samples": 100},
    # Choices measured a little costlier than the defaults.
    "batchnorm_deep_net": {"bn": "after"},
    "init_signal_propagation": {"activation": "tanh", "init": "large"},
    "residual_vs_plain": {"init": "he"},
    "universal_approx": {"activation": "relu"},
}


def corner(spec: DemoSpec) -> dict[str, Any]:
    """The knobs `spec`'s costliest run sets; the others keep their defaults."""
    values = {p.name: p.high for p in spec.params if p.kind == "int"}
    values.update(CORNERS.get(spec.id, {}))
    return values


def seconds(spec: DemoSpec, params: dict[str, Any], seed: int = 0) -> float:
    """Process time of one run of the demo with `params`."""
    module = importlib.import_module(spec.module)
    start = time.process_time()
    module.run(params, seed, no_progress)
    return time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*", help="demo ids (default: every demo)")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    specs = [get_spec(i) for i in args.ids] if args.ids else all_specs()
    print(f"{'demo':26} {'cpu s':>7} {'limit s':>7} {'timeout':>7}  setting")
    over = []
    for spec in specs:
        values = corner(spec)
        limit = min(BUDGET_S, TIMEOUT_SHARE * spec.timeout_s)
        took = seconds(spec, spec.resolve(values))
        shown = " ".join(f"{k}={v}" for k, v in values.items())
        flag = "  OVER" if took > limit else ""
        print(f"{spec.id:26} {took:7.1f} {limit:7.0f} {spec.timeout_s:7.0f}  {shown}{flag}")
        sys.stdout.flush()
        if took > limit:
            over.append(spec.id)
    if over:
        print(f"over the limit: {', '.join(over)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
