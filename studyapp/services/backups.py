"""Backups made by hand, and putting one back.

The store already backs the collection up before an import or a migration and keeps the last
few; this service adds the copies a user asks for (`studyapp backup`, never pruned) and the
way back (`studyapp restore PATH`). A restore first checks that the file is a collection this
version can open, then saves the current collection aside and writes the backup into the
live file under its write lock, in one transaction: a studyapp that is writing makes the
restore give up with a clear message, and one that merely has the collection open sees the
old collection or the restored one, never a mix. (Renaming a file over the collection would
leave such a process writing into a deleted file.)

Backups are SQLite files, so these commands work on a collection file, not a database server.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.pool import NullPool

from studyapp.db import Store
from studyapp.db.engine import explain
from studyapp.db.schema import REVISIONS, current_revision
from studyapp.db.store import (
    MANUAL,
    backup_folder,
    copy_sqlite,
    list_backups,
    read_only_uri,
    restore_sqlite,
)
from studyapp.errors import CollectionError, NewerCollectionError, UserError

RESTORE = "restore"  # the reason given to the copy of the collection saved before a restore


@dataclass(frozen=True)
class Restored:
    """What a restore did: which collection, from which file, and where the old one went."""

    collection: Path
    source: Path
    saved: Path | None  # None when there was no collection to save


class BackupService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def backup(self, output: Path | None = None) -> Path:
        """A consistent copy of the collection; by default into the backups folder beside it.

        `output` is a file (replaced whole if it exists) or an existing folder.
        """
        collection = self._collection(must_exist=True)
        if output is None or output.is_dir():
            made = self.store.backup(MANUAL, folder=output)
            assert made is not None  # the collection exists and is not empty
            return made
        if _same_file(output, collection):
            raise UserError(
                f"{output} is the collection itself; choose another file for the backup"
            )
        folder = output.parent
        if not folder.is_dir():
            raise UserError(f"{output}: the folder {folder} does not exist")
        temp: Path | None = None
        try:
            handle, name = tempfile.mkstemp(dir=folder, prefix=f".{output.name}.", suffix=".tmp")
            os.close(handle)
            temp = Path(name)
            copy_sqlite(collection, temp)
            os.replace(temp, output)
        except (OSError, sqlite3.Error) as exc:
            raise UserError(f"could not back up {collection} to {output}: {_reason(exc)}") from None
        finally:
            if temp is not None:
                temp.unlink(missing_ok=True)
        return output

    def backups(self) -> list[Path]:
        """The backups in the folder beside the collection, newest first."""
        return list_backups(self._collection(must_exist=False))

    def restore(self, source: Path) -> Restored:
        """Replace the collection with the backup `source`, saving the current one aside."""
        source = source.expanduser()
        check_restorable(source)
        collection = self._collection(must_exist=False)
        if _same_file(source, collection):
            raise UserError(f"{source} is the collection itself; choose a backup to restore")
        if not collection.exists() or collection.stat().st_size == 0:
            _put_in_place(source, collection)
            return Restored(collection, source, None)
        try:
            lock = sqlite3.connect(collection, timeout=self.store.busy_timeout_s)
        except sqlite3.Error as exc:
            raise CollectionError(explain(exc, str(collection))) from None
        try:
            lock.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            lock.close()
            raise CollectionError(explain(exc, str(collection))) from None
        except sqlite3.DatabaseError:
            # Not a database at all, so nothing can have it open: keep its bytes, replace it.
            lock.close()
            saved = _save_raw(collection)
            _put_in_place(source, collection)
            return Restored(collection, source, saved)
        try:
            saved = self._save_current(collection)
        finally:
            lock.rollback()
            lock.close()
        try:
            restore_sqlite(source, collection, self.store.busy_timeout_s)
        except sqlite3.Error as exc:
            raise CollectionError(
                f"{explain(exc, str(collection))} (nothing was restored; "
                f"the collection as it was is also in {saved})"
            ) from None
        return Restored(collection, source, saved)

    def _save_current(self, collection: Path) -> Path:
        """A copy of the collection before it is replaced, or its raw bytes if it is damaged."""
        try:
            saved = self.store.backup(RESTORE)
        except CollectionError:
            return _save_raw(collection)
        assert saved is not None
        return saved

    def _collection(self, must_exist: bool) -> Path:
        path = self.store.path
        if path is None:
            raise UserError(
                f"{self.store.where} is not a collection file: back it up with the database's "
                "own tools"
            )
        if must_exist and (not path.is_file() or path.stat().st_size == 0):
            raise UserError(f"there is no collection at {path} to back up")
        return path


def check_restorable(source: Path) -> str:
    """The schema revision of `source`; UserError if it is not a collection this version opens."""
    if not source.is_file():
        raise UserError(
            f"{source} does not exist" if not source.exists() else f"{source} is not a file"
        )
    uri = read_only_uri(source)
    engine = create_engine(
        "sqlite://", creator=lambda: sqlite3.connect(uri, uri=True), poolclass=NullPool
    )
    try:
        with engine.connect() as conn:
            revision = current_revision(conn)
            check = conn.execute(text("PRAGMA quick_check")).scalar() if revision else "ok"
    except CollectionError:
        raise UserError(f"{source} is not a studyapp collection: it holds other tables") from None
    except DatabaseError as exc:
        raise UserError(f"{source} is not a studyapp collection ({_reason(exc)})") from None
    finally:
        engine.dispose()
    if revision is None:
        raise UserError(f"{source} is not a studyapp collection: it is empty")
    if revision not in REVISIONS:
        raise NewerCollectionError(
            f"{source} was made by a newer version of studyapp (schema {revision}); "
            "upgrade studyapp to restore it"
        )
    if check != "ok":
        raise UserError(f"{source} is damaged ({check}); choose another backup")
    return revision


def _put_in_place(source: Path, collection: Path) -> None:
    """Copy `source` to a new file beside `collection`, then rename it over: whole or nothing."""
    folder = collection.parent
    temp: Path | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=folder, prefix=f".{collection.name}.", suffix=".tmp")
        os.close(handle)
        temp = Path(name)
        copy_sqlite(source, temp)
        os.replace(temp, collection)
        for leftover in ("-wal", "-shm"):  # they belonged to the file just replaced
            Path(f"{collection}{leftover}").unlink(missing_ok=True)
    except (OSError, sqlite3.Error) as exc:
        raise CollectionError(
            f"could not restore {source} to {collection}: {_reason(exc)}"
        ) from None
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)


def _save_raw(collection: Path) -> Path:
    """The collection's bytes as they are, for a file SQLite cannot read."""
    folder = backup_folder(collection)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target = folder / f"{collection.stem}-{stamp}-{RESTORE}.db"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(collection, target)
    except OSError as exc:
        raise CollectionError(
            f"could not save {collection} to {folder} before the restore: {_reason(exc)}"
        ) from None
    return target


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    cause = getattr(exc, "orig", None) or exc
    return str(cause)
