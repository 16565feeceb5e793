"""A demo that raises halfway through."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from studyapp.demo_api import DemoOutput, DemoSpec, Progress

SPEC = DemoSpec(id="boom", title="Boom", summary="Raises.", topics=("testing",), params=())


def run(params: Mapping[str, Any], seed: int, progress: Progress) -> DemoOutput:
    progress(0.5, "about to fail")
    raise ValueError("the fake demo broke on purpose")
