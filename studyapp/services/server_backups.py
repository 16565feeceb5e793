"""Backups of a collection on a database server: JSON backups made by hand, and putting one back.

A server's files cannot be copied, so `studyapp backup` writes the collection's JSON backup
(what `export --format json` writes, read in one consistent moment) into the backups folder of
the user data folder on this machine, or to `--output`. `studyapp restore` takes such a file
(from a server or from an SQLite collection) all or nothing: the file is read and checked
whole first, and a file that cannot be taken entry for entry changes nothing; then, under the
collection's write lock, the collection as it was is saved beside the other backups and the
file's decks, cards, review logs and demo predictions (and its record of the bundled cards
and decks the learner deleted or renamed) replace the collection's in one transaction, which
any failure rolls back. The demo cache and the collection's own facts stay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete
from sqlalchemy.engine import make_url

from studyapp.db import Store
from studyapp.db import bundled_changes as recorded_changes
from studyapp.db import repository as repo
from studyapp.db.location import default_collection_path
from studyapp.db.models import (
    BundledChangeRow,
    CardRow,
    CollectionInfo,
    DeckRow,
    PredictionRow,
    ReviewRow,
)
from studyapp.db.store import BACKUP_FOLDER, BACKUPS_KEPT, GENERATION, MANUAL, new_generation
from studyapp.errors import CollectionError, UnconfirmedWrite, UserError
from studyapp.files import (
    WriteError,
    check_output,
    not_a_file,
    output_folder,
    user_path,
    write_output,
)
from studyapp.formats import get_format
from studyapp.formats.base import FormatError
from studyapp.services.draft_mapping import DraftMapper, ImportReport, ParsedFile
from studyapp.services.library import LibraryService

RESTORE = "restore"  # the reason given to the copy of the collection saved before a restore
SUFFIX = ".json"


@dataclass(frozen=True)
class RestoredFromJson:
    """What a restore did: which collection, from which file, and where the old one went."""

    collection: str
    source: Path
    saved: Path
    decks: int
    cards: int


class ServerBackups:
    """`backup`, `backup --list` and `restore` for a collection on a server."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def folder(self) -> Path:
        """The backups folder in this machine's user data folder."""
        return default_collection_path().parent / BACKUP_FOLDER

    @property
    def stem(self) -> str:
        """How this collection's backups begin: its server, port and database."""
        url = make_url(self.store.url)
        parts = [url.host or "local", str(url.port or 5432), url.database or "postgres"]
        return re.sub(r"[^A-Za-z0-9._]+", "_", "-".join(parts))

    def backup(self, output: str | Path | None = None, reason: str = MANUAL) -> Path:
        """The collection's JSON backup, into `output` (a file, replaced whole if it exists,
        or a folder) or by default into the backups folder."""
        if output is not None and not str(output).strip():
            raise UserError("--output is empty: give a file or a folder for the backup")
        if output is not None and str(output) == "-":
            raise UserError(
                "give --output a file name: `export --format json --output -` "
                "writes the same backup to standard output"
            )
        target = None
        if output is not None:
            target = output_folder(str(output)) or user_path(output)
        if target is None or target.is_dir():
            folder = target or self.folder
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            target = folder / f"{self.stem}-{stamp}-{reason}{SUFFIX}"
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise WriteError(target, exc.strerror or str(exc)) from None
        check_output(target)  # before the work of reading the collection
        data = LibraryService(self.store).export("json")
        return write_output(target, data)

    def backups(self) -> list[Path]:
        """This collection's backups in the backups folder, newest first."""
        name = re.compile(rf"{re.escape(self.stem)}-(\d{{8}}T\d{{12}})-[a-z]+{SUFFIX}")
        if not self.folder.is_dir():
            return []
        found = [(m.group(1), p) for p in self.folder.iterdir() if (m := name.fullmatch(p.name))]
        return [path for _, path in sorted(found, reverse=True)]

    def restore(self, source: Path) -> RestoredFromJson:
        """Replace the collection's decks, cards, review logs and predictions with a JSON
        backup's."""
        source = user_path(source)
        parsed = _checked(source)
        where = self.store.where
        saved: Path | None = None
        try:
            with self.store.write() as session:
                session.connection()  # takes the write lock: no rating lands from here on
                saved = self.backup(reason=RESTORE)
                session.execute(delete(PredictionRow))
                session.execute(delete(ReviewRow))
                session.execute(delete(CardRow))
                session.execute(delete(DeckRow))
                session.execute(delete(BundledChangeRow))
                report = ImportReport(format="json", deck=None)
                mapper = DraftMapper(session, repo.utc_naive(datetime.now(UTC)), False, report)
                mapper.preload(parsed.result.cards)
                mapper.apply(parsed, None)
                mapper.flush()
                if parsed.result.bundled_changes:
                    recorded_changes.merge(session, parsed.result.bundled_changes)
                if report.skipped:
                    first = report.skipped[0]
                    raise UserError(f"{source} cannot be restored: {first.where}: {first.reason}")
                # A new generation: a studyapp open on the old collection elsewhere stops
                # writing, since the card ids it holds now name other cards.
                session.merge(CollectionInfo(key=GENERATION, value=new_generation()))
            self.store.identity_written()
        except UnconfirmedWrite as exc:
            raise UnconfirmedWrite(
                f"{exc.message} (the collection as it was is in {saved})"
            ) from None
        except UserError as exc:
            if saved is None:
                raise
            raise CollectionError(
                f"{exc.message} (nothing was restored; the collection as it was is also in {saved})"
            ) from None
        assert saved is not None
        return RestoredFromJson(where, source, saved, len(mapper.decks_used), report.added)


def backup_before(store: Store, reason: str) -> Path | None:
    """The copy of the collection made before a change that cannot be undone (a deletion):
    the file copied aside for SQLite (`Store.backup`), a JSON backup for a server. As for
    SQLite, the last few of these automatic backups are kept, and those made by hand stay."""
    if store.path is not None:
        return store.backup(reason)
    backups = ServerBackups(store)
    made = backups.backup(reason=reason)
    automatic = [p for p in backups.backups() if not p.stem.endswith(f"-{MANUAL}")]
    for old in automatic[BACKUPS_KEPT:]:
        old.unlink(missing_ok=True)
    return made


def _checked(source: Path) -> ParsedFile:
    """The backup read whole, or UserError naming the first entry it cannot take."""
    if not source.is_file():
        raise UserError(not_a_file(source))
    spec = get_format("json")
    assert spec.parse is not None
    try:
        result = spec.parse(source)
    except FormatError as exc:
        raise UserError(f"{exc.message}; nothing was restored") from None
    except (ValueError, RecursionError, UnicodeError) as exc:
        raise UserError(f"{source} cannot be restored: it is not a JSON backup ({exc})") from None
    if result.skipped:
        first = result.skipped[0]
        raise UserError(f"{source} cannot be restored: {first.where}: {first.reason}")
    return ParsedFile(source, result, "")


__all__ = ["RESTORE", "RestoredFromJson", "ServerBackups"]
