"""The collection: an engine, sessions for units of work, and backups.

Every user action is one unit of work: `with store.write() as session:` commits when the
block ends and rolls back if it raises, so a rating, an import or an edit is either stored
whole or not at all. Database failures a user can meet (a busy or read-only collection, a
full disk) come out as one clear sentence.

A collection carries an identity: a random id made with it and a generation that `restore`
replaces, both in `collection_info`. A store notes them (and, for a file, its inode) when it
first reads, and every unit of work checks them inside its own transaction, with one lookup
by primary key and one `stat`. When another process restored a backup into the collection
or moved another file over it, the ids this process holds (the card on screen, the queue)
may name other cards now, so the store stops writing and says so.
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studyapp.db.location import (
    DEFAULT_BUSY_TIMEOUT_S,
    busy_timeout_from_env,
    collection_file,
    connect_read_only,
    describe,
    explain,
    has_read_files,
    named_collection,
    remove_read_files,
)
from studyapp.db.location import read_only_uri as read_only_uri  # where callers found it
from studyapp.db.reads import Rows
from studyapp.db.revisions import HEAD, file_is_at_head
from studyapp.errors import (
    CollectionError,
    CollectionReplacedError,
    UnconfirmedWrite,
    UserError,
    changes_uncounted,
    note_change_saved,
)
from studyapp.files import COMPANIONS, WriteError, remove_leftovers, replacing

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import Session, sessionmaker

    from studyapp.db.checkpoints import IdleCheckpoints

BACKUPS_KEPT = 5
BACKUP_FOLDER = "backups"
MANUAL = "manual"  # the reason given to backups made by hand: they are never pruned
# What each automatic backup comes before, for messages.
BACKUP_PURPOSES = {
    "import": "before the import",
    "migration": "before upgrading it",
    "restore": "before the restore",
    "bundled": "before updating the bundled deck",
    "delete": "before deleting",
}
SQLITE_MAGIC = b"SQLite format 3\x00"
COLLECTION_ID = "collection_id"  # made with the collection, never changed
GENERATION = "generation"  # replaced whenever a backup is restored into the collection
_IDENTITY = (
    "SELECT key, value FROM collection_info "
    f"WHERE key IN ('{COLLECTION_ID}', '{GENERATION}') ORDER BY key"
)

Identity = tuple[tuple[str, str], ...]


class Store:
    """An open collection.

    SQLAlchemy loads on the first unit of work, not before: `reading()` on an SQLite file
    runs on the sqlite3 driver, so the app can paint its first card while the ORM is still
    to come (`prepare()` loads it in the background).
    """

    def __init__(
        self,
        url: str | None = None,
        busy_timeout_s: float | None = None,
        *,
        path: Path | None = None,
        read_only: bool = False,
        tidy_after: bool = False,
    ) -> None:
        """A database `url`, or the `path` of an SQLite file. `busy_timeout_s`: how long a
        writer waits for another to finish before it gives up (default:
        `STUDYAPP_BUSY_TIMEOUT` seconds, else 5). A `read_only` store (a `path` only) opens
        the file so that it cannot create or change it, even in a read-only folder."""
        if (url is None) == (path is None):
            raise TypeError("a Store needs a url or a path")
        self.read_only = read_only
        if url is not None:
            from studyapp.db.engine import sqlite_path

            path = sqlite_path(url)
        self._url = url
        self.path: Path | None = path
        if busy_timeout_s is None:
            busy_timeout_s = busy_timeout_from_env()
        self.busy_timeout_s = busy_timeout_s
        self._lock = threading.Lock()
        self._plain: sqlite3.Connection | None = None
        self._made: tuple[Engine, sessionmaker[Session], sessionmaker[Session]] | None = None
        self._identity: Identity | None = None  # as first read
        self._inode: tuple[int, int] | None = None  # the file's (device, inode), as first read
        self._replaced: str | None = None  # why this store no longer writes, once it knows
        self._checkpoints: IdleCheckpoints | None = None  # after prepare(), for a file
        # `tidy_after`: a read-only store of a file that had no write-ahead log beside it
        # when it was opened; the two files SQLite makes to read it are removed again when
        # it closes (see `dispose`).
        self._tidy_after = tidy_after and read_only and path is not None
        if self._tidy_after and _KEPT_OPEN is not None:
            _KEPT_OPEN.append(self)

    @cached_property
    def url(self) -> str:
        if self._url is not None:
            return self._url
        from studyapp.db.engine import file_url

        assert self.path is not None
        return file_url(self.path)

    @property
    def engine(self) -> Engine:
        return self._orm()[0]

    def prepare(self) -> None:
        """Get ready for a learner's session, so that no rating waits for set-up work.

        Loads SQLAlchemy and connects; for a collection file, moves the write-ahead log's
        checkpoints out of the commits into idle time (`studyapp.db.checkpoints`) and
        rehearses a rating in a transaction it rolls back, so that the first rating finds its
        statements compiled. The app calls this in the background while the first card is
        read; a failure here is met again, and reported, by the first write.
        """
        from sqlalchemy.orm import configure_mappers

        self._orm()
        from studyapp.db import repository

        configure_mappers()  # done once on first use otherwise: ~20 ms of the first rating
        if self.read_only or self.path is None:
            return
        self._checkpoint_when_idle(self.path)
        with self._errors(), self._orm()[2]() as session:
            session.begin()
            try:
                rows = rows_in(session)
                self._check_identity(rows)
                repository.rehearse_rating(session, rows)
            finally:
                session.rollback()

    def _checkpoint_when_idle(self, path: Path) -> None:
        from studyapp.db.checkpoints import IdleCheckpoints

        with self._lock:
            if self._checkpoints is not None:
                return
            self._checkpoints = IdleCheckpoints(path)
            made = self._made
        if made is not None:
            # Connections made before now still checkpoint in their commits: close those
            # not in use, so that each one from now on is made without it (see _orm).
            made[0].dispose()

    def _orm(self) -> tuple[Engine, sessionmaker[Session], sessionmaker[Session]]:
        """The engine and the session factories for reading and for writing, made once."""
        with self._lock:
            made = self._made
            if made is None:
                from sqlalchemy import event
                from sqlalchemy.orm import sessionmaker

                from studyapp.db.engine import (
                    IMMEDIATE,
                    READ_WITH_LOCK,
                    make_engine,
                    make_read_only_engine,
                )

                if self.read_only and self.path is not None:
                    engine = make_read_only_engine(self.path, self.busy_timeout_s)
                else:
                    engine = make_engine(self.url, self.busy_timeout_s)
                    if self.path is not None:
                        event.listen(engine, "connect", self._on_connect)
                reader = engine
                if self.path is None and engine.dialect.name == "postgresql":
                    from studyapp.db.server import READ_OPTIONS

                    reader = engine.execution_options(**READ_OPTIONS)
                # A server reads the collection's identity with the write lock, at once.
                writer = engine.execution_options(**{IMMEDIATE: True, READ_WITH_LOCK: (_IDENTITY,)})
                # A store dropped without `dispose()` still closes its connections (a
                # server counts them).
                weakref.finalize(self, engine.dispose)
                made = (
                    engine,
                    sessionmaker(reader, expire_on_commit=False),
                    sessionmaker(writer, expire_on_commit=False),
                )
                self._made = made
            return made

    def _on_connect(self, dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        if self._checkpoints is not None:
            # Checkpoints run when the collection is idle, not in this connection's commits.
            dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")

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
        with self._errors(), self._orm()[1]() as session:
            if self._identity is None:
                self._note_identity(rows_in(session))
            yield session

    @contextmanager
    def write(self, read_along: str | None = None) -> Iterator[Session]:
        """A unit of work that takes the write lock at once and commits when the block ends.

        `read_along` is a query (SQL text without parameters) a server runs in the round
        trip that takes the lock; `read_along_rows` gives its rows in the block (None on
        SQLite, where the caller runs it: a query there costs no round trip).

        Raises CollectionReplacedError, before anything is written, when the collection was
        replaced since this store first read it.
        """
        if self.read_only:
            raise CollectionError(f"{self.where} was opened for reading only")
        checkpoints = self._checkpoints
        with self._errors(), self._orm()[2]() as session:
            session.begin()
            try:
                if read_along is not None:
                    from studyapp.db.engine import READ_WITH_LOCK

                    along = {READ_WITH_LOCK: (_IDENTITY, read_along)}
                    session.connection(execution_options=along)
                # Under the write lock, in this transaction.
                self._check_identity(_identity_rows(session))
                driver = _sqlite_driver(session) if checkpoints is not None else None
                changes = driver.total_changes if driver is not None else 0
                yield session
            except BaseException:
                session.rollback()
                raise
            self._commit(session)
            if driver is not None and checkpoints is not None:
                checkpoints.wrote(driver.total_changes - changes)  # counted after the commit

    def _commit(self, session: Session) -> None:
        """Commit; a server lost during the commit is an `UnconfirmedWrite`, since the
        change may have been stored before the answer was lost."""
        from sqlalchemy.exc import DBAPIError

        try:
            session.commit()
            note_change_saved()
        except DBAPIError as exc:
            if self.path is None:
                from studyapp.db.server import is_disconnect

                if is_disconnect(exc):
                    raise UnconfirmedWrite(
                        f"{self.where}: the connection to the server was lost while saving, "
                        "so the change may or may not have been stored; check once the server "
                        "is back"
                    ) from None
            raise

    # --- which collection this is -----------------------------------------------------------

    def _note_identity(self, rows: Rows) -> None:
        """Remember which collection this store reads (its identity and its file)."""
        identity = _identity_in(rows)
        with self._lock:
            if self._identity is None:
                self._identity = identity
                self._inode = self._file_id()

    def _check_identity(self, rows: Rows) -> None:
        if self._replaced is None and self._identity is None:
            self._note_identity(rows)
            return
        if self._replaced is None:
            if self.path is not None and self._file_id() != self._inode:
                self._replaced = "another file was put in its place"
            elif _identity_in(rows) != self._identity:
                self._replaced = "a backup was restored into it, or it was replaced"
        if self._replaced is not None:
            raise CollectionReplacedError(
                f"{self.where} changed while studyapp had it open ({self._replaced}); "
                "nothing was saved: close studyapp and open it again"
            )

    def _file_id(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return info.st_dev, info.st_ino

    def identity_written(self) -> None:
        """Forget the identity noted, after this store itself gave the collection one."""
        with self._lock:
            self._identity = None
            self._inode = None

    @contextmanager
    def reading(self) -> Iterator[Rows]:
        """Plain SQL reads in one transaction (see `studyapp.db.reads`).

        An SQLite file is read with the sqlite3 driver, without loading SQLAlchemy; any other
        database through a read session.
        """
        if self.path is None:
            with self.read() as session:  # notes the identity
                yield rows_in(session)
            return
        try:
            with self._lock:
                if self._plain is None:
                    if self.read_only:
                        self._plain = connect_read_only(self.path, self.busy_timeout_s)
                        self._plain.isolation_level = None
                    else:
                        self._plain = sqlite3.connect(
                            self.path,
                            timeout=self.busy_timeout_s,
                            isolation_level=None,
                            check_same_thread=False,
                        )
                connection = self._plain
            with _PLAIN_USE:
                connection.execute("BEGIN")
                try:
                    rows: Rows = lambda sql, params: connection.execute(sql, params).fetchall()  # noqa: E731
                    if self._identity is None:
                        self._note_identity(rows)
                    yield rows
                finally:
                    connection.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            raise CollectionError(explain(exc, self.where)) from None
        except sqlite3.DatabaseError as exc:
            raise CollectionError(f"{self.where}: the database failed: {exc}") from None

    @contextmanager
    def _errors(self) -> Iterator[None]:
        from sqlalchemy.exc import DatabaseError, OperationalError

        try:
            yield
        except (OperationalError, DatabaseError) as exc:
            raise CollectionError(describe(exc, self.where)) from None

    def backup(self, reason: str, folder: Path | None = None) -> Path | None:
        """Copy the collection file aside before a risky change; keeps the last few.

        Returns the backup's path, or None when there is nothing to copy (a new or a
        non-SQLite collection). The copy appears under its name whole or not at all.
        """
        if self.path is None or not self.path.exists() or self.path.stat().st_size == 0:
            return None
        target_dir = folder or backup_folder(self.path)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        target = target_dir / f"{self.path.stem}-{stamp}-{reason}.db"
        try:
            target_dir.mkdir(parents=True, exist_ok=True)
            with replacing(target, collection=self.path) as temp:
                copy_sqlite(self.path, temp, self.busy_timeout_s)
        except WriteError as exc:
            raise self._backup_failed(target_dir, reason, exc.reason) from None
        except UserError:
            raise
        except (OSError, sqlite3.Error) as exc:
            raise self._backup_failed(target_dir, reason, _reason(exc)) from None
        remove_leftovers(target_dir, f"{self.path.stem}-")
        if folder is None:  # the collection's own folder of backups; any other is the user's
            prune_backups(target_dir, self.path.stem)
        return target

    def _backup_failed(self, folder: Path, reason: str, why: str) -> CollectionError:
        purpose = BACKUP_PURPOSES.get(reason)
        before = f" {purpose}" if purpose else ""
        after = "; nothing was changed" if purpose else ""
        return CollectionError(f"could not back up {self.path} into {folder}{before}: {why}{after}")

    def info(self, key: str) -> str | None:
        from studyapp.db.models import CollectionInfo

        with self.read() as session:
            row = session.get(CollectionInfo, key)
            return row.value if row else None

    def dispose(self) -> None:
        """Close the collection; the last connection to close checkpoints what is left."""
        with self._lock:
            made, self._made = self._made, None
            plain, self._plain = self._plain, None
            checkpoints, self._checkpoints = self._checkpoints, None
        if checkpoints is not None:
            checkpoints.stop()
        if made is not None:
            made[0].dispose()
        if plain is not None:
            plain.close()
        if self._tidy_after and self.path is not None:
            self._tidy_after = False
            remove_read_files(self.path)


_KEPT_OPEN: list[Store] | None = None


@contextmanager
def read_only_stores_closed() -> Iterator[None]:
    """Keep the read-only stores opened in the block, and close them when it ends, so that
    the files reading made beside their collection are removed (`studyapp decks` left
    `c.db-wal` and `c.db-shm` behind). A store merely dropped closes its connections one by
    one, too late to remove them."""
    global _KEPT_OPEN
    _KEPT_OPEN = []
    try:
        yield
    finally:
        kept, _KEPT_OPEN = _KEPT_OPEN, None
        for store in kept:
            store.dispose()


# One plain-SQL read at a time on the shared sqlite3 connection (a transaction is per
# connection, not per thread).
_PLAIN_USE = threading.RLock()
_TEXTS: dict[str, Any] = {}


def rows_in(session: Session) -> Rows:
    """Plain SQL reads inside a SQLAlchemy unit of work (see `studyapp.db.reads`)."""
    driver = _sqlite_driver(session)
    if driver is not None:
        # The unit of work's own sqlite3 connection, so the reads see its writes; straight to
        # the driver, as the plain reads outside a unit of work are.
        return lambda sql, params: driver.execute(sql, params).fetchall()

    return text_rows(session.connection())


def _sqlite_driver(session: Session) -> sqlite3.Connection | None:
    """The sqlite3 connection under a unit of work on SQLite, else None."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return None
    driver = connection.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver


