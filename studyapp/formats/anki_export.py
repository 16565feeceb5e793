"""Write studyapp decks as an Anki package that every Anki since 2.1 imports with every card.

The package is a legacy one: a schema 11 `collection.anki2` (note types, decks and deck
options as JSON in the `col` row) zipped with an empty media list. The collection is
written here directly, because building an object per card made large exports slow: notes
are worked out in one loop and inserted with their cards in bulk, on a second thread while
the loop goes on (see _Writer), and it has only the one index an importer uses (see
_INDEXES).

Each card becomes one note of a fixed note type whose only template shows Front, then
Back; a third field, `studyapp id`, holds the card's uid without being shown, so a card
edited in Anki and imported back updates the studyapp card it came from. Ids are derived
rather than random: the note type id is a constant, a deck's id comes from its name and a
note's guid from the card's uid, so exporting again and importing into Anki updates the
same notes instead of adding copies.

The note type's id and name are new with the `studyapp id` field: Anki takes a known id to
mean a known field list, so the two-field note type of earlier exports (id 1_730_462_811,
"Basic (studyapp)") keeps its id and name, and this one has its own. Notes keep their
guids, so Anki still recognises notes imported from earlier exports; with its default
import options it reports them as having a changed note type and leaves them as they are,
and with "merge note types" it updates them onto the new note type.

Each card goes with its schedule and review log, as Anki keeps them: a new card stays new;
a card that has passed is a review card with its interval, ease, lapses and due day (and its
passes in a row, which SM-2 needs and Anki does not keep, in the card's custom data); one
failed or never passed is in (re)learning, due on its day. Log entries carry the button
(ratings 1 and 2 are Again, 3 Hard, 4 Good, 5 Easy). Anki keeps due days as a count of days
since the collection was created and, on import, moves them by the difference between the
package's day and its own, so a card due in 12 days here is due in 12 days there (when
"Import any learning progress" is ticked). An FSRS memory state goes in the card's data,
where Anki's own FSRS reads it.

Card text is data: it is HTML-escaped, newlines become `<br>`, and leading or repeated
spaces and tabs are written as character references, so `w[i] <- w[i] - lr` or `<tag>`
reaches Anki (and comes back through our own import) exactly as written.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import sqlite3
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import date, datetime
from operator import itemgetter
from typing import Any

from studyapp.formats.anki_collection import Timing
from studyapp.formats.anki_html import text_to_html
from studyapp.formats.anki_schedule import (
    ANSWERS_KEY,
    DAY_LEARNING_QUEUE,
    LEARNING_TYPE,
    RELEARNING_TYPE,
    REPETITIONS_KEY,
    REVIEW_TYPE,
    days_elapsed,
)
from studyapp.formats.base import ExportCard, ExportDeck
from studyapp.formats.package_zip import zip_archive
from studyapp.model import normalize_tags
from studyapp.scheduling import DEFAULT_DAY_START_HOUR, study_day
from studyapp.sqlite_rows import Shared, bound_limit_of, insert_columns

# The package's creation time. Its days are counted as Anki's v2 scheduler counts them:
# local days since then, rolling over at 04:00 (a v1 package would have Anki convert its
# learning log entries' buttons as v1's three-button learning steps).
CREATED = 1_411_124_400
ROLLOVER_HOUR = 4
# Our ratings onto Anki's buttons (1 Again, 2 Hard, 3 Good, 4 Easy).
ANKI_BUTTON = {1: 1, 2: 1, 3: 2, 4: 3, 5: 4}
# A review's kind as Anki's log type (0 learning, 1 review, 2 relearning).
_REVLOG_TYPE = {"new": 0, "review": 1, "relearn": 2}
MAX_REVIEW_TIME_MS = 60_000  # Anki counts at most a minute on a card

# Fixed forever: Anki recognises the note type by this id across exports.
MODEL_ID = 1_275_038_282
MODEL_NAME = "Basic (with studyapp id)"
UID_FIELD = "studyapp id"
DEFAULT_DECK_ID = 1  # Anki's own "Default" deck
GUID_NAMESPACE = "studyapp"
_ZIP_EPOCH = 315_532_800  # 1980-01-01

_UID, _FRONT, _BACK = itemgetter(0), itemgetter(1), itemgetter(2)  # of an ExportCard
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HTML_TAG = re.compile(r"<.*?>", re.DOTALL)
_BASE91 = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"
)
_BASE91_PAIRS = [high + low for high in _BASE91 for low in _BASE91]  # two digits at a time
_CSS = """.card {
    font-family: arial;
    font-size: 20px;
    text-align: left;
    color: black;
    background-color: white;
}
"""

# The schema 11 tables, as Anki 2.1 created them.
_TABLES = """
CREATE TABLE col (
    id integer primary key, crt integer not null, mod integer not null,
    scm integer not null, ver integer not null, dty integer not null, usn integer not null,
    ls integer not null, conf text not null, models text not null, decks text not null,
    dconf text not null, tags text not null
);
CREATE TABLE notes (
    id integer primary key, guid text not null, mid integer not null, mod integer not null,
    usn integer not null, tags text not null, flds text not null, sfld integer not null,
    csum integer not null, flags integer not null, data text not null
);
CREATE TABLE cards (
    id integer primary key, nid integer not null, did integer not null,
    ord integer not null, mod integer not null, usn integer not null, type integer not null,
    queue integer not null, due integer not null, ivl integer not null,
    factor integer not null, reps integer not null, lapses integer not null,
    left integer not null, odue integer not null, odid integer not null,
    flags integer not null, data text not null
);
CREATE TABLE revlog (
    id integer primary key, cid integer not null, usn integer not null,
    ease integer not null, ivl integer not null, lastIvl integer not null,
    factor integer not null, time integer not null, type integer not null
);
CREATE TABLE graves (usn integer not null, oid integer not null, type integer not null);
"""
# Of Anki's indexes, only the one an importer looks up by: Anki's legacy importer (its only
# one before 2.1.50) reads each card's review log with `WHERE cid = ?`. The others serve a
# collection in use (syncing, the study queue, duplicate checks), which a package never is:
# importers read its notes and cards whole into their own collection, under its own
# indexes. Without them the collection is a fifth smaller, takes a fifth less time to
# write, and Anki imports 100,000 cards from it as fast.
_INDEXES = "CREATE INDEX ix_revlog_cid ON revlog (cid);"


def export_apkg(decks: Sequence[ExportDeck], *, timestamp: float | None = None) -> bytes:
    """The bytes of an `.apkg` holding every card of `decks`, one note per card.

    `timestamp` (default: now) stamps the notes and the package's files; Anki updates a
    note it already has only from a package whose note is newer. The same decks at the
    same timestamp give the same bytes.
    """
    timestamp = time.time() if timestamp is None else timestamp
    members = [("collection.anki2", _collection(decks, timestamp)), ("media", b"{}")]
    return zip_archive(members, time.gmtime(max(timestamp, _ZIP_EPOCH)))


def deck_id(name: str) -> int:
    """A deck's Anki id, the same on every export of a deck of this name."""
    if name == "Default":
        return DEFAULT_DECK_ID
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return (1 << 30) + int.from_bytes(digest[:8], "big") % (1 << 30)


