"""Tables that fit the width they are given: headers and cells wrap at their words instead
of running off the side of the screen, where nobody thinks to scroll.

For tables that are read, not navigated (a demo's result, a card's predictions); lists with
a cursor stay DataTables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich import box
from rich.table import Table
from rich.text import Text
from textual.color import Color
from textual.widget import Widget


def wrapped_table(
    headers: Sequence[Text],
    rows: Iterable[Sequence[Text]],
    *,
    right: Iterable[int] = (),
    stripe: str | None = None,
) -> Table:
    """A table of literal cells (`Text`, never markup), the columns in `right` aligned to
    the right. Every other row has the background `stripe`, so a row that wraps onto two
    lines still reads as one; with none (no colour), a blank line parts the rows."""
    aligned_right = set(right)
    out = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        header_style="bold",
        row_styles=["", f"on {stripe}"] if stripe else None,
        show_lines=stripe is None,
    )
    for index, header in enumerate(headers):
        out.add_column(header, justify="right" if index in aligned_right else "left")
    for row in rows:
        out.add_row(*row)
    return out


def stripe_for(widget: Widget) -> str | None:
    """The stripe colour of a table in `widget`: a shade of the theme's background towards
    its text; None when the app shows no colour."""
    app = widget.app
    if getattr(app, "no_color", False):
        return None
    colors = app.theme_variables
    base = Color.parse(colors["background"])
    return base.blend(Color.parse(colors["foreground"]), 0.08).hex
