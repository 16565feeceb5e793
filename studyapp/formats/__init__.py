"""File formats: a registry of readers and writers that turn files into card drafts and back.

Each module declares `FORMATS`, a tuple of `FormatSpec`. Modules are imported on first use,
so a command that touches no file pays nothing for them. No format touches the database.
"""

from __future__ import annotations

import codecs
import importlib
from functools import cache
from pathlib import Path

from studyapp.formats.base import (
    CardDraft,
    ExportCard,
    ExportDeck,
    FormatError,
    FormatSpec,
    ParseResult,
    PredictionDraft,
    ReviewDraft,
    Skipped,
)
from studyapp.formats.textio import decode, looks_like_text, unmarked_utf16

# Modules that declare formats, in the order detection breaks ties.
FORMAT_MODULES = ("backup", "native", "apkg", "delimited", "brainscape", "knowt", "quizlet")
SNIFF_BYTES = 64 * 1024

__all__ = [
    "CardDraft",
    "ExportCard",
    "ExportDeck",
    "FormatError",
    "FormatSpec",
    "ParseResult",
    "PredictionDraft",
    "ReviewDraft",
    "Skipped",
    "all_formats",
    "detect",
    "get_format",
]


@cache
def _registry() -> dict[str, FormatSpec]:
    formats: dict[str, FormatSpec] = {}
    for name in FORMAT_MODULES:
        module = importlib.import_module(f"studyapp.formats.{name}")
        for spec in module.FORMATS:
            formats[spec.name] = spec
    return formats


def all_formats() -> list[FormatSpec]:
    return list(_registry().values())


def get_format(name: str, *, for_export: bool = False) -> FormatSpec:
    """The format called `name`; an unknown name is an error that lists the valid ones."""
    formats = _registry()
    usable = {n: f for n, f in formats.items() if (f.export if for_export else f.parse) is not None}
    if name not in usable:
        verb = "export" if for_export else "import"
        raise FormatError(
            f"unknown format {name!r} to {verb}; choose one of {', '.join(sorted(usable))}"
        )
    return usable[name]


def detect(path: Path) -> FormatSpec:
    """The format a file most likely is, judged from its name and first bytes."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    scored = [
        (spec.sniff(path, head), -order, spec)
        for order, spec in enumerate(_registry().values())
        if spec.sniff is not None and spec.parse is not None
    ]
    best = max(scored, key=lambda item: (item[0], item[1]), default=None)
    if best is None or best[0] <= 0:
        _refuse_other_encodings(path, head)
        names = ", ".join(sorted(s.name for s in _registry().values() if s.parse))
        raise FormatError(
            f"{path}: cannot tell what format this file is; name it (one of {names}) with"
            " --format, or in the import screen's Format list"
        )
    return best[2]


def _refuse_other_encodings(path: Path, head: bytes) -> None:
    """Say so when a file is text in an encoding other than UTF-8 (a spreadsheet saved as
    Latin-1 or Windows-1252), rather than that its format is unknown.

    A file with NUL bytes and no byte-order mark is binary and left to the caller, unless it
    is UTF-16 without its mark or text but for its NULs: `decode` names either. The head is
    decoded up to its last line break, so a character cut off at its end is no error.
    """
    binary = b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if binary and not (unmarked_utf16(head) or looks_like_text(head.replace(b"\x00", b""))):
        return
    whole = len(head) < SNIFF_BYTES
    end = len(head) if whole else head.rfind(b"\n") + 1
    if end > 0:
        decode(head[:end], path)  # raises the one-line error naming the line and the byte