def note_guid(uid: str) -> str:
    """The guid of the note for the card `uid`, as genanki's `guid_for("studyapp", uid)`.

    The first 8 bytes of a SHA-256, written in the base 91 Anki uses for guids; notes
    exported by earlier versions had these guids, so Anki still matches them.
    """
    number = int.from_bytes(hashlib.sha256(f"{GUID_NAMESPACE}__{uid}".encode()).digest()[:8])
    # 8 bytes fit in 10 base-91 digits; genanki wrote no leading zeros ("a").
    number, d0 = divmod(number, 8281)
    number, d1 = divmod(number, 8281)
    number, d2 = divmod(number, 8281)
    d4, d3 = divmod(number, 8281)
    pairs = _BASE91_PAIRS
    guid = f"{pairs[d4]}{pairs[d3]}{pairs[d2]}{pairs[d1]}{pairs[d0]}"
    return guid.lstrip("a") if d4 < 91 else guid  # below 91, it starts with a zero


def sort_field(field: str) -> str:
    """A field as Anki sorts and checksums it: tags removed, `&nbsp;` as a space, other
    character references decoded."""
    if "<" in field:
        field = _HTML_TAG.sub("", field)
    if "&" in field:
        field = html.unescape(field.replace("&nbsp;", " "))
    return field


