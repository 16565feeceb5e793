"""The collection: an engine, sessions for units of work, and backups.

Every user action is one unit of work: `with store.write() as session:` commits when the
block ends and rolls back if it raises, so a rating, an import or an edit is either stored
whole or not at all. Database failures a user can meet (a busy or read-only collection, a
full disk) come out as one clear sentence.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from studyapp.db.engine import (
    IMMEDIATE,
    busy_timeout_from_env,
    explain,
    make_engine,
    resolve_url,
    sqlite_path,
)
from studyapp.db.models import CollectionInfo
from studyapp.db.schema import ensure_schema
from studyapp.errors import CollectionError

BACKUPS_KEPT = 5
BACKUP_FOLDER = "backups"
MANUAL = "manual"  # the reason given to backups made by hand: they are never pruned


class Store:
    """An open collection."""

    def __init__(self, url: str, busy_timeout_s: float | None = None) -> None:
        """`busy_timeout_s`: how long a writer waits for another to finish before it gives up
        (default: `STUDYAPP_BUSY_TIMEOUT` seconds, else 5)."""
        self.url = url
        self.path: Path | None = sqlite_path(url)
        if busy_timeout_s is None:
            busy_timeout_s = busy_timeout_from_env()
        self.busy_timeout_s = busy_timeout_s
        self.engine: Engine = make_engine(url, busy_timeout_s)
        self._writer = self.engine.execution_options(**{IMMEDIATE: True})
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self._writer, expire_on_commit=False)

    @property
    def where(self) -> str:
        """How messages name this collection: its file, or its URL without a password."""
        if self.path is not None:
            return str(self.path)
        from sqlalchemy.engine import make_url

        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; nothing it does is committed."""
        with self._errors(), self._read_sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A unit of work that takes the write lock at once and commits when the block ends."""
        with self._errors(), self._write_sessions() as session, session.begin():
            yield session

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as exc:
            raise CollectionError(explain(exc, self.where)) from None
        except DatabaseError as exc:
            raise CollectionError(f"{self.where}: the database failed: {exc.orig}") from None

    def backup(self, reason: str, folder: Path | None = None) -> Path | None:
        """Copy the collection file aside before a risky change; keeps the last few.

        Returns the backup's path, or None when there is nothing to copy (a new or a
        non-SQLite collection).
        """
        if self.path is None or not self.path.exists() or self.path.stat().st_size == 0:
            return None
        target_dir = folder or backup_folder(self.path)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        target = target_dir / f"{self.path.stem}-{stamp}-{reason}.db"
        try:
            target_dir.mkdir(parents=True, exist_ok=True)
            copy_sqlite(self.path, target)
        except (OSError, sqlite3.Error) as exc:
            raise CollectionError(
                f"could not back up {self.path} to {target_dir} before the {reason}: {exc}"
            ) from None
        prune_backups(target_dir, self.path.stem)
        return target

    def info(self, key: str) -> str | None:
        with self.read() as session:
            row = session.get(CollectionInfo, key)
            return row.value if row else None

    def dispose(self) -> None:
        self.engine.dispose()


def backup_folder(collection: Path) -> Path:
    """Backups sit in a folder next to the collection (the user data folder by default)."""
    return collection.parent / BACKUP_FOLDER


def read_only_uri(path: Path) -> str:
    """An SQLite URI that opens `path` for reading only, whatever characters its name holds."""
    return f"{path.resolve().as_uri()}?mode=ro"


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite file (WAL included), through SQLite's backup API.

    The copy is one self-contained file (no WAL beside it), so it can be moved, mailed or
    opened where it lies.
    """
    src = sqlite3.connect(read_only_uri(source), uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def list_backups(collection: Path) -> list[Path]:
    """The backups of `collection` in its backups folder, newest first."""
    return _backups_of(backup_folder(collection), collection.stem)[::-1]


def prune_backups(folder: Path, stem: str, keep: int = BACKUPS_KEPT) -> None:
    """Keep the last `keep` automatic backups; those made by hand stay until deleted by hand."""
    automatic = [p for p in _backups_of(folder, stem) if not p.stem.endswith(f"-{MANUAL}")]
    for old in automatic[:-keep]:
        old.unlink(missing_ok=True)


def _backups_of(folder: Path, stem: str) -> list[Path]:
    """Backups named `<stem>-<stamp>-<reason>.db`, oldest first; another collection's stay out."""
    if not folder.is_dir():
        return []
    name = re.compile(rf"{re.escape(stem)}-(\d{{8}}T\d{{12}})-[a-z]+\.db")
    found = [(m.group(1), p) for p in folder.iterdir() if (m := name.fullmatch(p.name))]
    return [path for _, path in sorted(found)]


def _stamp_new(store: Store) -> None:
    from studyapp import __version__

    now = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    with store.write() as session:
        for key, value in (("created_at", now), ("created_by", __version__)):
            if session.get(CollectionInfo, key) is None:
                session.add(CollectionInfo(key=key, value=value))
        row = session.get(CollectionInfo, "last_opened_by")
        if row is None:
            session.add(CollectionInfo(key="last_opened_by", value=__version__))
        else:
            row.value = __version__


def open_store(db: str | None = None, busy_timeout_s: float | None = None) -> Store:
    """Open (creating or upgrading as needed) the collection named by `db`, the env or default."""
    url = resolve_url(db)
    store = Store(url, busy_timeout_s)
    try:
        created = ensure_schema(
            store.engine, store.where, before_migration=lambda: store.backup("migration")
        )
    except BaseException:
        store.dispose()
        raise
    if created:
        _stamp_new(store)
    return store
