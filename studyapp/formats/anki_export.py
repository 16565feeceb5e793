"""Write studyapp decks as an Anki package that current Anki imports with every card.

genanki writes a legacy package (`collection.anki2`), which every Anki since 2.1 imports.
Each card becomes one note of a fixed two-field note type, so Anki makes exactly one card of
it. Ids are derived rather than random: the note type id is a constant, a deck's id comes
from its name and a note's guid from the card's uid, so exporting again and importing into
Anki updates the same notes instead of adding copies.

Card text is data: it is HTML-escaped, newlines become `<br>`, and leading or repeated
spaces and tabs are written as character references, so `w[i] <- w[i] - lr` or `<tag>`
reaches Anki (and comes back through our own import) exactly as written.
"""

from __future__ import annotations

import hashlib
import html
import io
import itertools
import re
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import genanki

from studyapp.formats.base import ExportCard, ExportDeck
from studyapp.model import normalize_tags

# Fixed forever: Anki recognises the note type by this id across exports.
MODEL_ID = 1_730_462_811
MODEL_NAME = "Basic (studyapp)"
DEFAULT_DECK_ID = 1  # Anki's own "Default" deck
_SIGNIFICANT_SPACE = re.compile(r"(?<=[ \t])[ \t]|^[ \t]|\t")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_CSS = """.card {
    font-family: arial;
    font-size: 20px;
    text-align: left;
    color: black;
    background-color: white;
}
"""


def export_apkg(decks: Sequence[ExportDeck], *, timestamp: float | None = None) -> bytes:
    """The bytes of an `.apkg` holding every card of `decks`, one Basic note per card.

    `timestamp` (default: now) stamps the notes; Anki updates a note it already has only
    from a package whose note is newer.
    """
    model = _model()
    package = genanki.Package([_deck(deck, model) for deck in decks])
    timestamp = time.time() if timestamp is None else timestamp
    with tempfile.TemporaryDirectory(prefix="studyapp-apkg-") as folder:
        database = Path(folder) / "collection.anki2"
        with closing(sqlite3.connect(database)) as connection:
            ids = itertools.count(int(timestamp * 1000))
            package.write_to_db(connection.cursor(), timestamp, ids)
            connection.commit()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(database, "collection.anki2")
            archive.writestr("media", "{}")
    return buffer.getvalue()


def text_to_html(text: str) -> str:
    """Field HTML that shows `text` as written: escaped, line breaks as `<br>`."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br>".join(
        _SIGNIFICANT_SPACE.sub(_space_reference, html.escape(line, quote=False)) for line in lines
    )


def deck_id(name: str) -> int:
    """A deck's Anki id, the same on every export of a deck of this name."""
    if name == "Default":
        return DEFAULT_DECK_ID
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return (1 << 30) + int.from_bytes(digest[:8], "big") % (1 << 30)


def _space_reference(match: re.Match[str]) -> str:
    return "&nbsp;" if match.group(0) == " " else "&#9;"


def _model() -> genanki.Model:
    # Built per export: genanki fills in defaults by mutating the field and template dicts.
    return genanki.Model(
        MODEL_ID,
        MODEL_NAME,
        fields=[{"name": "Front"}, {"name": "Back"}],
        templates=[
            {
                "name": "Card 1",
                "qfmt": "{{Front}}",
                "afmt": "{{FrontSide}}\n\n<hr id=answer>\n\n{{Back}}",
            }
        ],
        css=_CSS,
    )


def _deck(deck: ExportDeck, model: genanki.Model) -> genanki.Deck:
    # Anki shows the description as HTML: notes kept in comments stay hidden, text is escaped.
    description = text_to_html(_COMMENT.sub("", deck.description).strip())
    anki_deck = genanki.Deck(deck_id(deck.name), deck.name, description=description)
    for card in deck.cards:
        anki_deck.add_note(_note(card, model))
    return anki_deck


def _note(card: ExportCard, model: genanki.Model) -> genanki.Note:
    # An empty Front would make Anki drop the card, so an empty front is a visible space.
    front = text_to_html(card.front) if card.front.strip() else "&nbsp;"
    return genanki.Note(
        model=model,
        fields=[front, text_to_html(card.back)],
        tags=list(normalize_tags(card.tags)),
        guid=genanki.guid_for("studyapp", card.uid),
    )
