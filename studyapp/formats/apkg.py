"""The Anki package format (`.apkg`): every Anki card in, every studyapp card out.

Import opens the package defensively (anki_package), reads its collection in either schema
(anki_collection), renders each card from its note type's templates (anki_render) and turns
the HTML into text (anki_html). Each card becomes a draft keyed by its note's guid and card
ordinal, so importing the same package again changes nothing. Each card brings its schedule
and review log (anki_schedule), so a deck moved from Anki is due when it was due there. A
note that went out from
studyapp carries the card's uid in a `studyapp id` field; its card is keyed by that uid, so
a card edited in Anki comes back onto the studyapp card it was exported from. Export is in
anki_export.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from studyapp.formats.anki_collection import (
    AnkiCollection,
    AnkiNote,
    DamagedCollection,
    NoteType,
    read_collection,
)
from studyapp.formats.anki_export import UID_FIELD, export_apkg, note_guid
from studyapp.formats.anki_html import exact_text, html_to_text
from studyapp.formats.anki_package import open_package
from studyapp.formats.anki_render import render_card
from studyapp.formats.anki_schedule import (
    OutOfRange,
    card_schedule,
    days_elapsed,
    timing_problem,
)
from studyapp.formats.base import CardDraft, FormatError, FormatSpec, ParseResult, Skipped
from studyapp.model import normalize_tags
from studyapp.scheduling import DEFAULT_DAY_START_HOUR, study_day

ZIP_MAGIC = b"PK\x03\x04"
EXTENSIONS = (".apkg", ".colpkg")


def sniff(path: Path, head: bytes) -> float:
    named = path.suffix.lower() in EXTENSIONS
    if head.startswith(ZIP_MAGIC):
        return 1.0 if named or b"collection.anki2" in head else 0.3
    # A misnamed or damaged package still goes to this reader, which says what is wrong.
    return 0.6 if named else 0.0


def parse(path: Path) -> ParseResult:
    """One draft per Anki card; notes and cards that cannot be shown are reported as skipped."""
    with open_package(path) as package:
        try:
            collection = read_collection(package.connection)
        except DamagedCollection as error:
            reason = f"not a usable Anki collection ({error})"
            raise FormatError.at(path, package.member, reason) from None
        except (sqlite3.Error, UnicodeDecodeError) as error:
            detail = (str(error).strip() or type(error).__name__).splitlines()[0][:200]
            reason = f"a damaged database ({detail})"
            raise FormatError.at(path, package.member, reason) from None
    problem = timing_problem(collection.timing)
    if problem is not None:
        raise FormatError.at(path, package.member, problem)
    try:
        result = _drafts(collection, datetime.now().astimezone())
    except OutOfRange as error:
        raise FormatError.at(path, package.member, str(error)) from None
    if package.media_files:
        count = package.media_files
        result.warnings.append(
            f"{count} media file{'s' if count != 1 else ''} (images, sounds) in the package "
            "were not imported; the cards name them instead"
        )
    return result


def _drafts(collection: AnkiCollection, now: datetime) -> ParseResult:
    """The package's cards as drafts, scheduled as they are in Anki at `now` (aware).
    OutOfRange names the note and card holding a number Anki cannot have written."""
    # A package carries tags and where each card came from, never a demo link.
    result = ParseResult(format="apkg", carries=frozenset({"tags", "source"}))
    hour = DEFAULT_DAY_START_HOUR  # a deck the import makes starts its days at this hour
    anki_today = days_elapsed(collection.timing, now)
    today = study_day(now.replace(tzinfo=None), hour)
    left_out = 0
    unknown_fields: set[tuple[str, str]] = set()
    studyapp_notes = False
    for note in collection.notes:
        notetype = collection.notetypes.get(note.notetype_id)
        if not note.cards:
            result.skipped.append(Skipped(f"note {note.id}", "the note has no cards"))
            continue
        uid = _studyapp_uid(notetype, note)
        studyapp_notes = studyapp_notes or uid is not None
        for index, card in enumerate(note.cards):
            where = f"note {note.id} card {card.ord}"
            if notetype is None:
                reason = f"its note type {note.notetype_id} is missing from the package"
                result.skipped.append(Skipped(where, reason))
                continue
            deck = collection.decks.get(card.deck_id)
            tags = normalize_tags(note.tags)
            rendered = render_card(notetype, note.fields, card.ord, tags=tags, deck=deck or "")
            unknown_fields.update((notetype.name, name) for name in rendered.unknown_fields)
            if rendered.problem:
                result.skipped.append(Skipped(where, rendered.problem))
                continue
            reviews = collection.reviews.get(card.id, [])
            try:
                schedule = card_schedule(card, reviews, anki_today, today, hour)
            except OutOfRange as error:
                raise OutOfRange(f"{where} (card id {card.id}): {error}") from None
            left_out += schedule.left_out
            result.cards.append(
                CardDraft(
                    front=rendered.front,
                    back=rendered.back,
                    tags=tags,
                    source=f"Anki note {note.id}",
                    # The uid names the note's first card; a card added in Anki keeps its own.
                    key=uid if uid is not None and index == 0 else f"anki:{note.guid}:{card.ord}",
                    deck=deck or None,
                    where=where,
                    state=schedule.state,
                    reviews=schedule.reviews,
                    suspended=schedule.suspended,
                    memory=schedule.memory,
                )
            )
    if left_out:
        result.warnings.append(
            f"{left_out} review log entr{'ies' if left_out != 1 else 'y'} without a rating "
            "(cards rescheduled or reset by hand in Anki) were left out of the history"
        )
    for notetype_name, field_name in sorted(unknown_fields):
        result.warnings.append(
            f"note type '{notetype_name}' refers to a field '{field_name}' it does not have; "
            "it was left empty"
        )
    if studyapp_notes:
        # A card that went out from studyapp keeps the source it has there: the package
        # only knows the Anki note.
        result.carries = frozenset({"tags"})
    decks = {draft.deck for draft in result.cards}
    if len(decks) == 1:
        result.deck_name = decks.pop()
    return result


def _studyapp_uid(notetype: NoteType | None, note: AnkiNote) -> str | None:
    """The uid of the studyapp card this note was exported for, if it is one.

    The note's guid must be the one the export derived from the uid: a note copied in Anki
    has the same `studyapp id` but a guid of its own, and is a new card.
    """
    if notetype is None or UID_FIELD not in notetype.fields:
        return None
    position = notetype.fields.index(UID_FIELD)
    if position >= len(note.fields):
        return None
    field = note.fields[position]
    exact = exact_text(field)  # as the export wrote it
    if exact and note_guid(exact) == note.guid:
        return exact
    value = field.strip()  # written by an earlier export, as it was
    if value and note_guid(value) == note.guid:
        return value
    # Edited in Anki, the field may have gained markup (`<b>`, `&nbsp;`).
    value = html_to_text(field).strip()
    return value if value and note_guid(value) == note.guid else None


FORMATS = (
    FormatSpec(
        name="apkg",
        description="Anki package (.apkg), current and legacy",
        extensions=EXTENSIONS,
        sniff=sniff,
        parse=parse,
        export=export_apkg,
        text=False,
        # Text, tags, schedule, memory state and review log; no source or demo link.
        card_fields=frozenset(
            ("uid", "front", "back", "tags", "position", "state", "suspended", "memory", "reviews")
        ),
    ),
)
