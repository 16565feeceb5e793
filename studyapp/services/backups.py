"""Backups made by hand, and putting one back.

The store already backs the collection up before an import or a migration and keeps the last
few; this service adds the copies a user asks for (`studyapp backup`, never pruned) and the
way back (`studyapp restore PATH`). A restore first checks that the file is a collection this
version can open, then, under one hold of the collection's write lock, saves it aside and
writes the backup's rows into the live file in one transaction: a studyapp that is writing
makes the restore give up with a clear message, one that writes meanwhile waits for it, and
one that merely has the collection open sees the old collection or the restored one, never
a mix. (Renaming a file over the collection would
leave such a process writing into a deleted file.) A restored collection is a new
generation (see `studyapp.db.store`): a studyapp that had it open stops writing to it,
since the card ids it holds may now name other cards.

Backups are SQLite files, so these commands work on a collection file, not a database server.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.pool import NullPool

from studyapp.db import Store
from studyapp.db.location import explain
from studyapp.db.schema import REVISIONS, current_revision, ensure_schema
from studyapp.db.store import (
    GENERATION,
    MANUAL,
    backup_folder,
    copy_sqlite,
    list_backups,
    new_generation,
    read_only_uri,
)
from studyapp.errors import CollectionError, NewerCollectionError, UserError
from studyapp.files import new_file_mode

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
            os.chmod(temp, new_file_mode(output))  # not the temporary file's private mode
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
        """Replace the collection with the backup `source`, saving the current one aside.

        Saving the current collection and writing the backup's rows into it happen under one
        hold of its write lock, so no write from another process can land between the two
        and be lost: it lands before (and is in the saved copy) or after (in the restored
        collection). A backup from an older version is brought to the current schema on a
        staged copy first; the file given is never changed.
        """
        source = source.expanduser()
        check_restorable(source)
        collection = self._collection(must_exist=False)
        if _same_file(source, collection):
            raise UserError(f"{source} is the collection itself; choose a backup to restore")
        if not collection.exists() or collection.stat().st_size == 0:
            _put_in_place(source, collection)
            return Restored(collection, source, None)
        with _staged(source, collection) as staged:
            lock: sqlite3.Connection | None
            try:
                lock = sqlite3.connect(
                    collection, timeout=self.store.busy_timeout_s, isolation_level=None
                )
            except sqlite3.Error as exc:
                raise CollectionError(explain(exc, str(collection))) from None
            try:
                try:
                    lock.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError as exc:
                    raise CollectionError(explain(exc, str(collection))) from None
                except sqlite3.DatabaseError:
                    # Not a database at all, so nothing can have it open: keep its bytes.
                    lock.close()
                    lock = None
                    saved = _save_raw(collection)
                    _put_in_place(staged, collection)
                    return Restored(collection, source, saved)
                saved = self._save_current(collection)
                try:
                    _copy_rows(lock, staged)
                    lock.execute("COMMIT")
                except sqlite3.Error as exc:
                    raise CollectionError(
                        f"{explain(exc, str(collection))} (nothing was restored; "
                        f"the collection as it was is also in {saved})"
                    ) from None
            finally:
                if lock is not None:
                    lock.close()  # rolls back whatever was not committed
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


@contextmanager
def _staged(source: Path, collection: Path) -> Iterator[Path]:
    """A copy of the backup beside the collection, at the current schema; removed after."""
    folder = collection.parent
    handle, name = tempfile.mkstemp(dir=folder, prefix=f".{collection.name}.", suffix=".restore")
    os.close(handle)
    staged = Path(name)
    try:
        try:
            copy_sqlite(source, staged)
        except (OSError, sqlite3.Error) as exc:
            raise CollectionError(
                f"could not read {source} to restore it: {_reason(exc)}"
            ) from None
        engine = create_engine(f"sqlite:///{staged}", poolclass=NullPool)
        try:
            ensure_schema(engine, str(source))
        finally:
            engine.dispose()
        yield staged
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{staged}{suffix}").unlink(missing_ok=True)


def _copy_rows(lock: sqlite3.Connection, staged: Path) -> None:
    """Replace every table's rows with the staged backup's, inside `lock`'s transaction."""
    lock.execute("ATTACH DATABASE ? AS restored", (str(staged),))
    tables = [
        name
        for (name,) in lock.execute(
            "SELECT name FROM restored.sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    for (name,) in lock.execute(
        "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall():
        lock.execute(f'DELETE FROM main."{name}"')
    for name in tables:
        info = lock.execute(f'PRAGMA restored.table_info("{name}")').fetchall()
        columns = ", ".join(f'"{row[1]}"' for row in info)
        lock.execute(
            f'INSERT INTO main."{name}" ({columns}) SELECT {columns} FROM restored."{name}"'
        )
    _new_generation(lock)


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
        with closing(sqlite3.connect(temp)) as placed, placed:
            _new_generation(placed)
        os.chmod(temp, new_file_mode(collection))  # not the temporary file's private mode
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


def _new_generation(connection: sqlite3.Connection) -> None:
    """Mark a restored collection as a new generation, so a studyapp that had the old one
    open stops writing to it instead of rating cards by ids that now name others."""
    connection.execute(
        "INSERT OR REPLACE INTO main.collection_info (key, value) VALUES (?, ?)",
        (GENERATION, new_generation()),
    )


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
