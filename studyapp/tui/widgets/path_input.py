"""A field for a file's path: what it takes holds no control character.

A control character typed or pasted into a field is drawn raw by it and acts on the
terminal, so the field refuses one (`NO_CONTROL`). Textual refuses a paste whole when any
of it is refused, which left the field empty, without a word, for a path copied with a tab
or an escape sequence in it: a paste here drops those characters and keeps the rest.
"""

from __future__ import annotations

import re

from textual import events
from textual.widgets import Input

from studyapp.tui.text import NO_CONTROL

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u241b]")


class PathInput(Input):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(restrict=NO_CONTROL, **kwargs)  # type: ignore[arg-type]

    def _on_paste(self, event: events.Paste) -> None:
        lines = event.text.splitlines()
        if lines:  # a path is one line: the first, as any one-line field takes
            event = events.Paste(_CONTROL.sub("", lines[0]))
        super()._on_paste(event)
