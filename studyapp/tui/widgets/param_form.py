"""A form built from a demo's typed parameters: one input per knob, its bounds beside it.

Every value is read with the parameter's own `parse`, so the form accepts exactly what
`studyapp demo run --set` accepts, and a bad value is named in one sentence instead of run.
The names column is as wide as the longest name, and a parameter's bounds and help wrap
under it rather than being cut: every choice of a choice parameter shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Input, Label, Static

from studyapp.demo_api import DemoSpec, Param, ParamError
from studyapp.tui.text import line


def format_value(value: Any) -> str:
    """`value` as typed in a form: a float in its short form (`0.001`, `1e-05`, `600`) when
    that is the same number, else in the shortest digits that give it back exactly
    (`0.123456789`), so running a card's parameters unchanged runs the card's own values."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        short, exact = f"{value:g}", repr(value)
        return short if float(short) == value and len(short) <= len(exact) else exact
    return str(value)


MAX_NAME_WIDTH = 28  # a longer parameter name wraps onto a second row


def _sized(label: Label, width: int) -> Label:
    label.styles.width = width
    return label


class ParamInput(Input):
    """An input that knows which parameter it edits."""

    def __init__(self, param: Param, value: Any) -> None:
        super().__init__(format_value(value), compact=True)
        self.param = param


class ParamForm(Vertical):
    """Edit a demo's parameters and ask for a run (Enter in a field, or the Run button)."""

    DEFAULT_CSS = """
    ParamForm { height: auto; }
    ParamForm > #param-rows { height: auto; }
    ParamForm .param-row { height: auto; }
    ParamForm .param-name { width: 14; padding-right: 1; }
    ParamForm ParamInput { width: 14; }
    ParamForm ParamInput.-invalid { background: $error 30%; }
    ParamForm .param-bounds { width: 1fr; height: auto; color: $text-muted; padding-left: 1; }
    ParamForm > #param-footer { height: auto; margin-top: 1; }
    ParamForm #param-run { min-width: 10; }
    ParamForm #param-error { color: $error; width: 1fr; padding-left: 1; }
    """

    @dataclass
    class Submitted(Message):
        form: ParamForm
        values: dict[str, Any]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.spec: DemoSpec | None = None

    def compose(self) -> ComposeResult:
        yield Static(Content.styled("Parameters (tab moves between them, enter runs them)", "bold"))
        yield Vertical(id="param-rows")
        with Horizontal(id="param-footer"):
            yield Button("Run", id="param-run", compact=True)
            yield Static(id="param-error", markup=False)

    async def set_spec(self, spec: DemoSpec, values: Mapping[str, Any]) -> None:
        """Show `spec`'s parameters filled in with `values` (defaults where missing)."""
        rows = self.query_one("#param-rows", Vertical)
        if self.spec is not None and self.spec.id == spec.id:
            for field in self.query(ParamInput):
                field.value = format_value(values.get(field.param.name, field.param.default))
                field.remove_class("-invalid")
        else:
            self.spec = spec
            name_width = min(MAX_NAME_WIDTH, max((len(p.name) for p in spec.params), default=0))
            await rows.remove_children()
            await rows.mount_all(
                Horizontal(
                    _sized(Label(line(p.name), classes="param-name"), name_width + 1),
                    ParamInput(p, values.get(p.name, p.default)),
                    Static(line(f"{p.bounds_text}  {p.help}"), classes="param-bounds"),
                    classes="param-row",
                )
                for p in spec.params
            )
        self.query_one("#param-error", Static).update("")

    def read(self) -> dict[str, Any] | None:
        """The values typed, or None (with the first problem shown) if any is refused."""
        values: dict[str, Any] = {}
        problems: list[str] = []
        for field in self.query(ParamInput):
            try:
                values[field.param.name] = field.param.parse(field.value)
                field.remove_class("-invalid")
            except ParamError as exc:
                field.add_class("-invalid")
                problems.append(exc.message)
        self.query_one("#param-error", Static).update(line(problems[0] if problems else ""))
        return None if problems else values

    def _submit(self) -> None:
        values = self.read()
        if values is not None:
            self.post_message(self.Submitted(self, values))

    @on(Input.Submitted)
    def _on_enter(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    @on(Button.Pressed, "#param-run")
    def _on_run(self, event: Button.Pressed) -> None:
        event.stop()
        self._submit()