def text_rows(connection: Connection) -> Rows:
    """Plain SQL reads through SQLAlchemy, for databases other than SQLite."""
    from sqlalchemy import text

    def rows(sql: str, params: Any) -> Any:
        statement = _TEXTS.get(sql)
        if statement is None:
            statement = _TEXTS.setdefault(sql, text(sql))
        return connection.execute(statement, params).all()

    return rows


def backup_folder(collection: Path) -> Path:
    """Backups sit in a folder next to the collection (the user data folder by default)."""
    return collection.parent / BACKUP_FOLDER


def in_memory_copy(store: Store) -> Store:
    """A store in memory holding a consistent copy of `store`'s collection file."""
    assert store.path is not None
    copy = Store("sqlite://", store.busy_timeout_s)
    raw = copy.engine.raw_connection()  # the one connection an in-memory store has
    try:
        _backup_into(raw.driver_connection, store.path, store.busy_timeout_s)
    except sqlite3.Error as exc:
        copy.dispose()
        raise CollectionError(explain(exc, str(store.path))) from None
    finally:
        raw.close()
    return copy


def copy_sqlite(source: Path, target: Path, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> None:
    """A consistent copy of a live SQLite file (WAL included), through SQLite's backup API.

    The copy is one self-contained file (no WAL beside it), so it can be moved, mailed or
    opened where it lies.
    """
    dst = sqlite3.connect(target)
    try:
        _backup_into(dst, source, busy_timeout_s)
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()


def _backup_into(dst: sqlite3.Connection, source: Path, busy_timeout_s: float) -> None:
    """Copy the SQLite file `source` into `dst` whole. A source that another process keeps
    locked is waited for `busy_timeout_s` seconds, in steps that let a stop signal through."""
    deadline = time.monotonic() + busy_timeout_s

    def waiting(status: int, _remaining: int, _total: int) -> None:
        if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) and time.monotonic() > deadline:
            raise sqlite3.OperationalError(f"{source} is locked")

    src = connect_read_only(source, busy_timeout_s)
    src.execute("PRAGMA busy_timeout=0")  # waited for below, where a signal can get through
    try:
        src.backup(dst, progress=waiting)
    finally:
        src.close()


