"""Reading an import file safely: a size limit checked before reading, and decoding with BOMs.

Every text format reads through here, so a missing path, a folder, a huge file or bytes that
are not text all come out as the same kind of one-sentence error naming the file and, for bad
bytes, the line.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from studyapp.files import describe_kind
from studyapp.formats.base import FormatError

MAX_FILE_BYTES = 100 * 1024 * 1024
# Any file given to import: each reader then applies its own, tighter limit (text is read
# whole; an Anki package is a zip with media, read member by member with its own caps).
MAX_IMPORT_BYTES = 4 * 1024 * 1024 * 1024
# A page copied from a study site is a few hundred KB; one far larger is not such a page, and
# reading it line by line with the cleaning rules would take minutes.
MAX_PAGE_BYTES = 10 * 1024 * 1024
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def check_file(path: Path, limit: int = MAX_FILE_BYTES) -> int:
    """The size of a regular, readable file no larger than `limit`; else a FormatError."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise FormatError.at(path, None, "no such file") from None
    except OSError as exc:
        raise FormatError.at(path, None, f"cannot be read ({exc.strerror or exc})") from None
    if path.is_dir():
        raise FormatError.at(path, None, "is a folder, not a file to import")
    if not path.is_file():
        raise FormatError.at(path, None, f"is {describe_kind(info.st_mode)}, not a file to import")
    if info.st_size > limit:
        raise FormatError.at(
            path,
            None,
            f"the file is {info.st_size / 1e6:.0f} MB; files over "
            f"{limit // (1024 * 1024)} MB are not imported"
            + (" as a study-site page" if limit < MAX_FILE_BYTES else ""),
        )
    return info.st_size


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    check_file(path, limit)
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise FormatError.at(path, None, f"cannot be read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise FormatError.at(path, None, "the file grew past the size limit while being read")
    return data


def decode(data: bytes, path: Path) -> str:
    """Text from bytes: UTF-8 (BOM or not) or UTF-16/32 with a BOM; anything else is refused.

    Line endings come out as "\\n".
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            body, name = data[len(bom) :], encoding
            break
    else:
        body, name = data, "utf-8"
        if unmarked_utf16(body):
            raise FormatError.at(path, None, UTF16_WITHOUT_BOM)
    try:
        text = body.decode(name)
    except UnicodeDecodeError as exc:
        raise FormatError.at(path, *_explain(body, exc, name)) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise FormatError.at(path, f"line {line}", "holds NUL bytes, so it is not a text file")
    if "\r" not in text:
        return text  # most files: spares copying a large text twice
    text = text.replace("\r\n", "\n")
    return text.replace("\r", "\n") if "\r" in text else text  # a lone CR: old Mac files


UTF16_WITHOUT_BOM = (
    "reads as UTF-16 text without its byte order mark; save it as UTF-8 (or as UTF-16 "
    "with its byte order mark) and import it again"
)


def unmarked_utf16(data: bytes) -> bool:
    """Whether bytes with no byte order mark look like UTF-16 text: most characters of such
    a file (letters, digits, punctuation) have a NUL as one of their two bytes, on the same
    side every time."""
    head = data[:4096]
    pairs = len(head) // 2
    if pairs < 2 or b"\x00" not in head:
        return False
    even = head[0 : 2 * pairs : 2].count(0)
    odd = head[1 : 2 * pairs : 2].count(0)
    return max(even, odd) >= pairs * 0.6 and min(even, odd) <= pairs * 0.05


def _explain(body: bytes, exc: UnicodeDecodeError, encoding: str) -> tuple[str, str]:
    line = body.count(b"\n", 0, exc.start) + 1
    column = exc.start - (body.rfind(b"\n", 0, exc.start) + 1) + 1
    label = "UTF-8" if encoding == "utf-8" else encoding.upper()
    byte = body[exc.start]
    return (
        f"line {line}",
        f"not {label} text (byte 0x{byte:02x} at column {column}); "
        "save the file as UTF-8 and import it again",
    )


def read_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    return decode(read_bytes(path, limit), path)


def head_text(head: bytes) -> str:
    """The first bytes of a file as text for sniffing; undecodable bytes become U+FFFD."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, errors="replace").replace("\r\n", "\n")
    return head.decode("utf-8", errors="replace").replace("\r\n", "\n")


def looks_like_text(head: bytes) -> bool:
    """Whether the first bytes could be a text file (no NULs unless UTF-16/32, mostly valid)."""
    if not head:
        return False
    if any(head.startswith(bom) for bom, _ in _BOMS):
        return True
    if b"\x00" in head:
        return False
    text = head.decode("utf-8", errors="replace")
    return text.count("\ufffd") <= max(2, len(text) // 200)
