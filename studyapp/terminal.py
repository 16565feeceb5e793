"""Text from files, shown on a terminal: control characters made visible, never sent raw.

A card, a deck name, an import warning or a file name can hold anything a file held,
escape sequences included: `ESC ] 52 ; c ; ...` writes the terminal's clipboard, `ESC [2J`
wipes the screen, OSC 0 sets the window title, and U+009B is CSI on its own. Everything the
app shows a person goes through `visible`, which writes each C0 and C1 control character
(and DEL) as a Python-style escape such as `\\x1b`. Newline and tab are layout and stay.
So do the bidirectional embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069),
as `\\u202e`: in a terminal that honours them, "the answer is \\u202eeurt" reads as "the
answer is true", text shown other than it is. Marks (U+200E, U+200F) and right-to-left
scripts themselves are left alone.

What the app writes for a program (an export to a file or a pipe, `--json`) keeps the exact
text; see `for_stream` and `json_text`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, TextIO

# C0 controls but tab and newline, DEL, the C1 controls, and lone surrogates (see below).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x00, 0x20), *range(0x7F, 0xA0))}
del _ESCAPES[ord("\n")], _ESCAPES[ord("\t")]
_ESCAPES.update(
    (code, f"\\u{code:04x}") for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
)
# A path's bytes that are not UTF-8 come as lone surrogates (U+DC80..U+DCFF for the byte
# 0x80..0xFF), which a C-locale stdout writes back as those raw bytes (0x9B is CSI): they are
# shown as the byte they stand for; any other lone surrogate by its code.
_ESCAPES.update(
    (code, f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}")
    for code in range(0xD800, 0xE000)
)
# What JSON leaves raw (it escapes C0 already): DEL, C1 and lone surrogates.
_JSON_RAW = re.compile("[\x7f-\x9f\ud800-\udfff]")


def visible(text: str) -> str:
    """`text` with every control character but newline and tab written as `\\xNN` (and a
    lone surrogate, from a path that is not UTF-8, as the byte it stands for)."""
    if _CONTROL.search(text) is None:
        return text
    return text.translate(_ESCAPES)


def one_line(text: str) -> str:
    """`text` for a single line of a report: visible, with newlines and tabs as `\\n`, `\\t`."""
    return visible(text).replace("\n", "\\n").replace("\t", "\\t")


def cell_width(text: str) -> int:
    """How many terminal cells `text` takes on one line: a wide character (CJK, most emoji)
    takes two, a combining mark or a zero-width character none, any other one."""
    if text.isascii():
        return len(text)
    return sum(map(_char_width, text))


@lru_cache(maxsize=4096)
def _char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def fit(text: str, width: int) -> str:
    """`text` cut to at most `width` terminal cells, an ellipsis where it was cut."""
    if cell_width(text) <= width:
        return text
    room, used = width - 1, 0
    for end, char in enumerate(text):
        used += _char_width(char)
        if used > room:
            return text[:end] + "…"
    return text


def pad(text: str, width: int, right: bool = False) -> str:
    """`text` filled with spaces to `width` terminal cells, on its left when `right`."""
    fill = " " * max(0, width - cell_width(text))
    return fill + text if right else text + fill


def has_control(text: str) -> bool:
    """Whether `visible` would change `text`."""
    return _CONTROL.search(text) is not None


def for_stream(data: bytes, stream: TextIO) -> bytes:
    """Exported text as it should reach `stream`: exact for a pipe or a file, visible on a
    terminal (where a person reads it, and where escape sequences would act)."""
    if not _is_terminal(stream):
        return data
    return visible(data.decode("utf-8", errors="replace")).encode("utf-8")


def number_columns(rows: Sequence[Sequence[Any]], width: int) -> list[bool]:
    """For each of a table's `width` columns, whether it holds numbers (and blanks): such a
    column is aligned to the right, in the app and on the command line alike."""

    def holds_numbers(index: int) -> bool:
        values = [row[index] for row in rows if row[index] is not None]
        return bool(values) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values
        )

    return [holds_numbers(index) for index in range(width)]


def json_text(data: Any, **options: Any) -> str:
    """`json.dumps` whose output holds no raw control character at all: JSON escapes C0 by
    itself, and DEL, C1 and lone surrogates (a path that is not UTF-8) are written as
    `\\uNNNN` here. The value read back is the same."""
    text = json.dumps(data, **options)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False
