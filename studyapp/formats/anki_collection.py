"""Read the notes, cards, note types and decks out of the SQLite collection inside a package.

Anki has stored collections in two schemas. The legacy one (schema 11, written by genanki and
by "support older Anki versions" exports) keeps note types and decks as JSON in the `col`
row. The current one (schema 18, inside `collection.anki21b`) has `notetypes`, `fields`,
`templates` and `decks` tables whose settings are protobuf messages; the few values needed
here (cloze or not, the two template texts) are read with a small wire-format decoder, so
the app never needs Anki itself. Everything comes out as plain records; the connection is
only read.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


class DamagedCollection(Exception):
    """The collection does not hold what an Anki collection must; the message says what."""


@dataclass(frozen=True)
class Template:
    name: str
    question: str
    answer: str


@dataclass(frozen=True)
class NoteType:
    id: int
    name: str
    cloze: bool
    fields: tuple[str, ...]
    templates: tuple[Template, ...]


@dataclass(frozen=True)
class AnkiCard:
    ord: int
    deck_id: int
    id: int = 0
    type: int = 0  # 0 new, 1 learning, 2 review, 3 relearning
    queue: int = 0  # -1 suspended, -2/-3 buried, 1 learning (due a time), 3 day-learning
    due: int = 0  # new: position; review and day-learning: a day number; learning: a time
    interval: int = 0  # days (review cards)
    factor: int = 0  # ease in thousandths
    lapses: int = 0
    data: str = ""  # JSON: FSRS's memory state ("s", "d") when Anki's FSRS gave one
    unreadable: str = ""  # a schedule number that is not an integer, said as a phrase
    reps: int = 0  # how many times Anki has had it answered


@dataclass(frozen=True)
class AnkiReview:
    """One entry of Anki's review log: `id` is its time in milliseconds since the epoch."""

    id: int
    card_id: int
    ease: int  # the button: 1 Again, 2 Hard, 3 Good, 4 Easy; 0 for a reschedule by hand
    interval: int  # after it: days, or negative seconds while learning
    last_interval: int
    factor: int
    time_ms: int
    type: int  # 0 learning, 1 review, 2 relearning, 3 filtered, 4 manual, 5 rescheduled
    unreadable: str = ""  # a number that is not an integer, said as a phrase


@dataclass(frozen=True)
class Timing:
    """What Anki needs to tell which day number is today in this collection."""

    created: int  # seconds since the epoch
    scheduler_version: int = 1
    rollover_hour: int | None = None
    creation_offset: int | None = None  # minutes west of UTC where it was created


@dataclass(frozen=True)
class AnkiNote:
    id: int
    guid: str
    notetype_id: int
    tags: tuple[str, ...]
    fields: tuple[str, ...]
    cards: tuple[AnkiCard, ...]


@dataclass
class AnkiCollection:
    notetypes: dict[int, NoteType] = field(default_factory=dict)
    decks: dict[int, str] = field(default_factory=dict)
    notes: list[AnkiNote] = field(default_factory=list)
    reviews: dict[int, list[AnkiReview]] = field(default_factory=dict)  # by card id, oldest first
    timing: Timing = field(default_factory=lambda: Timing(0))


def read_collection(connection: sqlite3.Connection) -> AnkiCollection:
    """Every note with its cards, plus the note types and deck names they refer to."""
    tables = {name for (name,) in connection.execute(_TABLES)}
    missing = {"col", "notes", "cards"} - tables
    if missing:
        raise DamagedCollection(f"it has no {', '.join(sorted(missing))} table")
    if "notetypes" in tables:
        notetypes, decks = _current_schema(connection, tables)
        timing = _current_timing(connection, tables)
    else:
        notetypes, decks = _legacy_schema(connection)
        timing = _legacy_timing(connection)
    reviews = _reviews(connection) if "revlog" in tables else {}
    return AnkiCollection(
        notetypes=notetypes,
        decks=decks,
        notes=list(_notes(connection)),
        reviews=reviews,
        timing=timing,
    )


# Only real tables are read: a view could make a query run without end.
_TABLES = "SELECT name FROM sqlite_master WHERE type = 'table'"