def _is_plain(text: str) -> bool:
    """Whether `text` is its own field HTML: nothing to escape, no line break, tab or space
    that HTML would collapse (see text_to_html)."""
    return not (
        "&" in text
        or "<" in text
        or ">" in text
        or "\n" in text
        or "\r" in text
        or "\t" in text
        or "\xa0" in text
        or "[" in text
        or "\x1f" in text
        or "  " in text
        or text.startswith(" ")
        or text.endswith(" ")
    )


def _all_plain(texts: Iterable[str]) -> bool:
    """True when every one of `texts` is its own field HTML, found out at once; False when
    one may not be (an empty one among others counts), and each is looked at alone."""
    # Joined by spaces, a space at either end of a text is two in a row, which _is_plain
    # looks for anyway: a search for two characters, one as common as a space, takes a
    # hundred times as long as for one, and this way it is done once, not three times.
    return _is_plain(" ".join(texts))


def _collection(decks: Sequence[ExportDeck], timestamp: float) -> bytes:
    """The `collection.anki2` database holding `decks`, as bytes."""
    modified = int(timestamp)
    first_id = int(timestamp * 1000)
    timing = package_timing(timestamp)
    connection = sqlite3.connect(":memory:", check_same_thread=False)
    with closing(connection):
        with _Writer(connection, modified) as writer:
            scheduled = _write_notes(decks, timestamp, first_id, writer)
        connection.execute(
            f"INSERT INTO col VALUES (1, {CREATED}, ?, ?, 11, 0, 0, 0, ?, ?, ?, ?, '{{}}')",
            (
                first_id,
                first_id,
                json.dumps({**_COLLECTION_CONF, **_timing_conf(timing)}),
                json.dumps({str(MODEL_ID): _model(decks, modified)}),
                json.dumps(_decks(decks)),
                json.dumps(_DECK_OPTIONS),
            ),
        )
        if scheduled:
            now = datetime.fromtimestamp(timestamp).astimezone()
            _schedule(connection, scheduled, days_elapsed(timing, now))
        connection.executescript(_INDEXES)
        connection.commit()
        return connection.serialize()


class _Writer:
    """Notes, and a new card for each, into the package's collection a chunk at a time, on
    a thread of its own.

    SQLite inserts with Python's lock released, so while it writes one chunk of notes the
    loop works out the next: 100,000 cards export in about 0.1 s less (of 0.8 s). Leaving
    the block waits for every chunk, and raises the first insert's error if any.
    """

    CHUNK = 5000  # notes handed over at a time: five statements

    def __init__(self, connection: sqlite3.Connection, modified: int) -> None:
        self._connection = connection
        self._modified = modified
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="anki export")
        # A scratch database, serialized at the end: no journal to keep.
        tables = f"PRAGMA journal_mode = OFF; {_TABLES}"
        self._pending = [self._pool.submit(connection.executescript, tables)]

    def add(self, deck: int, notes: list[tuple[int, str, str, str, str, int]]) -> None:
        """Insert `notes` (id, guid, tags, fields, sort field, checksum), after those before,
        each with its card in the deck of id `deck`."""
        self._pending.append(self._pool.submit(self._insert, deck, notes))

    def _insert(self, deck: int, notes: list[tuple[int, str, str, str, str, int]]) -> None:
        ids, guids, tags, fields, sort_fields, checksums = zip(*notes, strict=True)
        modified = self._modified
        insert_columns(
            self._connection.execute,
            "INSERT INTO notes",  # id guid mid mod usn tags flds sfld csum flags data
            [
                *(ids, guids, Shared(MODEL_ID), Shared(modified), Shared(-1), tags),
                *(fields, sort_fields, checksums, Shared(0), Shared("")),
            ],
            bound_limit_of(self._connection),
        )
        # One new card per note, its id right after the note's.
        self._connection.execute(
            f"INSERT INTO cards SELECT id + 1, id, ?, 0, {modified}, -1, 0, 0, 0, 0, 0, 0, 0, 0,"
            " 0, 0, 0, '' FROM notes WHERE id >= ? AND id <= ?",
            (deck, ids[0], ids[-1]),
        )

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self._pool.shutdown(cancel_futures=kind is not None)
        if kind is None:
            for pending in self._pending:
                pending.result()