def list_backups(collection: Path) -> list[Path]:
    """The complete backups of `collection` in its backups folder, newest first."""
    return _backups_of(backup_folder(collection), collection.stem)[::-1]


def prune_backups(folder: Path, stem: str, keep: int = BACKUPS_KEPT) -> None:
    """Keep the last `keep` automatic backups; those made by hand stay until deleted by hand.

    Only complete backups count, and a backup goes together with any journal beside it.
    """
    automatic = [p for p in _backups_of(folder, stem) if not p.stem.endswith(f"-{MANUAL}")]
    for old in automatic[:-keep]:
        for suffix in ("", *COMPANIONS):
            Path(f"{old}{suffix}").unlink(missing_ok=True)
    for name in _backup_names(folder, stem, companions=True):
        base = folder / name.group("backup")
        if name.group("companion") and not base.exists():
            (folder / name.group(0)).unlink(missing_ok=True)  # its backup is gone


def _backups_of(folder: Path, stem: str) -> list[Path]:
    """Complete backups named `<stem>-<stamp>-<reason>.db`, oldest first; another collection's
    stay out, and so does a file cut short (left by an older studyapp that was stopped)."""
    found = [
        (m.group("stamp"), folder / m.group(0))
        for m in _backup_names(folder, stem, companions=False)
    ]
    return [path for _, path in sorted(found) if is_complete_sqlite(path)]


