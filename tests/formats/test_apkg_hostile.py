"""Hostile and broken packages are refused with one sentence naming the file, nothing else."""

from __future__ import annotations

import io
import os
import sqlite3
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studyapp.formats.anki_export import export_apkg
from studyapp.formats.apkg import parse
from studyapp.formats.base import CardDraft, ExportCard, ExportDeck, FormatError
from studyapp.scheduling import SM2State
from tests.formats.anki_fixtures import deflate_bomb, with_declared_size, zip_bytes, zstd_bomb


def small_package() -> bytes:
    card = ExportCard("u1", "Adam?", "An optimizer", ("optimizers",), "", None,
                      SM2State.new(), (), False, 0)  # fmt: skip
    return export_apkg([ExportDeck("Deck", (card,))])


def refused(path: Path) -> str:
    with pytest.raises(FormatError) as caught:
        parse(path)
    message = str(caught.value)
    assert str(path) in message
    assert "\n" not in message
    return message


def put(tmp_path: Path, data: bytes, name: str = "deck.apkg") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_random_bytes_and_fake_zips(tmp_path: Path) -> None:
    assert "not a zip archive" in refused(put(tmp_path, os.urandom(4096)))
    assert "not a zip archive" in refused(put(tmp_path, b"PK\x03\x04" + b"\x00" * 200))
    assert "not a zip archive" in refused(put(tmp_path, b""))


def test_truncated_package(tmp_path: Path) -> None:
    package = small_package()
    assert "not a zip archive (or one cut short)" in refused(
        put(tmp_path, package[: len(package) // 2])
    )


def test_a_damaged_member_is_refused(tmp_path: Path) -> None:
    package = bytearray(small_package())
    start = package.find(b"collection.anki2") + len("collection.anki2")
    for offset in range(start + 50, start + 250):
        package[offset] ^= 0xFF
    assert "damaged" in refused(put(tmp_path, bytes(package)))


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/evil", "media/../../x", "C:/evil"])
def test_members_pointing_outside_the_package_are_refused(tmp_path: Path, name: str) -> None:
    data = zip_bytes({"collection.anki2": b"x", name: b"boom"})
    assert "points outside the package" in refused(put(tmp_path, data))


def test_a_zip_without_a_collection_is_not_an_anki_package(tmp_path: Path) -> None:
    data = zip_bytes({"readme.txt": b"hello", "photo.jpg": b"\xff\xd8"})
    assert "not an Anki package" in refused(put(tmp_path, data, "photos.zip"))


def test_a_collection_that_is_not_sqlite(tmp_path: Path) -> None:
    data = zip_bytes({"collection.anki2": b"this is not a database" * 100})
    assert "not a readable SQLite database" in refused(put(tmp_path, data))


def test_a_sqlite_file_that_is_not_an_anki_collection(tmp_path: Path) -> None:
    database = tmp_path / "other.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE people (name TEXT)")
    connection.close()
    data = zip_bytes({"collection.anki2": database.read_bytes()})
    assert "not a usable Anki collection (it has no cards, col, notes table)" in refused(
        put(tmp_path, data)
    )


def test_a_package_from_a_newer_anki(tmp_path: Path) -> None:
    data = zip_bytes({"meta": b"\x08\x09", "collection.anki21c": b"?"})
    assert "newer Anki" in refused(put(tmp_path, data))


def test_meta_naming_a_missing_collection(tmp_path: Path) -> None:
    data = zip_bytes({"meta": b"\x08\x03", "collection.anki2": b"dummy"})
    assert "collection.anki21b" in refused(put(tmp_path, data))


def test_a_deflate_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    path = deflate_bomb(tmp_path / "bomb.apkg", megabytes=64)
    assert path.stat().st_size < 1024 * 1024
    assert "zip bomb" in refused(path)


def test_a_member_claiming_gigabytes_is_refused(tmp_path: Path) -> None:
    lying = with_declared_size(small_package(), "collection.anki2", 3 * 1024**3)
    assert "zip bomb" in refused(put(tmp_path, lying))


def test_a_member_larger_than_it_claims_is_cut_off_and_refused(tmp_path: Path) -> None:
    lying = with_declared_size(small_package(), "collection.anki2", 1024)
    message = refused(put(tmp_path, lying))
    assert "damaged" in message or "SQLite" in message


def test_a_zstd_bomb_inside_a_current_package_is_refused(tmp_path: Path) -> None:
    data = zstd_bomb(megabytes=64)
    assert len(data) < 1024 * 1024
    assert "zip bomb" in refused(put(tmp_path, data))


def test_a_directory_and_a_missing_file(tmp_path: Path) -> None:
    assert "folder" in refused(tmp_path)
    assert "no such file" in refused(tmp_path / "missing.apkg")


def test_an_encrypted_member_is_refused(tmp_path: Path) -> None:
    data = bytearray(zip_bytes({"collection.anki2": b"secret" * 100}))
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        position = data.find(signature)
        data[position + flag_offset] |= 0x01
    assert "encrypted" in refused(put(tmp_path, bytes(data)))


def test_nothing_is_written_next_to_the_package(tmp_path: Path) -> None:
    data = zip_bytes({"collection.anki2": small_package_collection(tmp_path), "x/../../y": b""})
    refused(put(tmp_path, data))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.apkg", "small.apkg"]


def small_package_collection(tmp_path: Path) -> bytes:
    package = put(tmp_path, small_package(), "small.apkg")
    with zipfile.ZipFile(package) as archive:
        return archive.read("collection.anki2")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_give_a_format_error_or_a_result(tmp_path: Path, data: bytes) -> None:
    path = put(tmp_path, data)
    try:
        result = parse(path)
    except FormatError as error:
        assert str(path) in str(error)
    else:
        assert all(isinstance(card, CardDraft) for card in result.cards)


_DATABASE = zipfile.ZipFile(io.BytesIO(small_package())).read("collection.anki2")


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.integers(0, len(_DATABASE) - 1), st.integers(0, 255)), max_size=12))
def test_corrupted_collections_give_a_format_error_or_a_result(
    tmp_path: Path, changes: list[tuple[int, int]]
) -> None:
    database = bytearray(_DATABASE)
    for offset, value in changes:
        database[offset] = value
    path = put(tmp_path, zip_bytes({"collection.anki2": bytes(database)}))
    try:
        result = parse(path)
    except FormatError as error:
        assert str(path) in str(error)
    else:
        assert all(isinstance(card, CardDraft) for card in result.cards)
