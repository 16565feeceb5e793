"""Open an Anki package (`.apkg`, a zip) defensively and hand back its collection, read-only.

A package comes from anywhere, so it is treated as hostile: nothing is extracted by the
names inside it (a member called `../x` or `/x` makes the whole file refused), only the
collection is copied, into a private temporary folder, and every byte copied is counted so
a member that expands beyond reason (a zip bomb, or a zstd bomb inside the current format)
is refused long before it fills memory or disk. The SQLite copy is opened read-only.

Which collection to read: current Anki writes `collection.anki21b` (zstd-compressed SQLite)
next to a dummy `collection.anki2` that only tells old versions to upgrade, and a `meta`
file naming the version; legacy packages hold `collection.anki21` or `collection.anki2`.
The newest real one wins.
"""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import zstandard

from studyapp.files import scratch_folder
from studyapp.formats.base import FormatError

MAX_EXPANDED_BYTES = 512 * 1024 * 1024
MAX_RATIO = 200  # compression ratio beyond which a big member is taken for a bomb
RATIO_CHECKED_FROM = 8 * 1024 * 1024  # small members may compress as well as they like
MAX_SMALL_MEMBER = 64 * 1024 * 1024  # `meta` and `media` are small in any real package
CHUNK = 1024 * 1024

# Collection member names by package version (the `meta` file's version number).
COLLECTIONS = {3: "collection.anki21b", 2: "collection.anki21", 1: "collection.anki2"}


@dataclass(frozen=True)
class OpenPackage:
    connection: sqlite3.Connection
    member: str  # the collection member that was read
    media_files: int  # media files in the package, which are not imported


@contextmanager
def open_package(path: Path) -> Iterator[OpenPackage]:
    """The package's collection as a read-only SQLite connection, valid inside the block."""
    with _zip(path) as archive, scratch_folder("studyapp-apkg-") as folder:
        members = {info.filename: info for info in archive.infolist()}
        _refuse_unsafe_names(path, members)
        version = _package_version(path, archive, members)
        member = _collection_member(path, members, version)
        target = Path(folder) / "collection.sqlite"
        with target.open("wb") as out:
            _copy_member(path, archive, members[member], out, zstd=member.endswith("21b"))
        media = _media_count(path, archive, members, zstd=version >= 3)
        connection = _open_readonly(path, target)
        with closing(connection):
            yield OpenPackage(connection, member, media)


@contextmanager
def _zip(path: Path) -> Iterator[zipfile.ZipFile]:
    try:
        archive = zipfile.ZipFile(path)
    except IsADirectoryError:
        raise FormatError.at(path, None, "a folder, not an Anki package") from None
    except FileNotFoundError:
        raise FormatError.at(path, None, "no such file") from None
    except OSError as error:
        raise FormatError.at(path, None, f"cannot be read ({error.strerror})") from None
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError):
        raise FormatError.at(
            path, None, "not a zip archive (or one cut short), so not an Anki package"
        ) from None
    with archive:
        yield archive


def _refuse_unsafe_names(path: Path, members: dict[str, zipfile.ZipInfo]) -> None:
    for name in members:
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
            raise FormatError.at(
                path, f"member {name!r}", "points outside the package; refusing the file"
            )


def _package_version(
    path: Path, archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]
) -> int:
    """The version named in `meta`, else that of the newest collection present."""
    newest = max((v for v, name in COLLECTIONS.items() if name in members), default=0)
    if "meta" not in members:
        return newest
    # PackageMetadata is one varint field: tag byte 0x08, then the version.
    data = _read_small(path, archive, members["meta"], zstd=False)
    version = _varint(data, 1)[0] if data[:1] == b"\x08" else 0
    if version > max(COLLECTIONS):
        raise FormatError.at(
            path,
            "meta",
            "this package was made by a newer Anki than this app can read; in Anki, export "
            "it again with 'Support older Anki versions' ticked",
        )
    return version or newest


def _collection_member(path: Path, members: dict[str, zipfile.ZipInfo], version: int) -> str:
    name = COLLECTIONS.get(version)
    if name is None:
        raise FormatError.at(
            path,
            None,
            "a zip archive but not an Anki package "
            "(it holds no collection.anki21b, collection.anki21 or collection.anki2)",
        )
    if name not in members:
        raise FormatError.at(path, "meta", f"names {name} but the package does not hold it")
    return name


def _copy_member(
    path: Path,
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    out: IO[bytes],
    *,
    zstd: bool,
    limit: int = MAX_EXPANDED_BYTES,
) -> None:
    """Copy one member to `out`, counting every byte against `limit` and the ratio rule."""
    where = f"member {info.filename!r}"
    _check_expansion(path, where, info.compress_size, info.file_size, limit)
    packed = info.file_size if zstd else info.compress_size
    written = 0
    try:
        with archive.open(info) as member:
            source: IO[bytes] = member
            if zstd:
                source = zstandard.ZstdDecompressor().stream_reader(member)  # type: ignore[assignment]
            while chunk := source.read(CHUNK):
                written += len(chunk)
                _check_expansion(path, where, packed, written, limit)
                out.write(chunk)
    except FormatError:
        raise
    except RuntimeError:  # zipfile's word for an encrypted member
        raise FormatError.at(path, where, "encrypted, which no Anki package is") from None
    except NotImplementedError:
        raise FormatError.at(
            path, where, "packed with a compression this app cannot read"
        ) from None
    except (zipfile.BadZipFile, zlib.error, zstandard.ZstdError, EOFError, OSError) as error:
        raise FormatError.at(path, where, f"damaged ({_first_line(error)})") from None


def _check_expansion(path: Path, where: str, packed: int, expanded: int, limit: int) -> None:
    suspicious = expanded > RATIO_CHECKED_FROM and expanded > MAX_RATIO * max(packed, 1)
    if expanded > limit or suspicious:
        raise FormatError.at(
            path, where, "expands far beyond its packed size (a zip bomb); refusing the file"
        )


def _read_small(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, zstd: bool) -> bytes:
    buffer = io.BytesIO()
    _copy_member(path, archive, info, buffer, zstd=zstd, limit=MAX_SMALL_MEMBER)
    return buffer.getvalue()


def _media_count(
    path: Path, archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], *, zstd: bool
) -> int:
    """How many media files the package carries; an unreadable list counts as none."""
    if "media" not in members:
        return 0
    try:
        data = _read_small(path, archive, members["media"], zstd=zstd)
    except FormatError:
        return 0
    if not zstd:
        try:
            listing = json.loads(data or b"{}")
        except ValueError:
            return 0
        return len(listing) if isinstance(listing, dict) else 0
    # MediaEntries: each entry is field 1, length-delimited (tag byte 0x0a).
    count = position = 0
    while position < len(data) and data[position] == 0x0A:
        length, position = _varint(data, position + 1)
        position += length
        count += 1
    return count


def _varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while position < len(data) and shift < 64:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return value, position


def _open_readonly(path: Path, database: Path) -> sqlite3.Connection:
    uri = f"{database.resolve().as_uri()}?mode=ro&immutable=1"
    connection = sqlite3.connect(uri, uri=True)
    # A note with broken UTF-8 is read with replacement characters rather than refused.
    connection.text_factory = lambda raw: raw.decode("utf-8", errors="replace")
    try:
        connection.execute("PRAGMA trusted_schema = OFF")
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except (sqlite3.DatabaseError, UnicodeDecodeError):  # SQLite's messages can be bytes too
        connection.close()
        raise FormatError.at(
            path, None, "the collection inside is not a readable SQLite database"
        ) from None
    return connection


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