def _notes(connection: sqlite3.Connection) -> Iterator[AnkiNote]:
    cards: dict[int, list[AnkiCard]] = {}
    for row in connection.execute(
        "SELECT nid, ord, did, odid, id, type, queue, due, odue, ivl, factor, lapses, data,"
        " reps FROM cards ORDER BY nid, ord"
    ):
        note_id, ord_, deck_id, original_deck, card_id, kind, queue, due, original_due = row[:9]
        interval, factor, lapses, data, reps = row[9:]
        deck = _integer(original_deck) or _integer(deck_id)
        # A card in a filtered deck keeps its home deck's due day aside.
        if _integer(original_deck) and original_due:
            due = original_due
        numbers = _Whole()
        card = AnkiCard(
            _integer(ord_),
            deck,
            _integer(card_id),
            numbers("type", kind),
            numbers("queue", queue),
            numbers("due", due),
            numbers("interval (ivl)", interval),
            numbers("ease factor", factor),
            numbers("lapses", lapses),
            _text(data),
            numbers.problem,
            _integer(reps),
        )
        cards.setdefault(_integer(note_id), []).append(card)
    for note_id, guid, notetype_id, tags, fields in connection.execute(
        "SELECT id, guid, mid, tags, flds FROM notes ORDER BY id"
    ):
        nid = _integer(note_id)
        yield AnkiNote(
            id=nid,
            guid=_text(guid),
            notetype_id=_integer(notetype_id),
            tags=tuple(_text(tags).split()),
            fields=tuple(_text(fields).split("\x1f")),
            cards=tuple(cards.get(nid, ())),
        )


def _reviews(connection: sqlite3.Connection) -> dict[int, list[AnkiReview]]:
    reviews: dict[int, list[AnkiReview]] = {}
    for row in connection.execute(
        "SELECT id, cid, ease, ivl, lastIvl, factor, time, type FROM revlog ORDER BY cid, id"
    ):
        numbers = _Whole()
        values = [numbers(name, value) for name, value in zip(_REVLOG_NAMES, row, strict=True)]
        review = AnkiReview(*values, unreadable=numbers.problem)
        reviews.setdefault(review.card_id, []).append(review)
    return reviews


def _legacy_timing(connection: sqlite3.Connection) -> Timing:
    row = connection.execute("SELECT crt, conf FROM col").fetchone()
    if row is None:
        return Timing(0)
    try:
        conf = json.loads(_text(row[1]) or "{}")
    except (ValueError, RecursionError):
        conf = {}
    if not isinstance(conf, dict):
        conf = {}
    return _timing(_integer(row[0]), conf.get)


def _current_timing(connection: sqlite3.Connection, tables: set[str]) -> Timing:
    row = connection.execute("SELECT crt FROM col").fetchone()
    settings: dict[str, Any] = {}
    if "config" in tables:
        for key, value in connection.execute(
            "SELECT key, val FROM config WHERE key IN ('schedVer', 'rollover', 'creationOffset')"
        ):
            try:
                settings[_text(key)] = json.loads(_text(value))
            except (ValueError, RecursionError):
                continue
    # The current schema is only written by Anki versions that schedule with v2 or later.
    settings.setdefault("schedVer", 2)
    return _timing(_integer(row[0]) if row else 0, settings.get)


