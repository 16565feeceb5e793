"""A demo that runs far past its one-second time limit without reporting progress."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from studyapp.demo_api import DemoOutput, DemoSpec, Progress

SPEC = DemoSpec(
    id="sleepy", title="Sleepy", summary="Sleeps.", topics=("testing",), params=(), timeout_s=1.0
)


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    time.sleep(300)
    raise AssertionError("the runner should have stopped this demo")
