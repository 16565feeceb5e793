"""Text from the collection or a file, made ready for a widget.

Such text is data: it is shown literally (`[bold]` in a card is text, never markup) and
visibly (a control character is shown as `\\x1b`, never sent to the terminal; see
`studyapp.terminal`). Every widget that shows a card, a deck name, a report line or a
message built from them takes it through one of these.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.style import Style
from rich.text import Text
from textual.content import Content

from studyapp.terminal import one_line, visible

# For a text field: what it takes holds no control character (a pasted one would be drawn
# raw by the field, and act on the terminal).
NO_CONTROL = "[^\x00-\x1f\x7f-\x9f\ud800-\udfff]*"


def plain(text: str) -> Content:
    """Text as a widget's content: literal and visible."""
    return Content(visible(text))


def line(text: str) -> Content:
    """Text for a single line (a title, a label): literal, visible, newlines shown as `\\n`."""
    return Content(one_line(text))


def cell(text: str, style: str | Style = "", justify: str | None = None) -> Text:
    """A table cell or an option of a list: one line, literal and visible."""
    return Text(one_line(text), style=style, justify=justify)  # type: ignore[arg-type]


def clip(text: str, width: int) -> str:
    """Text on one line of at most `width` cells (a wide character, CJK or emoji, takes
    two), cut with an ellipsis; visible."""
    shown = visible(" ".join(text.split()))  # clipped as it is shown
    if cell_len(shown) <= width:
        return shown
    return set_cell_size(shown, max(0, width - 1)).rstrip() + "…"
