"""Anki packages for the tests, built at test time: by real Anki, by genanki, and by hand.

Real Anki (the `anki` package, a test-only dependency) makes a collection with the stock
note types, HTML, entities, tags, nested decks, empty cards and clozes, and exports it in
both the current (`collection.anki21b`) and the legacy (`collection.anki21`) layout. genanki
makes the kind of package scripts write. The hostile files are small zips crafted to lie.
"""

from __future__ import annotations

import io
import sqlite3
import struct
import zipfile
from contextlib import closing
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import genanki
import pytest
import zstandard

DECK = "Deep Learning"
OPTIMIZERS = "Deep Learning::Optimizers"
ACTIVATIONS = "Deep Learning::Activations"

# Custom note type exercising conditionals and filters Anki renders in a browser.
CUSTOM_FRONT = "{{Term}}{{#Hint}}<br>{{hint:Hint}}{{/Hint}}"
CUSTOM_BACK = (
    "{{FrontSide}}<hr id=answer>{{text:Definition}}"
    "{{#Example}}<br>e.g. {{Example}}{{/Example}}{{^Example}}<br>(no example){{/Example}}"
)


@dataclass(frozen=True)
class AnkiPackages:
    collection: Path  # the Anki collection the packages were exported from
    current: Path  # collection.anki21b, zstd
    legacy: Path  # collection.anki21
    genanki: Path  # collection.anki2 as genanki writes it
    with_media: Path  # current layout, with the image and sound the notes refer to


_built: dict[Path, AnkiPackages] = {}


def anki_packages(factory: pytest.TempPathFactory) -> AnkiPackages:
    """The packages, built once per test session."""
    key = factory.getbasetemp()
    if key not in _built:
        folder = factory.mktemp("anki")
        collection = folder / "source.anki2"
        col = build_collection(collection)
        try:
            current = export_package(col, folder / "current.apkg", legacy=False)
            legacy = export_package(col, folder / "legacy.apkg", legacy=True)
            media = export_package(col, folder / "media.apkg", legacy=False, with_media=True)
        finally:
            col.close()
        scripted = build_genanki_package(folder / "genanki.apkg")
        _built[key] = AnkiPackages(collection, current, legacy, scripted, media)
    return _built[key]


def build_collection(path: Path) -> Any:
    """A real Anki collection with one note of every kind the importer must render."""
    collection_module = pytest.importorskip("anki.collection")
    col = collection_module.Collection(str(path))
    models = col.models
    optimizers, activations = col.decks.id(OPTIMIZERS), col.decks.id(ACTIVATIONS)
    general = col.decks.id(DECK)

    def add(model_name: str, deck: int, tags: tuple[str, ...] = (), **fields: str) -> Any:
        note = col.new_note(models.by_name(model_name))
        for name, value in fields.items():
            note[name.replace("_", " ")] = value
        note.tags = list(tags)
        col.add_note(note, deck)
        return note

    add(
        "Basic",
        optimizers,
        ("optimizers", "dl::adam"),
        Front="What does <b>Adam</b> keep per weight?",
        Back="<div>Two moving averages:</div><ul><li>the mean of gradients</li>"
        "<li>the mean of squared gradients</li></ul>",
    )
    add(
        "Basic",
        optimizers,
        ("fundamentals",),
        Front="Is 3 &lt; 5 &amp;&amp; 5 &gt; 3?",
        Back="Yes&nbsp;&mdash; always.<br><br><br>Steps:<ol><li>forward</li><li>backward</li></ol>",
    )
    add(
        "Basic",
        activations,
        Front='Plot of \\(\\sigma(x)\\): <img src="sigmoid.png">',
        Back="[sound:sigmoid.mp3]<div>An S-shaped curve</div>",
    )
    col.media.write_data("sigmoid.png", b"\x89PNG\r\n\x1a\n not really an image")
    col.media.write_data("sigmoid.mp3", b"ID3 not really a sound")
    add("Basic (and reversed card)", activations, ("activations",), Front="ReLU", Back="max(0, x)")
    add("Basic (optional reversed card)", general, Front="Epoch", Back="One pass over the data")
    add(
        "Basic (optional reversed card)",
        general,
        Front="Batch",
        Back="Examples per step",
        Add_Reverse="y",
    )
    add("Basic (type in the answer)", general, Front="Default Adam lr?", Back="0.001")
    add(
        "Cloze",
        general,
        ("regularization",),
        Text="{{c1::Dropout}} zeroes {{c2::activations::what?}} during {{c3::training}}",
        Back_Extra="A regulariser",
    )
    add("Cloze", general, Text="{{c1::outer {{c2::inner}} text}} stays")
    empty = add("Basic", general, Front="soon empty", Back="orphan answer")
    empty["Front"] = ""
    col.update_note(empty)
    shrunk = add("Cloze", general, Text="{{c1::kept}} and {{c2::removed}}")
    shrunk["Text"] = "{{c1::kept}} and removed"
    col.update_note(shrunk)

    custom = models.new("Term card")
    for name in ("Term", "Definition", "Hint", "Example"):
        models.add_field(custom, models.new_field(name))
    template = models.new_template("Recall")
    template["qfmt"], template["afmt"] = CUSTOM_FRONT, CUSTOM_BACK
    models.add_template(custom, template)
    models.add(custom)
    add("Term card", general, Term="Overfitting", Definition="<i>Memorising</i> noise")
    add(
        "Term card",
        general,
        Term="Momentum",
        Definition="Velocity of updates",
        Hint="physics",
        Example="a ball rolling downhill",
    )
    return col