def _backup_names(folder: Path, stem: str, companions: bool) -> list[re.Match[str]]:
    if not folder.is_dir():
        return []
    extra = "|".join(re.escape(c) for c in COMPANIONS) if companions else ""
    name = re.compile(
        rf"(?P<backup>{re.escape(stem)}-(?P<stamp>\d{{8}}T\d{{12}})-[a-z]+\.db)"
        rf"(?P<companion>{extra})"
    )
    try:
        return [m for entry in os.scandir(folder) if (m := name.fullmatch(entry.name))]
    except OSError:
        return []


def is_complete_sqlite(path: Path) -> bool:
    """Whether `path` is a whole SQLite file: its header says how long it is, and it is."""
    try:
        with open(path, "rb") as file:
            header = file.read(100)
            size = os.fstat(file.fileno()).st_size
    except OSError:
        return False
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        return False
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if page_size < 512 or size % page_size:
        return False
    # The page count in the header is to be trusted only when written by the last change.
    counted = header[24:28] == header[92:96] and pages > 0
    return size == pages * page_size if counted else size > 0


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return "another program keeps the collection locked; try again in a moment"
    return str(exc)


def _identity_rows(session: Session) -> Rows:
    """How a unit of work that writes reads the collection's identity: the rows a server sent
    with the write lock, or a query of its own. Rows sent for a `read_along` query are kept
    for `read_along_rows`."""
    from studyapp.db.engine import READ_WITH_LOCK

    read = session.connection().info.pop(READ_WITH_LOCK, None)
    if read is None:
        return rows_in(session)
    identity, *along = read
    session.info[READ_WITH_LOCK] = along[0] if along else None
    return lambda _sql, _params: identity  # the one query `_identity_in` makes


