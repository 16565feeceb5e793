"""Run demos in-process for tests, on the tiny configurations, with torch on few threads."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import pytest

from studyapp.demo_api import DemoOutput, get_spec, no_progress

torch = pytest.importorskip("torch")
torch.set_num_threads(2)


def run_demo(demo_id: str, seed: int = 0, tiny: bool = True, **overrides: Any) -> DemoOutput:
    """Run a demo directly (no worker process) and return its output."""
    spec = get_spec(demo_id)
    base: Mapping[str, Any] = spec.tiny if tiny else {}
    params = spec.resolve({**base, **overrides})
    module = importlib.import_module(spec.module)
    return module.run(params, seed, no_progress)


@pytest.fixture
def demo():
    return run_demo


def assert_words_follow_the_run(out: DemoOutput) -> None:
    """The takeaway is made of each experiment's sentence for the outcome it reached.

    Every experiment carries a sentence for both outcomes; a failed experiment's `lesson` (the
    sentence for success) appears nowhere in what the learner reads.
    """
    experiments = [c for c in out.claims if c.kind == "experiment"]
    assert experiments, "a demo runs at least one experiment"
    for claim in experiments:
        assert claim.lesson.strip() and claim.otherwise.strip(), claim.text
        assert claim.says in out.takeaway
        if not claim.holds:
            assert claim.lesson not in out.takeaway, claim.lesson
            assert claim.lesson not in out.setup
    assert out.headline == experiments[0].says.strip() or not experiments[0].says.strip()
