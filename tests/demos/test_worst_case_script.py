"""scripts/demo_worst_case.py: the costliest setting it runs is a setting a learner can choose.

The script's timings are read by hand; what a test can hold it to is that it runs each demo at
a valid setting, with every size knob at its maximum, so a renamed knob or a changed bound
cannot make it time something a learner never sees.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from studyapp.demo_api import all_specs, get_spec

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "demo_worst_case", ROOT / "scripts" / "demo_worst_case.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def test_every_corner_is_within_its_demos_bounds() -> None:
    script = _script()
    for spec in all_specs():
        spec.resolve(script.corner(spec))  # raises ParamError for an unknown knob or value


def test_every_size_knob_is_at_its_maximum_unless_named_costlier() -> None:
    script = _script()
    for spec in all_specs():
        values = script.corner(spec)
        named = script.CORNERS.get(spec.id, {})
        for param in spec.params:
            if param.kind == "int" and param.name not in named:
                assert values[param.name] == param.high, (spec.id, param.name)


def test_every_named_corner_is_a_demo_of_the_catalogue() -> None:
    for demo_id in _script().CORNERS:
        get_spec(demo_id)
