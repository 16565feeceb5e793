"""The demo catalogue: every module in the `demos` package that declares a `SPEC`.

Demo modules import torch only inside `run`, so listing the catalogue, validating a deck's
demo links or filling a parameter form stays fast and torch-free. Each spec gets a code
version, a hash of its module's source and of the shared helpers, which keys the result cache:
editing a demo makes its old cached results stale.

Every function reads the `demos` package unless given another `package` (the runner's tests
use a package of small torch-free demos).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import pkgutil
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from studyapp.demo_api.spec import DemoSpec, ParamError
from studyapp.errors import UserError

DEMO_PACKAGE = "demos"


class UnknownDemoError(UserError):
    """A demo id that is not in the catalogue."""


@cache
def _load(package_name: str = DEMO_PACKAGE) -> dict[str, DemoSpec]:
    package = importlib.import_module(package_name)
    folder = Path(next(iter(package.__path__)))
    shared = hashlib.sha256()
    for helper in sorted(folder.glob("_*.py")):
        shared.update(helper.read_bytes())
    specs: dict[str, DemoSpec] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module_name = f"{package_name}.{info.name}"
        module = importlib.import_module(module_name)
        spec = getattr(module, "SPEC", None)
        if not isinstance(spec, DemoSpec):
            continue
        if spec.id in specs:
            raise RuntimeError(f"demo id {spec.id!r} is declared twice")
        source = Path(module.__file__ or "").read_bytes()
        version = hashlib.sha256(shared.digest() + source).hexdigest()[:16]
        specs[spec.id] = dataclasses.replace(spec, module=module_name, code_version=version)
    return specs


def all_specs(package: str = DEMO_PACKAGE) -> list[DemoSpec]:
    """Every demo in the catalogue, by id."""
    return [spec for _, spec in sorted(_load(package).items())]


def demo_ids(package: str = DEMO_PACKAGE) -> list[str]:
    return sorted(_load(package))


def has_demo(demo_id: str, package: str = DEMO_PACKAGE) -> bool:
    return demo_id in _load(package)


def get_spec(demo_id: str, package: str = DEMO_PACKAGE) -> DemoSpec:
    try:
        return _load(package)[demo_id]
    except KeyError:
        raise UnknownDemoError(
            f"there is no demo {demo_id!r}; `studyapp demo list` shows the catalogue"
        ) from None


def parse_link(text: str, package: str = DEMO_PACKAGE) -> tuple[str, dict[str, Any]] | None:
    """A demo link as typed, `adam_vs_sgd steps=200`, read into the demo's id and its checked
    parameter overrides; None for empty text. Raises UnknownDemoError or ParamError."""
    words = text.split()
    if not words:
        return None
    spec = get_spec(words[0], package)
    usage = f"a demo link is the demo's id, then KEY=VALUE overrides ({words[0]} steps=200)"
    return spec.id, spec.parse_overrides(words[1:], usage=usage)


def check_link(demo_id: str, params: Mapping[str, Any], package: str = DEMO_PACKAGE) -> str | None:
    """Why a deck's demo link would not run, or None if it is sound."""
    if not has_demo(demo_id, package):
        return f"unknown demo {demo_id!r}"
    try:
        get_spec(demo_id, package).resolve(params)
    except ParamError as exc:
        return exc.message
    return None
