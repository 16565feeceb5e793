"""A demo whose loss diverges to NaN."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from studyapp.demo_api import Claim, DemoOutput, DemoSpec, Progress, Table

SPEC = DemoSpec(id="nan", title="NaN", summary="Diverges.", topics=("testing",), params=())


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    return DemoOutput(
        series={"loss": [1.0, 10.0, float("inf")]},
        table=Table.of(["loss"], [(1.0,)]),
        metrics={"final_loss": float("nan")},
        claims=[
            Claim.experiment(
                "the loss goes down", False, lesson="The loss went down.", otherwise="It diverged."
            )
        ],
    )
