"""A long demo that reports progress often, so a cancel stops it promptly."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from studyapp.demo_api import DemoOutput, DemoSpec, Progress

SPEC = DemoSpec(id="slow", title="Slow", summary="Takes a while.", topics=("testing",), params=())


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    for i in range(30_000):
        progress(i / 30_000, "working")
        time.sleep(0.01)
    raise AssertionError("the runner should have cancelled this demo")