def _timing(created: int, setting: Any) -> Timing:
    def optional(name: str) -> int | None:
        value = setting(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    return Timing(
        created=created,
        scheduler_version=optional("schedVer") or 1,
        rollover_hour=optional("rollover"),
        creation_offset=optional("creationOffset"),
    )


def _legacy_schema(
    connection: sqlite3.Connection,
) -> tuple[dict[int, NoteType], dict[int, str]]:
    row = connection.execute("SELECT models, decks FROM col").fetchone()
    if row is None:
        raise DamagedCollection("its col table is empty")
    models, decks = _json_object(row[0], "note type"), _json_object(row[1], "deck")
    notetypes: dict[int, NoteType] = {}
    for key, model in models.items():
        if not isinstance(model, dict):
            raise DamagedCollection(f"note type {key} is not an object")
        fields = sorted(_list_of_objects(model.get("flds"), key), key=_by_ord)
        templates = sorted(_list_of_objects(model.get("tmpls"), key), key=_by_ord)
        notetype_id = _integer(model.get("id", key))
        notetypes[notetype_id] = NoteType(
            id=notetype_id,
            name=_text(model.get("name", "")),
            cloze=model.get("type") == 1,
            fields=tuple(_text(item.get("name", "")) for item in fields),
            templates=tuple(
                Template(
                    _text(item.get("name", "")),
                    _text(item.get("qfmt", "")),
                    _text(item.get("afmt", "")),
                )
                for item in templates
            ),
        )
    names = {
        _integer(deck.get("id", key)): _text(deck.get("name", ""))
        for key, deck in decks.items()
        if isinstance(deck, dict)
    }
    return notetypes, names


def _current_schema(
    connection: sqlite3.Connection, tables: set[str]
) -> tuple[dict[int, NoteType], dict[int, str]]:
    missing = {"fields", "templates", "decks"} - tables
    if missing:
        raise DamagedCollection(f"it has no {', '.join(sorted(missing))} table")
    fields: dict[int, list[str]] = {}
    for ntid, name in connection.execute("SELECT ntid, name FROM fields ORDER BY ntid, ord"):
        fields.setdefault(_integer(ntid), []).append(_text(name))
    templates: dict[int, list[Template]] = {}
    for ntid, name, config in connection.execute(
        "SELECT ntid, name, config FROM templates ORDER BY ntid, ord"
    ):
        message = _protobuf(config)
        templates.setdefault(_integer(ntid), []).append(
            Template(_text(name), _proto_text(message, 1), _proto_text(message, 2))
        )
    notetypes: dict[int, NoteType] = {}
    for ntid, name, config in connection.execute("SELECT id, name, config FROM notetypes"):
        notetype_id = _integer(ntid)
        kind = _protobuf(config).get(1, [0])[-1]
        notetypes[notetype_id] = NoteType(
            id=notetype_id,
            name=_text(name),
            cloze=kind == 1,
            fields=tuple(fields.get(notetype_id, ())),
            templates=tuple(templates.get(notetype_id, ())),
        )
    # The current schema separates deck levels with \x1f where the legacy one wrote "::".
    decks = {
        _integer(did): _text(name).replace("\x1f", "::")
        for did, name in connection.execute("SELECT id, name FROM decks")
    }
    return notetypes, decks


def _protobuf(blob: object) -> dict[int, list[Any]]:
    """The top-level fields of a protobuf message: varints as ints, the rest as bytes."""
    data = blob if isinstance(blob, bytes) else b""
    fields: dict[int, list[Any]] = {}
    position = 0
    while position < len(data):
        key, position = _varint(data, position)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, position = _varint(data, position)
        elif wire == 2:
            length, position = _varint(data, position)
            value, position = data[position : position + length], position + length
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, position = data[position : position + size], position + size
        else:
            raise DamagedCollection(f"a note type setting uses protobuf wire type {wire}")
        if position > len(data):
            raise DamagedCollection("a note type setting is cut short")
        fields.setdefault(number, []).append(value)
    return fields


def _varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if position >= len(data) or shift > 63:
            raise DamagedCollection("a note type setting is cut short")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, position


def _proto_text(message: dict[int, list[Any]], number: int) -> str:
    values = [v for v in message.get(number, []) if isinstance(v, bytes)]
    return values[-1].decode("utf-8", errors="replace") if values else ""


def _json_object(value: object, what: str) -> dict[str, Any]:
    try:
        parsed = json.loads(_text(value) or "{}")
    except (ValueError, RecursionError) as error:
        raise DamagedCollection(f"its {what} list is not valid JSON ({error})") from None
    if not isinstance(parsed, dict):
        raise DamagedCollection(f"its {what} list is not a JSON object")
    return parsed


def _list_of_objects(value: object, notetype: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise DamagedCollection(f"note type {notetype} has malformed fields or templates")
    return value


def _by_ord(item: dict[str, Any]) -> int:
    return _integer(item.get("ord", 0))


# The review log's columns, as a message names them.
_REVLOG_NAMES = (
    "id",
    "card id",
    "button",
    "interval",
    "last interval",
    "ease factor",
    "time",
    "type",
)


_INTEGER_TEXT = re.compile(r"\s*[+-]?[0-9]+\s*")


class _Whole:
    """Reads a row's numbers: an integer as it is (a real one with no fraction that an
    integer could hold, too); anything else as 0, its name and value kept in `problem` for
    the first of them, so that the card or log entry is refused, not read as 0."""

    def __init__(self) -> None:
        self.problem = ""

    def __call__(self, name: str, value: object) -> int:
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
            return int(value)
        if isinstance(value, str | bytes):
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            if _INTEGER_TEXT.fullmatch(text):
                return int(text)
        if not self.problem:
            shown = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:37]}..."
            self.problem = f"its {name} {shown} is not an integer"
        return 0


def _integer(value: object) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        return 0


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)
