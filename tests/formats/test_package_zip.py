"""A package's zip: standard deflate however it is split, read back by any zip reader."""

from __future__ import annotations

import io
import random
import time
import zipfile
import zlib

import pytest

from studyapp.formats import package_zip
from studyapp.formats.package_zip import deflate, zip_archive


def sample(size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    words = [b"gradient ", b"loss ", b"\x00\x01", b"momentum ", rng.randbytes(7)]
    return b"".join(rng.choice(words) for _ in range(size // 6))[:size]


@pytest.fixture(autouse=True, params=["installed", "zlib"])
def small_pieces(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Pieces of 1,000 bytes, compressed by ISA-L where it is installed, and by zlib (as
    on a machine without it)."""
    monkeypatch.setattr(package_zip, "PIECE", 1000)
    if request.param == "zlib":
        monkeypatch.setattr(package_zip, "COMPRESSOR", zlib)


@pytest.mark.parametrize("size", [0, 1, 999, 1000, 1001, 25_500])
def test_data_deflated_in_pieces_inflates_back(size: int) -> None:
    data = sample(size, seed=size)
    assert zlib.decompress(deflate(data), -zlib.MAX_WBITS) == data


def test_the_archive_reads_back_with_its_names_dates_and_data() -> None:
    members = [("collection.anki2", sample(12_345, seed=2)), ("media", b"{}")]
    archive = zip_archive(members, time.gmtime(1_700_000_001))
    assert zip_archive(members, time.gmtime(1_700_000_001)) == archive
    with zipfile.ZipFile(io.BytesIO(archive)) as read:
        assert read.testzip() is None
        assert [(i.filename, i.date_time) for i in read.infolist()] == [
            ("collection.anki2", (2023, 11, 14, 22, 13, 20)),
            ("media", (2023, 11, 14, 22, 13, 20)),
        ]
        assert [read.read(name) for name, _ in members] == [data for _, data in members]