def export_package(col: Any, out: Path, *, legacy: bool, with_media: bool = False) -> Path:
    collection_module = pytest.importorskip("anki.collection")
    options = collection_module.ExportAnkiPackageOptions(
        with_scheduling=False, with_deck_configs=False, with_media=with_media, legacy=legacy
    )
    col.export_anki_package(out_path=str(out), options=options, limit=None)
    return out


GENANKI_BASIC = genanki.Model(
    1_607_392_319,
    "Scripted Basic",
    fields=[{"name": "Question"}, {"name": "Answer"}],
    templates=[
        {"name": "Card 1", "qfmt": "{{Question}}", "afmt": "{{FrontSide}}<hr id=answer>{{Answer}}"}
    ],
)
GENANKI_CLOZE = genanki.Model(
    998_877_661,
    "Scripted Cloze",
    fields=[{"name": "Text"}, {"name": "Extra"}],
    templates=[{"name": "Cloze", "qfmt": "{{cloze:Text}}", "afmt": "{{cloze:Text}}<br>{{Extra}}"}],
    model_type=genanki.Model.CLOZE,
)


def build_genanki_package(path: Path) -> Path:
    deck = genanki.Deck(2_059_400_110, "Scripted::CNN")
    deck.add_note(
        genanki.Note(
            GENANKI_BASIC,
            ["What does a 3&times;3 conv see?", "A 3&times;3 patch<br>of every channel"],
            tags=["cnn"],
            guid="scripted-1",
        )
    )
    deck.add_note(
        genanki.Note(
            GENANKI_CLOZE,
            ["Pooling {{c1::shrinks}} the {{c2::feature map}}", ""],
            tags=["cnn", "pooling"],
            guid="scripted-2",
        )
    )
    # genanki's own write_to_file leaves its database in the system temp folder; this doesn't.
    database = path.with_suffix(".anki2")
    with closing(sqlite3.connect(database)) as connection:
        timestamp = 1_700_000_000
        genanki.Package(deck).write_to_db(connection.cursor(), timestamp, count(timestamp * 1000))
        connection.commit()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(database, "collection.anki2")
        archive.writestr("media", "{}")
    return path


# Hostile and broken packages.


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def with_declared_size(package: bytes, member: str, size: int) -> bytes:
    """The package with `member`'s size in the central directory changed to `size`."""
    data = bytearray(package)
    encoded = member.encode()
    position = data.find(b"PK\x01\x02")
    while position != -1:
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        if data[position + 46 : position + 46 + name_length] == encoded:
            struct.pack_into("<I", data, position + 24, size)
            return bytes(data)
        position = data.find(b"PK\x01\x02", position + 4)
    raise ValueError(f"no member {member}")


def deflate_bomb(path: Path, megabytes: int) -> Path:
    """A zip whose collection is `megabytes` of zeros, written in chunks to stay small."""
    chunk = bytes(1024 * 1024)
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("collection.anki2", "w", force_zip64=True) as member,
    ):
        for _ in range(megabytes):
            member.write(chunk)
    return path


def zstd_bomb(megabytes: int) -> bytes:
    """A current-format package whose zstd collection expands to `megabytes` of zeros."""
    compressor = zstandard.ZstdCompressor(level=1).compressobj()
    chunk = bytes(1024 * 1024)
    packed = b"".join(compressor.compress(chunk) for _ in range(megabytes)) + compressor.flush()
    return zip_bytes({"meta": b"\x08\x03", "collection.anki21b": packed})