def read_along_rows(session: Session) -> Sequence[Sequence[Any]] | None:
    """The rows of the `read_along` query of `Store.write`, if a server sent them with the
    write lock; None when the caller must run it."""
    from studyapp.db.engine import READ_WITH_LOCK

    return session.info.pop(READ_WITH_LOCK, None)


def _identity_in(rows: Rows) -> Identity:
    try:
        return tuple((key, value) for key, value in rows(_IDENTITY, {}))
    except sqlite3.OperationalError:  # not a collection (yet): it has no identity to keep
        return ()


def new_generation() -> str:
    """A fresh value for GENERATION: a restore writes one into the collection it replaces."""
    return secrets.token_hex(16)


def _stamp_new(store: Store) -> None:
    from studyapp import __version__
    from studyapp.db.models import CollectionInfo

    now = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    made = (("created_at", now), ("created_by", __version__))
    with store.write() as session:
        for key, value in (*made, (COLLECTION_ID, secrets.token_hex(16))):
            if session.get(CollectionInfo, key) is None:
                session.add(CollectionInfo(key=key, value=value))
        row = session.get(CollectionInfo, "last_opened_by")
        if row is None:
            session.add(CollectionInfo(key="last_opened_by", value=__version__))
        else:
            row.value = __version__
    store.identity_written()