def _write_notes(
    decks: Sequence[ExportDeck], timestamp: float, first_id: int, writer: _Writer
) -> list[tuple[int, ExportCard, date]]:
    """Work out every card's note and hand them to `writer`, a deck's in chunks of their
    own; returns the cards that have been studied (or suspended), each with its card id
    and its deck's today."""
    scheduled: list[tuple[int, ExportCard, date]] = []
    tag_lists: dict[tuple[str, ...], str] = {}
    to_html, strip, plain = text_to_html, sort_field, _is_plain
    sha1, sha256, pairs = hashlib.sha1, hashlib.sha256, _BASE91_PAIRS
    chunk = writer.CHUNK
    # Ids come from one counter, a card's right after its note's, as genanki gave them.
    next_id = first_id
    for deck in decks:
        did = deck_id(deck.name)
        notes: list[tuple[int, str, str, str, str, int]] = []
        hour = (deck.settings or {}).get("day_start_hour", DEFAULT_DAY_START_HOUR)
        today = study_day(datetime.fromtimestamp(timestamp), hour)
        # Most text needs no HTML and is its own HTML: one look at the whole deck finds out.
        plain_fronts = _all_plain(map(_FRONT, deck.cards))
        plain_backs = _all_plain(map(_BACK, deck.cards))
        plain_uids = _all_plain(map(_UID, deck.cards))
        # Every value of a note is worked out in this one loop: a function call per value
        # would cost more than most of the work.
        for card in deck.cards:
            uid, front, back, card_tags = card[:4]
            if (plain_fronts or plain(front)) and front and not front.isspace():
                front_html = stripped = front
            else:
                # An empty Front would make Anki drop the card, so an empty front is a space.
                front_html = to_html(front) if front.strip() else "&nbsp;"
                stripped = strip(front_html)
            if not (plain_backs or plain(back)):
                back = to_html(back)
            tags = tag_lists.get(card_tags)
            if tags is None:
                normalized = normalize_tags(card_tags)
                tags = tag_lists[card_tags] = f" {' '.join(normalized)} " if normalized else ""
            # The guid, as note_guid() gives it.
            number = int.from_bytes(sha256(f"{GUID_NAMESPACE}__{uid}".encode()).digest()[:8])
            number, d0 = divmod(number, 8281)
            number, d1 = divmod(number, 8281)
            number, d2 = divmod(number, 8281)
            d4, d3 = divmod(number, 8281)
            guid = f"{pairs[d4]}{pairs[d3]}{pairs[d2]}{pairs[d1]}{pairs[d0]}"
            if d4 < 91:
                guid = guid.lstrip("a")
            if not (plain_uids or plain(uid)):
                uid = to_html(uid)
            notes.append(
                (
                    next_id,
                    guid,
                    tags,
                    f"{front_html}\x1f{back}\x1f{uid}",
                    stripped,
                    int.from_bytes(sha1(stripped.encode()).digest()[:4]),
                )
            )
            if card.state.due is not None or card.suspended or card.reviews:
                scheduled.append((next_id + 1, card, today))
            next_id += 2
            if len(notes) == chunk:
                writer.add(did, notes)
                notes = []
        if notes:
            writer.add(did, notes)
    return scheduled


