"""A bracketed paste reaches the app as text, whatever it holds.

A terminal wraps pasted text in ESC [200~ ... ESC [201~ so that an app can tell it from
typing. Textual's input parser reads an ESC inside a paste as the start of a key sequence
and hands what follows to the app as key presses: pasting "see ESC[0m5" on the review
screen pressed 5 and rated the card, and inside the card editor part of the paste jumped
ahead of the rest or an escape closed the editor. `PasteGuard` rewrites the input before the
parser sees it: inside a paste, an ESC that does not end the paste becomes the visible
U+241B (␛), so the paste arrives whole, in order, as one piece of text.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

from textual._xterm_parser import XTermParser

PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"
SHOWN_ESCAPE = "\u241b"


class PasteGuard:
    """Feeds terminal input through, an ESC inside a bracketed paste made visible.

    Input comes in chunks that may split a marker anywhere: outside a paste nothing is
    held back (an escape key press must not wait), only the start of a marker remembered;
    inside one, an ESC that might begin the end marker is held until the next chunk tells.
    """

    def __init__(self) -> None:
        self.pasting = False
        self._seen = ""  # outside a paste: the input's last characters, a start of PASTE_START
        self._held = ""  # inside a paste: a start of PASTE_END, not passed on yet

    def __call__(self, data: str) -> str:
        out: list[str] = []
        while data:
            data = self._inside(data, out) if self.pasting else self._outside(data, out)
        return "".join(out)

    def _outside(self, data: str, out: list[str]) -> str:
        seen = self._seen + data
        at = seen.find(PASTE_START)
        if at < 0:
            out.append(data)
            self._seen = _marker_start_at_end(seen, PASTE_START)
            return ""
        end = at + len(PASTE_START) - len(self._seen)  # where the marker ends in `data`
        out.append(data[:end])
        self._seen = ""
        self.pasting = True
        return data[end:]

    def _inside(self, data: str, out: list[str]) -> str:
        text = self._held + data
        self._held = ""
        start = 0
        while (at := text.find("\x1b", start)) >= 0:
            out.append(text[start:at])
            if text.startswith(PASTE_END, at):
                out.append(PASTE_END)
                self.pasting = False
                return text[at + len(PASTE_END) :]
            if len(text) - at < len(PASTE_END) and PASTE_END.startswith(text[at:]):
                self._held = text[at:]  # the chunk ends inside what may be the marker
                return ""
            out.append(SHOWN_ESCAPE)
            start = at + 1
        out.append(text[start:])
        return ""


def _marker_start_at_end(text: str, marker: str) -> str:
    """The longest end of `text` that is a start of `marker` (but not all of it)."""
    for size in range(min(len(marker) - 1, len(text)), 0, -1):
        if marker.startswith(text[-size:]):
            return text[-size:]
    return ""


class PasteSafeParser(XTermParser):
    """Textual's terminal input parser, fed through a `PasteGuard`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._guard = PasteGuard()

    def feed(self, data: str) -> Iterable[Any]:
        if not data:  # the end of input, passed on as it is
            return super().feed(data)
        guarded = self._guard(data)
        # A chunk held back whole (the start of what may end a paste) is not fed yet: an
        # empty chunk would tell the parser the input has ended.
        return super().feed(guarded) if guarded else ()


def keep_pastes_as_text() -> None:
    """Make the terminal drivers read input with `PasteSafeParser`: each makes its parser
    from the name `XTermParser` in its module (Linux and macOS in `linux_driver`, Windows in
    `win32`); a module that cannot be imported here is another system's."""
    for name in ("linux_driver", "win32"):
        try:
            module = importlib.import_module(f"textual.drivers.{name}")
        except Exception:  # noqa: BLE001  (ImportError, or a Windows-only library missing)
            continue
        if getattr(module, "XTermParser", None) in (XTermParser, PasteSafeParser):
            module.XTermParser = PasteSafeParser
