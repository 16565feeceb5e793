"""A well-behaved demo: reports progress every step and echoes its inputs back as metrics.

Its `pid` metric tells the tests which worker process ran it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from studyapp.demo_api import (
    Claim,
    DemoOutput,
    DemoSpec,
    PlotSpec,
    Progress,
    Table,
    float_param,
    int_param,
)

SPEC = DemoSpec(
    id="echo",
    title="Echo",
    summary="Counts to `steps` and reports its inputs.",
    topics=("testing",),
    params=(
        float_param("value", 1.0, 0.0, 100.0, "a number to echo"),
        int_param("steps", 5, 1, 1000, "how many progress steps"),
    ),
    timeout_s=30,
)


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    steps = params["steps"]
    curve: list[float] = []
    for i in range(steps):
        curve.append(params["value"] * (i + 1) + seed)
        progress((i + 1) / steps, f"step {i + 1}", {"line": curve})
    return DemoOutput(
        series={"line": curve, "flat": {"x": [0.0, float(steps)], "y": [1.0, 1.0]}},
        table=Table.of(["value", "seed"], [(params["value"], seed)]),
        metrics={"value": params["value"], "seed": float(seed), "pid": float(os.getpid())},
        claims=[
            Claim.experiment(
                "the line ends above zero",
                curve[-1] > 0,
                lesson="Echo says what it was given.",
                otherwise="Echo ended at or below zero.",
            )
        ],
        plot=PlotSpec(title="echo", y_label="value"),
    )