def package_timing(timestamp: float) -> Timing:
    """How Anki counts the package's days: v2, from CREATED, in this machine's time zone."""
    offset = datetime.fromtimestamp(timestamp).astimezone().utcoffset()
    west = -int(offset.total_seconds() // 60) if offset is not None else 0
    return Timing(CREATED, scheduler_version=2, rollover_hour=ROLLOVER_HOUR, creation_offset=west)


def _timing_conf(timing: Timing) -> dict[str, int | None]:
    return {
        "schedVer": timing.scheduler_version,
        "rollover": timing.rollover_hour,
        "creationOffset": timing.creation_offset,
    }


def _schedule(
    connection: sqlite3.Connection,
    cards: Sequence[tuple[int, ExportCard, date]],
    package_today: int,
) -> None:
    """Give the cards that have been studied (or suspended) their schedule and review log;
    `package_today` is the package's day number now."""
    rows = []
    revlog = []
    taken: set[int] = set()
    for card_id, card, today in cards:
        state = card.state
        if state.due is None:
            queue = -1 if card.suspended else 0
            rows.append((0, queue, card.position, 0, 0, len(card.reviews), 0, 0, "", card_id))
        else:
            due = package_today + (state.due - today).days
            answers = len(card.reviews) or state.repetitions
            fields: dict[str, object] = {}
            if card.memory is not None:
                stability, difficulty = card.memory.stability, card.memory.difficulty
                fields |= {"s": round(stability, 4), "d": round(difficulty, 3)}
            if state.repetitions == 0:
                # Failed, or never passed: relearning (learning with no interval yet), due
                # on its day, one step left, as SM-2 has it start over.
                kind = RELEARNING_TYPE if state.interval else LEARNING_TYPE
                queue, left = DAY_LEARNING_QUEUE, 1001
            else:
                kind, queue, left = REVIEW_TYPE, REVIEW_TYPE, 0
                # The passes in a row, which Anki does not keep, in the card's custom data,
                # with the answer count they hold for.
                kept = {REPETITIONS_KEY: state.repetitions, ANSWERS_KEY: answers}
                fields["cd"] = json.dumps(kept, separators=(",", ":"))
            rows.append(
                (
                    kind,
                    -1 if card.suspended else queue,
                    due,
                    state.interval if kind == LEARNING_TYPE else max(1, state.interval),
                    state.ease_cents * 10,
                    answers,
                    state.lapses,
                    left,
                    json.dumps(fields, separators=(",", ":")) if fields else "",
                    card_id,
                )
            )
        for review in card.reviews:
            stamp = int(review.at.timestamp() * 1000)
            while stamp in taken:
                stamp += 1
            taken.add(stamp)
            kind = review.kind
            if kind == "drill":
                kind = "new" if review.before.lapses == 0 else "relearn"
            revlog.append(
                (
                    stamp,
                    card_id,
                    ANKI_BUTTON[review.rating],
                    review.after.interval,
                    review.before.interval,
                    review.after.ease_cents * 10,
                    min(review.duration_ms, MAX_REVIEW_TIME_MS),
                    _REVLOG_TYPE.get(kind, 1),
                )
            )
    connection.executemany(
        "UPDATE cards SET type = ?, queue = ?, due = ?, ivl = ?, factor = ?, reps = ?,"
        " lapses = ?, left = ?, data = ? WHERE id = ?",
        rows,
    )
    connection.executemany("INSERT INTO revlog VALUES (?, ?, -1, ?, ?, ?, ?, ?, ?)", revlog)


def _model(decks: Sequence[ExportDeck], modified: int) -> dict[str, Any]:
    field_options = {"font": "Liberation Sans", "media": [], "rtl": False, "size": 20}
    uid_options = {
        "collapsed": True,
        "plainText": True,
        "description": "The card's id in studyapp; keeps edits made here linked to it",
    }
    fields = [
        {"name": "Front", "ord": 0, "sticky": False, **field_options},
        {"name": "Back", "ord": 1, "sticky": False, **field_options},
        {"name": UID_FIELD, "ord": 2, "sticky": False, **field_options, **uid_options},
    ]
    template = {
        "name": "Card 1",
        "ord": 0,
        "qfmt": "{{Front}}",
        "afmt": "{{FrontSide}}\n\n<hr id=answer>\n\n{{Back}}",
        "bqfmt": "",
        "bafmt": "",
        "bfont": "",
        "bsize": 0,
        "did": None,
    }
    return {
        "id": str(MODEL_ID),
        "name": MODEL_NAME,
        "type": 0,
        "mod": modified,
        "usn": -1,
        "sortf": 0,
        "did": deck_id(decks[0].name) if decks else DEFAULT_DECK_ID,
        "tmpls": [template],
        "flds": fields,
        "css": _CSS,
        "latexPre": _LATEX_PRE,
        "latexPost": "\\end{document}",
        "latexsvg": False,
        "req": [[0, "all", [0]]],  # the card needs a Front
        "tags": [],
        "vers": [],
    }


def _decks(decks: Sequence[ExportDeck]) -> dict[str, dict[str, Any]]:
    entries = {str(DEFAULT_DECK_ID): _deck(DEFAULT_DECK_ID, "Default", "")}
    for deck in decks:
        # Anki shows the description as HTML: notes kept in comments stay hidden.
        description = text_to_html(_COMMENT.sub("", deck.description).strip())
        did = deck_id(deck.name)
        entries[str(did)] = _deck(did, deck.name, description)
    return entries


def _deck(did: int, name: str, description: str) -> dict[str, Any]:
    return {
        "id": did,
        "name": name,
        "desc": description,
        "conf": 1,
        "dyn": 0,
        "collapsed": False,
        "extendNew": 0,
        "extendRev": 50,
        "mod": 1425278051,
        "usn": -1,
        "newToday": [0, 0],
        "revToday": [0, 0],
        "lrnToday": [0, 0],
        "timeToday": [0, 0],
    }


_LATEX_PRE = (
    "\\documentclass[12pt]{article}\n\\special{papersize=3in,5in}\n"
    "\\usepackage[utf8]{inputenc}\n\\usepackage{amssymb,amsmath}\n\\pagestyle{empty}\n"
    "\\setlength{\\parindent}{0in}\n\\begin{document}\n"
)
_COLLECTION_CONF = {
    "activeDecks": [1],
    "addToCur": True,
    "collapseTime": 1200,
    "curDeck": 1,
    "curModel": str(MODEL_ID),
    "dueCounts": True,
    "estTimes": True,
    "newBury": True,
    "newSpread": 0,
    "nextPos": 1,
    "sortBackwards": False,
    "sortType": "noteFld",
    "timeLim": 0,
}
_DECK_OPTIONS = {
    "1": {
        "id": 1,
        "name": "Default",
        "autoplay": True,
        "maxTaken": 60,
        "mod": 0,
        "usn": 0,
        "replayq": True,
        "timer": 0,
        "new": {
            "bury": True,
            "delays": [1, 10],
            "initialFactor": 2500,
            "ints": [1, 4, 7],
            "order": 1,
            "perDay": 20,
            "separate": True,
        },
        "lapse": {"delays": [10], "leechAction": 0, "leechFails": 8, "minInt": 1, "mult": 0},
        "rev": {
            "bury": True,
            "ease4": 1.3,
            "fuzz": 0.05,
            "ivlFct": 1,
            "maxIvl": 36500,
            "minSpace": 1,
            "perDay": 100,
        },
    }
}
