"""A well-behaved demo: reports progress every step and echoes its inputs back as metrics.

Its `pid` metric tells the tests which worker process ran it. It asks two prediction
questions whose answers follow its parameters: where the line ends (value x steps + seed)
and which of value and steps is larger.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

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
    questions=(
        Question("end", "Where does the line end?", ("above 50", "at 50 or below")),
        Question("larger", "Which is larger?", ("the value", "the steps", "neither")),
    ),
)


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    steps = params["steps"]
    curve: list[float] = []
    for i in range(steps):
        curve.append(params["value"] * (i + 1) + seed)
        progress((i + 1) / steps, f"step {i + 1}", {"line": curve})
    end = curve[-1]
    larger = (
        "the value"
        if params["value"] > steps
        else "the steps"
        if steps > params["value"]
        else "neither"
    )
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
        answers={
            "end": Answer(
                "above 50" if end > 50 else "at 50 or below", f"The line ends at {end:g}."
            ),
            "larger": Answer(larger, f"value {params['value']:g}, steps {steps}."),
        },
    )
