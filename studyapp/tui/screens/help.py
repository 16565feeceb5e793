"""`?`: every key of the screen underneath, read from its bindings so the list never goes stale."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Static


def key_rows(screen: Screen[object]) -> list[tuple[str, str]]:
    """(keys, what they do), one row per action: the screen's own keys first, then the keys
    every screen has, then the app's."""
    app = screen.app
    own = {b.action for b in Binding.make_bindings(type(screen).BINDINGS)}
    grouped: dict[tuple[str, str], list[str]] = {}
    nodes: tuple[DOMNode, ...] = (screen, app)
    for node in nodes:
        # `_bindings` is the node's merged binding map with the user's keymap applied.
        for _key, binding in node._bindings:
            if not binding.description or binding.system:
                continue
            keys = grouped.setdefault((binding.action, binding.description), [])
            shown = app.get_key_display(binding)
            if shown not in keys:
                keys.append(shown)
    rows = [(action, " / ".join(keys), does) for (action, does), keys in grouped.items()]
    rows.sort(key=lambda row: row[0] not in own)  # stable: declaration order within each part
    return [(keys, does) for _, keys, does in rows]


class HelpScreen(ModalScreen[None]):
    """The keys of one screen, over that screen."""

    BINDINGS = [
        Binding("escape,question_mark,q", "close", "Close help", id="help.close"),
    ]

    def __init__(self, title: str, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(Content.styled(f"Keys: {self.title_text}", "bold"), id="help-title")
            yield DataTable(id="help-keys", cursor_type="none", zebra_stripes=True)
            yield Static(
                Content("ctrl+p opens the command palette, which lists these actions too."),
                id="help-note",
            )
        yield Footer(compact=True)  # how to close it, not the keys of the screen under it

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "What it does")
        table.add_rows((Text(keys, style="bold"), Text(does)) for keys, does in self.rows)
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
