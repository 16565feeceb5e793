"""A demo that ignores a cancel: it stops reporting progress and just keeps going."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from studyapp.demo_api import DemoOutput, DemoSpec, Progress

SPEC = DemoSpec(
    id="stubborn", title="Stubborn", summary="Ignores cancel.", topics=("testing",), params=()
)


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    progress(0.0, "started")
    time.sleep(300)
    raise AssertionError("the runner should have killed this demo")
