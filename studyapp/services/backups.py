"""Backups made by hand, and putting one back.

The store already backs the collection up before an import or a migration and keeps the last
few; this service adds the copies a user asks for (`studyapp backup`, never pruned) and the
way back (`studyapp restore PATH`). A restore first checks the file whole (a collection this
version can open, whose every row the app can read: `studyapp.db.validation`), then, under
one hold of the collection's write lock, saves it aside and writes the backup's rows into the
live file in one transaction: a studyapp that is writing makes the restore give up with a
clear message, one that writes meanwhile waits for it, and one that merely has the collection
open sees the old collection or the restored one, never a mix. (Renaming a file over the
collection would leave such a process writing into a deleted file.) A restored collection is
a new generation (see `studyapp.db.store`): a studyapp that had it open stops writing to it,
since the card ids it holds may now name other cards.

These backups are SQLite files, copies of a collection file. A collection on a database
server is backed up as a JSON backup instead (`studyapp.services.server_backups`), and this
service hands such a collection over to that one.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from studyapp.db import Store
from studyapp.db.engine import file_url
from studyapp.db.location import (
    connect_read_only,
    explain,
    has_read_files,
    remove_read_files,
)
from studyapp.db.revisions import REVISIONS
from studyapp.db.schema import ensure_schema, upgrade_to_head
from studyapp.db.store import (
    GENERATION,
    MANUAL,
    backup_folder,
    copy_sqlite,
    list_backups,
    new_generation,
)
from studyapp.db.validation import InvalidCollection, check_collection
from studyapp.errors import CollectionError, NewerCollectionError, UserError, note_change_saved
from studyapp.files import (
    WriteError,
    is_collection,
    not_a_file,
    output_folder,
    replacing,
    scratch_file,
    user_path,
)
from studyapp.services.server_backups import RestoredFromJson, ServerBackups

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
        self.server = ServerBackups(store) if store.path is None else None

    def backup(self, output: str | Path | None = None) -> Path:
        """A consistent copy of the collection; by default into the backups folder beside it.

        `output` is a file (replaced whole if it exists) or an existing folder; never the
        collection, and never anything but a regular file.
        """
        if self.server is not None:
            return self.server.backup(output)
        collection = self._collection(must_exist=True)
        if output is not None and not str(output).strip():
            raise UserError("--output is empty: give a file or a folder for the backup")
        if output is not None and str(output) == "-":
            raise UserError("a backup is a database file, not text: give --output a file name")
        target = None
        if output is not None:
            target = output_folder(str(output)) or user_path(output)
        if target is None or target.is_dir():
            made = self.store.backup(MANUAL, folder=target)
            assert made is not None  # the collection exists and is not empty
            return made
        try:
            with replacing(target, collection) as temp:
                copy_sqlite(collection, temp, self.store.busy_timeout_s)
        except WriteError as exc:
            raise UserError(f"could not back up {collection} to {target}: {exc.reason}") from None
        except sqlite3.Error as exc:
            raise UserError(f"could not back up {collection} to {target}: {exc}") from None
        return target

    def backups(self) -> list[Path]:
        """The backups in the folder beside the collection, newest first.

        A collection that is not there is an error only when no backup of it is left either:
        its backups are what a user needs to get it back.
        """
        if self.server is not None:
            return self.server.backups()
        collection = self._collection(must_exist=False)
        found = list_backups(collection)
        if not found and not collection.exists():
            raise UserError(f"there is no collection at {collection}, and no backups of it")
        return found

    def restore(self, source: Path) -> Restored | RestoredFromJson:
        """Replace the collection with the backup `source`, saving the current one aside.

        The backup is checked whole first (on a copy brought to the current schema; the file
        given is never changed), so a broken one changes nothing. Saving the current
        collection and writing the backup's rows into it happen under one hold of its write
        lock, so no write from another process can land between the two and be lost: it
        lands before (and is in the saved copy) or after (in the restored collection).
        """
        if self.server is not None:
            return self.server.restore(source)
        source = user_path(source)
        fresh = not has_read_files(source)
        try:
            return self._restore(source)
        finally:
            if fresh:  # reading the backup made its two files; they are not left beside it
                remove_read_files(source)

    def _restore(self, source: Path) -> Restored:
        check_restorable(source)
        collection = self._collection(must_exist=False)
        if is_collection(source, collection):
            raise UserError(f"{source} is the collection itself; choose a backup to restore")
        with _staged(source, collection) as staged:
            if not collection.exists() or collection.stat().st_size == 0:
                _build_in_place(staged, collection)
                return Restored(collection, source, None)
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
                    _build_in_place(staged, collection)
                    return Restored(collection, source, saved)
                saved = self._save_current(collection, lock)
                try:
                    _copy_rows(lock, staged)
                    lock.execute("COMMIT")
                    note_change_saved()
                except sqlite3.Error as exc:
                    raise CollectionError(
                        f"{explain(exc, str(collection))} (nothing was restored; "
                        f"the collection as it was is also in {saved})"
                    ) from None
            finally:
                if lock is not None:
                    lock.close()  # rolls back whatever was not committed
        return Restored(collection, source, saved)

    def _save_current(self, collection: Path, lock: sqlite3.Connection) -> Path:
        """A copy of the collection before it is replaced, or its raw bytes if it is damaged.

        Only a damaged collection gets the raw copy: one SQLite reads whole, whose backup
        failed for another reason (a full disk), is not replaced, since the raw copy of its
        main file would leave out what its write-ahead log holds.
        """
        try:
            saved = self.store.backup(RESTORE)
        except CollectionError:
            if _readable(lock):
                raise  # it says that nothing was changed
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
    """The schema revision of `source`; UserError if it is not a collection this version opens.

    This is the first look, on the file as given and without changing it: what it is, which
    schema it was made at, and whether SQLite finds it whole. Its rows are checked after it
    is brought to the current schema (`_staged`).
    """
    if not source.is_file():
        raise UserError(not_a_file(source))
    try:
        conn = connect_read_only(source)
    except sqlite3.Error as exc:
        raise UserError(f"{source} is not a studyapp collection ({exc})") from None
    try:
        tables = {
            name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if "alembic_version" not in tables:
            if tables - {"sqlite_sequence"}:
                raise UserError(f"{source} is not a studyapp collection: it holds other tables")
            raise UserError(f"{source} is not a studyapp collection: it is empty")
        revisions = [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check(5)")]
    except sqlite3.Error as exc:
        raise UserError(f"{source} is not a studyapp collection ({exc})") from None
    finally:
        conn.close()
    if len(revisions) != 1:
        raise UserError(
            f"{source} is not a studyapp collection: it names {len(revisions)} schema "
            "revisions, not one"
        )
    (revision,) = revisions
    if revision not in REVISIONS:
        raise NewerCollectionError(
            f"{source} was made by a newer version of studyapp (schema {revision!s:.20}); "
            "upgrade studyapp to restore it"
        )
    if problems != ["ok"]:
        raise UserError(f"{source} is damaged ({'; '.join(problems)}); choose another backup")
    return revision


@contextmanager
def _staged(source: Path, collection: Path) -> Iterator[Path]:
    """A copy of the backup at the current schema, checked whole; removed after.

    It is made beside the collection, or where temporary files go while the collection's
    folder does not exist yet (a refused backup leaves no folder behind).
    """
    folder = collection.parent if collection.parent.is_dir() else Path(tempfile.gettempdir())
    with scratch_file(folder / collection.name) as staged:
        try:
            copy_sqlite(source, staged)
        except (OSError, sqlite3.Error) as exc:
            reason = _reason(exc)
            if "full" in reason or "no space" in reason or "i/o" in reason:
                # Writing the copy failed, not reading the backup: say where.
                raise CollectionError(
                    f"could not copy {source} into {folder} to restore it: {reason}; "
                    "the collection was not changed"
                ) from None
            raise CollectionError(f"could not read {source} to restore it: {reason}") from None
        engine = create_engine(file_url(staged), poolclass=NullPool)
        try:
            upgrade_to_head(engine)
        except SQLAlchemyError as exc:
            cause = getattr(exc, "orig", None) or exc
            raise UserError(
                f"{source} cannot be restored: bringing it to this version's schema failed "
                f"({cause})"
            ) from None
        finally:
            engine.dispose()
        conn = sqlite3.connect(staged)
        try:
            check_collection(conn)
        except (InvalidCollection, sqlite3.Error) as exc:
            raise UserError(f"{source} cannot be restored: {exc}") from None
        finally:
            conn.close()
        yield staged


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


def _build_in_place(staged: Path, collection: Path) -> None:
    """A new collection made of the staged backup's rows, renamed over `collection`."""
    try:
        collection.parent.mkdir(parents=True, exist_ok=True)
        with replacing(collection) as temp:
            engine = create_engine(file_url(temp), poolclass=NullPool)
            try:
                ensure_schema(engine, str(collection))
            finally:
                engine.dispose()
            conn = sqlite3.connect(temp, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                _copy_rows(conn, staged)
                conn.execute("COMMIT")
            finally:
                conn.close()
    except WriteError as exc:
        raise CollectionError(f"could not restore into {collection}: {exc.reason}") from None
    except (OSError, sqlite3.Error) as exc:
        raise CollectionError(f"could not restore into {collection}: {_reason(exc)}") from None
    note_change_saved()
    for leftover in ("-wal", "-shm"):  # they belonged to the file just replaced
        Path(f"{collection}{leftover}").unlink(missing_ok=True)


def _new_generation(connection: sqlite3.Connection) -> None:
    """Mark a restored collection as a new generation, so a studyapp that had the old one
    open stops writing to it instead of rating cards by ids that now name others."""
    connection.execute(
        "INSERT OR REPLACE INTO main.collection_info (key, value) VALUES (?, ?)",
        (GENERATION, new_generation()),
    )


def _readable(connection: sqlite3.Connection) -> bool:
    """Whether SQLite reads the whole collection without finding it damaged."""
    try:
        return connection.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    except sqlite3.DatabaseError:
        return False


def _save_raw(collection: Path) -> Path:
    """The collection's bytes as they are, for a file SQLite cannot read."""
    folder = backup_folder(collection)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target = folder / f"{collection.stem}-{stamp}-{RESTORE}.db"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with replacing(target, collection) as temp:
            shutil.copyfile(collection, temp)
    except WriteError as exc:
        why = exc.reason
    except OSError as exc:
        why = _reason(exc)
    else:
        return target
    raise CollectionError(f"could not save {collection} into {folder} before the restore: {why}")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    cause = getattr(exc, "orig", None) or exc
    return str(cause)
