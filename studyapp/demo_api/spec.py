"""What a demo declares about itself: id, title, topics and typed parameters with bounds.

Specs are plain data, so listing the catalogue or validating a deck's demo link never imports
torch. A value from the command line or from a deck is checked against its parameter's type
and bounds; a bad value is refused with a sentence, never clamped in silence.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Literal

from studyapp.errors import UserError
from studyapp.numbers import is_finite

ParamKind = Literal["int", "float", "bool", "choice"]
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ParamError(UserError):
    """A demo parameter that is unknown, of the wrong type or out of bounds."""


class OptionError(UserError):
    """A prediction that is none of its question's options."""


@dataclass(frozen=True)
class Param:
    """One knob of a demo: its type, default, bounds (inclusive) and a one-line meaning."""

    name: str
    kind: ParamKind
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    log_scale: bool = False  # a hint for forms and sliders: the knob spans decades
    # The knob changes only what is drawn, never a number the run reports or answers from:
    # the predictions drill never moves it, as no answer could change with it.
    plot_only: bool = False

    def __post_init__(self) -> None:
        # A spec with a default outside its own bounds is a bug in the demo, caught at import.
        self.check(self.default, where=f"default of {self.name!r}")

    @property
    def bounds_text(self) -> str:
        if self.kind == "choice":
            return " | ".join(self.choices)
        if self.kind == "bool":
            return "true | false"
        return f"{_fmt(self.low)} .. {_fmt(self.high)}"

    def check(self, value: Any, where: str | None = None) -> Any:
        """Return `value` as this parameter's type, or raise ParamError saying why not."""
        label = where or f"parameter {self.name!r}"
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            raise ParamError(f"{label} must be true or false, not {value!r}")
        if self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
            raise ParamError(f"{label} must be one of {', '.join(self.choices)}, not {value!r}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParamError(f"{label} must be a number, not {value!r}")
        if self.kind == "int":
            if isinstance(value, float):
                if not value.is_integer():
                    raise ParamError(f"{label} must be a whole number, not {value!r}")
                value = int(value)
        elif isinstance(value, float) and not math.isfinite(value):
            raise ParamError(f"{label} must be a finite number, not {value!r}")
        # Compared as given: a whole number is compared exactly, however long it is.
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            raise ParamError(
                f"{label} must be between {_fmt(self.low)} and {_fmt(self.high)},"
                f" not {_shown(value)}"
            )
        if self.kind == "int":
            return value
        try:
            return float(value)
        except OverflowError:  # a whole number beyond the largest float, with no bound
            raise ParamError(f"{label} is too large for a number: {_shown(value)}") from None

    def parse(self, text: str) -> Any:
        """Read a value typed on the command line or in a form, then check it."""
        raw = text.strip()
        value: Any
        if self.kind == "bool":
            lowered = raw.lower()
            if lowered in _TRUE:
                value = True
            elif lowered in _FALSE:
                value = False
            else:
                raise ParamError(f"parameter {self.name!r} must be true or false, not {raw!r}")
        elif self.kind == "choice":
            value = raw
        else:
            value = self._number(raw)
        return self.check(value)

    def _number(self, raw: str) -> int | float:
        """A number as typed: digits exactly, anything else as a float; for a whole-number
        parameter, a float that is whole (`1E3`, `2.0`) as that whole number."""
        try:
            return int(raw)
        except ValueError:  # not digits, or more of them than Python turns into an int
            pass
        try:
            number = float(raw)
        except ValueError:
            raise ParamError(f"parameter {self.name!r} must be a number, not {raw!r}") from None
        if not math.isfinite(number):
            shown = raw if len(raw) <= 20 else f"{raw[:20]}..."
            raise ParamError(f"parameter {self.name!r} must be a finite number, not {shown!r}")
        if self.kind == "int" and number.is_integer():
            return int(number)
        return number

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.kind,
            "default": self.default,
            "low": self.low,
            "high": self.high,
            "choices": list(self.choices),
            "help": self.help,
        }


