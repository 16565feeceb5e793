"""Import and export: files become card drafts, and drafts are mapped onto the collection.

An import reads every file first (so a bad file changes nothing), backs the collection up,
then applies all drafts in one unit of work with the rules of `draft_mapping`; a dry run does
the same and rolls back. Every entry that is not taken is in the report with where and why.
Export reads decks, cards and review logs into the plain values the exporters take.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from studyapp.clock import Clock, system_clock
from studyapp.db import Store
from studyapp.db import bundled_changes as recorded_changes
from studyapp.db import predictions as prediction_log
from studyapp.db import repository as repo
from studyapp.db.models import CardRow, CollectionInfo, DeckRow, ReviewRow
from studyapp.db.reads import CARD_COLUMN_NAMES, day_of, memory_from_db, params_from_db
from studyapp.db.store import rows_in
from studyapp.errors import NoSuchDeckError, UserError
from studyapp.files import check_output, replacing, write_output
from studyapp.formats import detect, get_format
from studyapp.formats.base import (
    CardDraft,
    ExportCard,
    ExportDeck,
    FormatError,
    PredictionDraft,
    ReviewDraft,
    Skipped,
)
from studyapp.formats.textio import MAX_IMPORT_BYTES, check_file
from studyapp.model import BundledChanges, Deck, Prediction, deck_name_problem
from studyapp.scheduling import SM2State
from studyapp.services import bundled_files
from studyapp.services.bundled import BundledHistory, BundledSync, BundledUpdate
from studyapp.services.bundled_changes import respected
from studyapp.services.bundled_files import LOADED_KEY, REVISION_KEY, deck_files, revision
from studyapp.services.draft_mapping import DraftMapper, ImportReport, ParsedFile, key_to_uid
from studyapp.services.later_keys import KeysCollide
from studyapp.services.scheduler import give_missing_memory

BACKUP_FORMAT = "json"  # JSON carries any text, NUL included, as an escape


class _DryRun(Exception):
    """Raised at the end of a dry run so the unit of work rolls back."""

    def __init__(self, mapper: DraftMapper) -> None:
        super().__init__()
        self.mapper = mapper


class LibraryService:
    def __init__(
        self, store: Store, clock: Clock = system_clock, bundled_dir: Path | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        self.bundled_dir = bundled_dir or bundled_files.BUNDLED_DIR

    # --- import -----------------------------------------------------------------------------

    def import_files(
        self,
        paths: Sequence[Path],
        format: str | None = None,
        deck: str | None = None,
        dry_run: bool = False,
    ) -> ImportReport:
        """Import files into the collection, all or nothing; raises UserError on bad input."""
        if not paths:
            raise UserError("nothing to import: give at least one file")
        if deck is not None and not deck.strip():
            raise UserError("the deck name is empty")
        problem = deck_name_problem(deck.strip()) if deck is not None else None
        if problem is not None:
            raise UserError(problem)
        labels = len(paths) > 1
        with _collector_paused():
            parsed = [self._parse(Path(p), format, labels) for p in paths]
            report = self._apply(parsed, deck.strip() if deck else None, dry_run, add_only=False)
            del parsed  # see _collector_paused
        return report

    def _parse(self, path: Path, format: str | None, labelled: bool) -> ParsedFile:
        if check_file(path, MAX_IMPORT_BYTES) == 0:
            raise FormatError.at(path, None, "the file is empty")
        spec = get_format(format) if format else detect(path)
        assert spec.parse is not None
        try:
            result = spec.parse(path)
        except (ValueError, RecursionError, UnicodeError, OverflowError) as exc:
            # A parser is meant to raise FormatError; this keeps a missed case to one line.
            raise FormatError.at(path, None, f"cannot be read as {spec.name}: {exc}") from None
        return ParsedFile(path, result, str(path) if labelled else "")

    def _apply(
        self, parsed: Sequence[ParsedFile], deck: str | None, dry_run: bool, add_only: bool
    ) -> ImportReport:
        formats = list(dict.fromkeys(p.result.format for p in parsed))
        report = ImportReport(format=", ".join(formats), deck=None)
        for item in parsed:
            report.skipped += [Skipped(item.where(s.where), s.reason) for s in item.result.skipped]
            notes = [*item.result.warnings, *_demo_warnings(item.result.cards)]
            report.warnings += [f"{item.label}: {w}" if item.label else w for w in notes]
        try:
            with self.store.write() as session:
                # Backed up under the write lock: a collection this import cannot write to
                # gets no backup, and no other writer slips in between backup and import.
                if not dry_run and _has_cards(session):
                    self.store.backup("import")
                now = repo.utc_naive(self.clock())
                # On SQLite, a file of new cards has its content keys worked out while its
                # cards are written (see later_keys); if two turn out alike, the import
                # starts over from the savepoint and matches the files card by card.
                later = session.get_bind().dialect.name == "sqlite"
                if later:
                    try:
                        with session.begin_nested():
                            first = replace(
                                report, skipped=[*report.skipped], warnings=[*report.warnings]
                            )
                            mapper = DraftMapper(session, now, add_only, first, keys_later=True)
                            self._map(session, mapper, parsed, deck, dry_run)
                    except KeysCollide:
                        later = False
                if not later:
                    mapper = DraftMapper(session, now, add_only, report)
                    self._map(session, mapper, parsed, deck, dry_run)
        except _DryRun as dry:
            mapper = dry.mapper
        mapper.report.deck = _deck_names(mapper)
        return mapper.report

    def _map(
        self,
        session: Session,
        mapper: DraftMapper,
        parsed: Sequence[ParsedFile],
        deck: str | None,
        dry_run: bool,
    ) -> None:
        """Map the parsed files onto the collection and write them (on a dry run, _DryRun
        once mapped)."""
        try:
            mapper.preload(d for item in parsed for d in item.result.cards)
            for item in parsed:
                mapper.apply(item, deck)
            mapper.bring_history()
            if dry_run:
                mapper.settle_keys()
                raise _DryRun(mapper)
            mapper.flush()
        except BaseException:
            mapper.stop_keys()
            raise
        for item in parsed:
            if item.result.bundled_changes:
                recorded_changes.merge(session, item.result.bundled_changes)
        give_missing_memory(session, mapper.decks_used)

    # --- the bundled deck -------------------------------------------------------------------

    def bundled_files(self) -> list[Path]:
        return deck_files(self.bundled_dir)

    def load_bundled(self) -> BundledUpdate:
        """Bring the collection's copy of the bundled deck up to date, in one transaction.

        Cards the collection lacks are added; cards the learner has not edited take the
        shipped corrections (their schedule and history stay); edited cards are left alone
        and reported; merged duplicates fold into the card kept (see `services.bundled`).
        Running it again changes nothing.
        """
        files = self.bundled_files()
        update = BundledUpdate()
        if not files:
            update.warnings.append(f"no bundled deck files found in {self.bundled_dir}")
            return update
        native = get_format("md")
        assert native.parse is not None
        parsed = [ParsedFile(p, native.parse(p), p.name) for p in files]
        history = BundledHistory.read(self.bundled_dir)
        report = ImportReport(format="md", deck=None)
        for item in parsed:
            notes = [*item.result.warnings, *_demo_warnings(item.result.cards)]
            report.warnings += [f"{item.label}: {w}" for w in notes]
        with _collector_paused(), self.store.write() as session:
            now = repo.utc_naive(self.clock())
            changes = recorded_changes.in_force(session)
            parsed, update.left_out = respected(parsed, changes)
            results = [p.result for p in parsed]
            sync = BundledSync(session, history, now, changes.renamed_decks)
            if _has_cards(session) and sync.plan_needed(results):
                self.store.backup("bundled")
            mapper = DraftMapper(session, now, add_only=True, report=report)
            mapper.preload(d for item in parsed for d in item.result.cards)
            for item in parsed:
                mapper.apply(item, None)
            mapper.flush()
            sync.apply(results, update)
            _set_info(session, LOADED_KEY, now.isoformat(timespec="seconds"))
            _set_info(session, REVISION_KEY, revision(files))
        update.added = report.added
        update.warnings += report.warnings
        update.warnings += [f"{s.where}: {s.reason}" for s in report.skipped]
        return update

    def bundled_loaded(self) -> bool:
        return self.store.info(LOADED_KEY) is not None

    # --- export -----------------------------------------------------------------------------

    def export(self, format: str, deck: str | None = None) -> bytes:
        """The collection (or one deck) in an export format; raises UserError."""
        spec = get_format(format, for_export=True)
        assert spec.export is not None
        with _collector_paused():
            keeps_predictions = spec.export_predictions is not None
            decks, predictions, bundled = self._read_export(
                deck, spec.card_fields, keeps_predictions, bundled=spec.name == BACKUP_FORMAT
            )
            if not decks and format == "md":
                raise UserError("there are no decks to export")
            if spec.name == BACKUP_FORMAT:
                from studyapp.formats.backup import export as backup_export

                data = backup_export(decks, predictions, bundled)
            elif spec.export_predictions is not None:
                data = spec.export_predictions(decks, predictions)
            else:
                data = spec.export(decks)
            if spec.text and format != BACKUP_FORMAT and b"\x00" in data:
                raise UserError(_nul_card(decks, format))
            del decks, predictions, bundled  # see _collector_paused
        return data

    def export_to_folder(self, format: str, deck: str | None, folder: Path) -> list[Path]:
        """Export into an existing `folder`; returns the files written.

        `md` holds one deck per file: every deck (or `deck`) goes to a file named after it
        (class-thirteen-optimizers.md). Other formats write one file, named after the deck,
        or collection.<format> for all decks. Every path is checked before anything is
        written, and the collection itself is never written over.
        """
        collection = self.store.path
        extension = f".{format}"
        if format != "md":
            name = slug(deck) if deck else "collection"
            target = check_output(folder / f"{name}{extension}", collection)
            return [write_output(target, self.export(format, deck), collection)]
        names = [deck] if deck else [d.name for d in self.decks_to_export()]
        if not names:
            raise UserError("there are no decks to export")
        targets: list[tuple[str, Path]] = []
        used: set[str] = set()
        for name in names:
            stem = slug(name)
            while stem in used:
                stem += "-1"
            used.add(stem)
            targets.append((name, check_output(folder / f"{stem}{extension}", collection)))
        with ExitStack() as written:
            for name, path in targets:
                data = self.export(format, name)
                temp = written.enter_context(replacing(path, collection))
                with open(temp, "wb") as out:
                    out.write(data)
        return [path for _, path in targets]

    def decks_to_export(self) -> list[Deck]:
        with self.store.read() as session:
            return [repo.to_deck(row) for row in repo.decks(session)]

    def export_decks(
        self, deck: str | None = None, fields: frozenset[str] | None = None
    ) -> list[ExportDeck]:
        """The collection's decks (or one deck) for an export that writes the card `fields`
        (None: all of them); fields it does not write are left empty."""
        return self._read_export(deck, fields, predictions=False)[0]

    def _read_export(
        self,
        deck: str | None,
        fields: frozenset[str] | None,
        predictions: bool,
        bundled: bool = False,
    ) -> tuple[list[ExportDeck], list[PredictionDraft], BundledChanges | None]:
        """The decks to export and, if asked, the predictions made on their cards (all of
        them, those made on no card included, when the export is of every deck) and the
        record of bundled cards and decks deleted or renamed (only when the export is of
        every deck), read in one transaction."""
        with self.store.read() as session:
            if deck is None:
                rows = repo.decks(session)
            else:
                row = repo.deck_by_name(session, deck)
                if row is None:
                    raise NoSuchDeckError(deck)
                rows = [row]
            decks = [_export_deck(session, row, fields) for row in rows]
            changes = recorded_changes.read(session) if bundled and deck is None else None
            if not predictions:
                return decks, [], changes
            deck_id = rows[0].id if deck is not None else None
            made = prediction_log.with_card_uids(rows_in(session), deck_id)
            return decks, [_prediction_draft(uid, p) for uid, p in made], changes


def slug(name: str) -> str:
    """A file name for a deck: lower case, words joined by hyphens."""
    text = re.sub(r"[^\w]+", "-", name.lower(), flags=re.UNICODE).strip("-_")
    return text[:80] or "deck"


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cycle collector while a file's worth of cards is built.

    An import or export makes hundreds of thousands of small objects and no cycles; the
    collector would scan them over and over (a quarter of the time of a 100,000-card import).
    Callers drop what they built before the block ends, so it is freed before the collector
    resumes: it would scan whatever is still held once more, all of it (30 ms for 100,000
    cards).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _nul_card(decks: Sequence[ExportDeck], format: str) -> str:
    """Why a text export cannot be written: a card (kept by an older version) holds NUL."""
    for deck in decks:
        for card in deck.cards:
            if any("\x00" in text for text in (card.front, card.back, card.source, *card.tags)):
                return (
                    f"card {card.uid} in deck {deck.name!r} holds a NUL character, which a "
                    f"{format} file cannot carry: edit the card, or export json"
                )
    return f"the collection holds a NUL character, which a {format} file cannot carry"


def _has_cards(session: Session) -> bool:
    return session.scalar(select(CardRow.id).limit(1)) is not None


def _deck_names(mapper: DraftMapper) -> str | None:
    names = sorted(mapper.decks_used)
    return ", ".join(names) if names else None


def _set_info(session: Session, key: str, value: str) -> None:
    row = session.get(CollectionInfo, key)
    if row is None:
        session.add(CollectionInfo(key=key, value=value))
    else:
        row.value = value


def _demo_warnings(cards: Iterable[CardDraft]) -> list[str]:
    """Demo links that would not run: a warning each; the links are kept all the same."""
    links = [(c.where, c.demo) for c in cards if c.demo is not None]
    if not links:
        return []
    try:
        from studyapp.demo_api import check_link

        out = []
        for where, demo in links:
            assert demo is not None
            problem = check_link(demo.id, demo.params)
            if problem:
                out.append(f"{where}: demo link {demo.id!r} will not run ({problem}); kept")
        return out
    except Exception as exc:  # a broken demo module must not stop an import
        return [f"demo links were not checked: the demo catalogue failed to load ({exc})"]


# --- export ---------------------------------------------------------------------------------


_REVIEW_COLUMNS = (
    ReviewRow.card_id,
    ReviewRow.at,
    ReviewRow.study_day,
    ReviewRow.rating,
    ReviewRow.duration_ms,
    ReviewRow.kind,
    ReviewRow.ease_before,
    ReviewRow.repetitions_before,
    ReviewRow.interval_before,
    ReviewRow.due_before,
    ReviewRow.lapses_before,
    ReviewRow.ease_after,
    ReviewRow.repetitions_after,
    ReviewRow.interval_after,
    ReviewRow.due_after,
    ReviewRow.lapses_after,
    ReviewRow.stability_before,
    ReviewRow.difficulty_before,
    ReviewRow.stability_after,
    ReviewRow.difficulty_after,
    ReviewRow.imported,
)


# What a card carries beyond its id, text and tags; a format that writes none of it gets
# these empty values and the collection reads no more than the text.
_TEXT_FIELDS = frozenset({"uid", "front", "back", "tags", "position"})
_NEW = SM2State.new()
# A deck's cards are read as the driver gives them (`rows_in`): SQLAlchemy's conversions,
# value by value, took a sixth of the time to read 100,000 cards. Days come as ISO text
# from SQLite and flags as 0 or 1; the loop below takes either.
_TEXT_COLUMNS = ('"uid"', '"front"', '"back"', '"tags"')
# Up to `buried_until` (the export numbers cards itself), then the FSRS memory state.
_CARD_COLUMNS = (*CARD_COLUMN_NAMES[:15], "stability", "difficulty")
# Columns read as an empty value in their place when the export leaves out their field.
_EMPTY_UNLESS = {
    "source": ("source", "''"),
    "demo_id": ("demo", "NULL"),
    "demo_params": ("demo", "NULL"),
    "buried_until": ("buried_until", "NULL"),
}


def _card_columns(fields: frozenset[str] | None) -> list[str]:
    """_CARD_COLUMNS as SQL, those of fields outside `fields` (None: all fields) read empty."""
    columns = []
    for name in _CARD_COLUMNS:
        field, empty = _EMPTY_UNLESS.get(name, (None, ""))
        left_out = fields is not None and field is not None and field not in fields
        columns.append(empty if left_out else f'"{name}"')
    return columns


def _export_deck(
    session: Session, deck: DeckRow, fields: frozenset[str] | None = None
) -> ExportDeck:
    """A deck with its cards and review logs, read as plain rows (no ORM objects).

    `fields` names the card fields the export writes (None: all of them). Cards and
    reviews are read in one pass each; a scheduling state is built once for all the cards
    and log entries that share it (every new card, for one), a tag list once for all the
    cards that have it.
    """
    connection = session.connection()
    tags: dict[str, tuple[str, ...]] = {}
    # Each card is made with tuple.__new__: the named tuple's own constructor is a Python
    # function, and costs more than the rest of the row's work.
    make = tuple.__new__
    exported: list[ExportCard] = []
    add = exported.append
    if fields is not None and fields <= _TEXT_FIELDS:
        rows = _in_deck_order(session, _TEXT_COLUMNS, deck.id)
        for position, (uid, front, back, stored) in enumerate(rows, start=1):
            tag_list = tags.get(stored)
            if tag_list is None:
                tag_list = tags[stored] = repo.tags_from_db(stored)
            values = (uid, front, back, tag_list, "", None, _NEW, (), False, position, None, None)
            add(make(ExportCard, values))
        return _deck_of(deck, exported)

    states: dict[tuple[Any, ...], SM2State] = {}

    def state(values: tuple[Any, ...]) -> SM2State:
        found = states.get(values)
        if found is None:
            ease, reps, interval, due, lapses = values  # due: a date, or ISO text (rows_in)
            found = states[values] = SM2State(ease / 100, reps, interval, day_of(due), lapses)
        return found

    reviews: dict[int, list[ReviewDraft]] = {}
    if fields is None or "reviews" in fields:
        rows = connection.execute(
            select(*_REVIEW_COLUMNS)
            .join(CardRow, ReviewRow.card_id == CardRow.id)
            .where(CardRow.deck_id == deck.id)
            .order_by(ReviewRow.id)
        ).all()
        for row in rows:
            # In the order of _REVIEW_COLUMNS: the card, the review, the states around it.
            before, after = tuple(row[6:11]), tuple(row[11:16])
            values = (
                repo.aware(row[1]),
                *row[2:6],
                states.get(before) or state(before),
                states.get(after) or state(after),
                memory_from_db(row[16], row[17]),
                memory_from_db(row[18], row[19]),
                bool(row[20]),
            )
            card_reviews = reviews.get(row[0])
            if card_reviews is None:
                reviews[row[0]] = [make(ReviewDraft, values)]
            else:
                card_reviews.append(make(ReviewDraft, values))
    rows = _in_deck_order(session, _card_columns(fields), deck.id)
    for position, row in enumerate(rows, start=1):
        # In the order of _CARD_COLUMNS.
        key = tuple(row[8:13])  # ease, repetitions, interval, due, lapses
        card_state = states.get(key) or state(key)
        card_id, uid, front, back, stored, source, demo_id, demo_params = row[:8]
        tag_list = tags.get(stored)
        if tag_list is None:
            tag_list = tags[stored] = repo.tags_from_db(stored)
        demo = repo.demo_from_db(demo_id, demo_params) if demo_id else None
        card_reviews = tuple(reviews[card_id]) if card_id in reviews else ()
        suspended, buried, stability, difficulty = row[13:17]
        memory = None if stability is None else memory_from_db(stability, difficulty)
        buried_until = None if buried is None else day_of(buried)
        # In the order of ExportCard's fields.
        values = (uid, front, back, tag_list, source, demo, card_state, card_reviews)
        add(make(ExportCard, values + (bool(suspended), position, memory, buried_until)))
    return _deck_of(deck, exported)


def _prediction_draft(card_uid: str | None, prediction: Prediction) -> PredictionDraft:
    return PredictionDraft(
        card_uid,
        prediction.demo_id,
        prediction.params,
        prediction.seed,
        prediction.question_id,
        prediction.question,
        prediction.chosen,
        prediction.answer,
        prediction.why,
        prediction.correct,
        prediction.at,
    )


def _in_deck_order(session: Session, columns: Sequence[str], deck_id: int) -> Sequence[Any]:
    """`columns` (SQL) of a deck's cards in deck order, as rows of plain values."""
    listed = ", ".join(columns)
    query = f'SELECT {listed} FROM cards WHERE deck_id = :deck_id ORDER BY "position", id'
    return rows_in(session)(query, {"deck_id": deck_id})


def _deck_of(deck: DeckRow, cards: list[ExportCard]) -> ExportDeck:
    return ExportDeck(
        name=deck.name,
        cards=tuple(cards),
        description=deck.description,
        settings={
            "new_per_day": deck.new_per_day,
            "reviews_per_day": deck.reviews_per_day,
            "day_start_hour": deck.day_start_hour,
            "scheduler": deck.scheduler,
            "desired_retention": deck.desired_retention,
            "fsrs_params": list(params) if (params := params_from_db(deck.fsrs_params)) else None,
        },
    )


__all__ = ["ImportReport", "LibraryService", "Skipped", "key_to_uid", "slug"]