def open_store(
    db: str | None = None,
    busy_timeout_s: float | None = None,
    *,
    read_only: bool = False,
    create: bool = True,
) -> Store:
    """Open (creating or upgrading as needed) the collection named by `db`, the env or default.

    `read_only` is for commands that only read: a collection file that is not there is an
    error, not made (nor its folder), and one at the current schema is opened so that it
    cannot be changed, even in a read-only folder; an empty database on a server is an error
    too. `create=False` makes an empty database on a server `NoCollectionYet` instead of a
    new collection.
    """
    if busy_timeout_s is None:
        busy_timeout_s = busy_timeout_from_env()
    path = collection_file(named_collection(db))
    if read_only:
        if path is None:
            from studyapp.db.engine import resolve_url, sqlite_path

            path = sqlite_path(resolve_url(db))
        fresh = path is not None and not has_read_files(path)
        if path is not None and _readable_at_head(path, busy_timeout_s):
            return Store(path=path, busy_timeout_s=busy_timeout_s, read_only=True, tidy_after=fresh)
    elif path is not None and file_is_at_head(path, busy_timeout_s):
        return Store(path=path, busy_timeout_s=busy_timeout_s)  # ready: nothing to set up

    from studyapp.db.engine import resolve_url
    from studyapp.db.schema import ensure_schema
    from studyapp.db.server import is_server_url

    url = resolve_url(db)
    # A database server read by a command that only reads is not set up by it; an SQLite
    # file that needs the full open is upgraded (or refused) as for any command.
    store = Store(url, busy_timeout_s, read_only=read_only and is_server_url(url))
    try:
        created = ensure_schema(
            store.engine,
            store.where,
            before_migration=lambda: store.backup("migration"),
            create=create and not store.read_only,
            upgrade=not store.read_only,  # a shared server: upgraded on purpose, not by a read
        )
    except BaseException:
        store.dispose()
        raise
    if created:
        with changes_uncounted():
            _stamp_new(store)
    return store


def _readable_at_head(path: Path, busy_timeout_s: float) -> bool:
    """For a read-only open: True when `path` is a collection at the current schema, False
    when it needs the full open (an older collection to upgrade, or one to refuse with a
    reason), and CollectionError when there is no collection there to read."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise CollectionError(
            f"there is no collection at {path}: `studyapp init` makes one "
            "(or check --db and STUDYAPP_DB)"
        ) from None
    except OSError:
        return False  # the full open explains it
    if size == 0:
        raise CollectionError(f"{path} is empty, not a collection: `studyapp init` makes it one")
    try:
        conn = connect_read_only(path, busy_timeout_s)
    except sqlite3.Error:
        return False
    try:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
        if not tables:
            raise CollectionError(
                f"{path} holds no collection yet: `studyapp init` makes one there"
            )
        if "alembic_version" not in tables:
            return False
        return conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
    except sqlite3.Error:
        return False
    finally:
        conn.close()