def _shown(value: Any) -> str:
    """A value for a message: as written, or its start and length when too long to read."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}... ({len(text):,} characters)"


def _fmt(value: float | None) -> str:
    if value is None:
        return "any"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:g}"


def int_param(name: str, default: int, low: int, high: int, help: str) -> Param:
    return Param(name, "int", default, help, low=low, high=high)


def float_param(
    name: str, default: float, low: float, high: float, help: str, *, log_scale: bool = False
) -> Param:
    return Param(name, "float", float(default), help, low=low, high=high, log_scale=log_scale)


def bool_param(name: str, default: bool, help: str, *, plot_only: bool = False) -> Param:
    return Param(name, "bool", default, help, plot_only=plot_only)


def choice_param(
    name: str, default: str, choices: Sequence[str], help: str, *, plot_only: bool = False
) -> Param:
    return Param(name, "choice", default, help, choices=tuple(choices), plot_only=plot_only)


def device_param() -> Param:
    """The device knob for demos that can use a GPU: the CPU unless asked otherwise."""
    return choice_param("device", "cpu", ("cpu", "cuda", "auto"), "where tensors live")


@dataclass(frozen=True)
class Question:
    """A question about a demo's outcome, asked before the run: "Which optimizer first reaches
    loss 0.3?".

    Its options are fixed in the spec, so the question is known before anything runs; which
    one is correct is worked out by each run from its own numbers (`DemoOutput.answers`), and
    so changes with the parameters. Every option must be the outcome at some setting within
    the demo's bounds, or at least one a learner could reasonably expect: none is a decoy that
    can never happen.
    """

    id: str
    text: str
    options: tuple[str, ...]

    def __post_init__(self) -> None:
        if not 2 <= len(self.options) <= 5:
            raise ValueError(f"question {self.id!r}: 2 to 5 options, not {len(self.options)}")
        if len(set(self.options)) != len(self.options):
            raise ValueError(f"question {self.id!r}: options must differ")

    def option(self, given: str) -> str:
        """The option `given` names: its text (case and spacing aside) or its number from 1.

        Raises OptionError, listing the options by number, for anything else.
        """
        wanted = " ".join(given.split()).casefold()
        for option in self.options:
            if " ".join(option.split()).casefold() == wanted:
                return option
        numbered = wanted.isascii() and wanted.isdigit() and len(wanted) <= 9  # not '²'
        if numbered and 1 <= int(wanted) <= len(self.options):
            return self.options[int(wanted) - 1]
        listed = "; ".join(f"{n} {o}" for n, o in enumerate(self.options, start=1))
        shown = given if len(given) <= 40 else f"{given[:40]}..."
        raise OptionError(
            f"{shown!r} is not one of its options; give an option's text or its number ({listed})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "question": self.text, "options": list(self.options)}


@dataclass(frozen=True)
class DemoSpec:
    """A demo as the catalogue lists it.

    `tiny` holds parameter overrides for a run of well under a second that still shows the
    idea: the test suite runs every demo that way. `module` and `code_version` are filled in
    by the registry from the module that declares the spec.
    """

    id: str
    title: str
    summary: str
    topics: tuple[str, ...]
    params: tuple[Param, ...]
    tiny: Mapping[str, Any] = field(default_factory=dict)
    timeout_s: float = 60.0
    questions: tuple[Question, ...] = ()
    module: str = ""
    code_version: str = ""

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"demo {self.id}: duplicate parameter names")
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError(f"demo {self.id}: duplicate question ids")
        self.resolve(self.tiny)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        valid = ", ".join(p.name for p in self.params) or "none"
        raise ParamError(f"demo {self.id} has no parameter {name!r} (its parameters: {valid})")

    @property
    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def resolve(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults with `overrides` applied, every override checked against its parameter."""
        values = self.defaults
        for name, value in overrides.items():
            param = self.param(name)
            values[name] = param.check(value, where=f"demo {self.id}: parameter {name!r}")
        return values

    def resolve_saved(self, saved: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Parameters saved earlier (a card's demo link, a prediction's run) as a run's.

        As `resolve`, except that a number beyond its parameter's bounds runs at the nearest
        bound: a demo's bounds can be narrowed after a card or a prediction kept a value the
        old ones allowed. The second value says what was moved, one phrase each.
        """
        values = self.defaults
        moved: list[str] = []
        for name, value in saved.items():
            param = self.param(name)
            where = f"demo {self.id}: parameter {name!r}"
            nearest = _nearest_bound(param, value)
            if nearest is None:
                values[name] = param.check(value, where=where)
                continue
            values[name] = param.check(int(nearest) if param.kind == "int" else nearest, where)
            moved.append(
                f"{name} {_fmt(value)} is beyond this demo's bounds ({param.bounds_text}), "
                f"so it runs at {_fmt(values[name])}"
            )
        return values, moved

    def parse_overrides(
        self, assignments: Sequence[str], usage: str = "--set takes KEY=VALUE"
    ) -> dict[str, Any]:
        """Read `KEY=VALUE` strings from the command line into checked values; `usage` says
        what was expected when one is not KEY=VALUE."""
        out: dict[str, Any] = {}
        for item in assignments:
            key, sep, text = item.partition("=")
            if not sep or not key.strip():
                raise ParamError(f"{usage}, not {item!r}")
            param = self.param(key.strip())
            if param.name in out:
                raise ParamError(f"demo {self.id}: {param.name} is given twice")
            if len(text) >= 2 and text[0] == text[-1] == '"':
                # Quoted as a deck file's demo line quotes it: the JSON string's text.
                with suppress(ValueError):
                    quoted = json.loads(text)
                    text = quoted if isinstance(quoted, str) else text
            try:
                out[param.name] = param.parse(text)
            except ParamError as exc:
                raise ParamError(f"demo {self.id}: {exc.message}") from None
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "summary": self.summary,
            "topics": list(self.topics),
            "params": [p.to_dict() for p in self.params],
            "predictions": [q.to_dict() for q in self.questions],
        }


def _nearest_bound(param: Param, value: Any) -> float | None:
    """The bound a number beyond `param`'s bounds is nearest to; None for anything else."""
    if param.kind not in ("int", "float") or isinstance(value, bool):
        return None
    if not isinstance(value, int | float) or not is_finite(value):
        return None
    if param.low is not None and value < param.low:
        return param.low
    if param.high is not None and value > param.high:
        return param.high
    return None
