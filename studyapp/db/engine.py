"""How we talk to the collection through SQLAlchemy.

This is the one module that knows about SQLite: WAL mode, a busy timeout, foreign keys,
full synchronous commits, and `BEGIN IMMEDIATE` for units of work that write, so two processes
on one collection queue up instead of failing halfway. A PostgreSQL URL gets the same rules
from `studyapp.db.server`; any other SQLAlchemy URL is used as is.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import QueuePool, StaticPool

from studyapp.db.location import (
    DEFAULT_BUSY_TIMEOUT_S,
    check_collection_kind,
    collection_file,
    connect_read_only,
    named_collection,
)
from studyapp.errors import CollectionError

IMMEDIATE = "studyapp_immediate"
# With IMMEDIATE on a server: queries (SQL text without parameters) sent in the same round
# trip as the write lock; their rows, a list for each, are left in the connection's `info`
# under this same key for the unit of work.
READ_WITH_LOCK = "studyapp_read_with_lock"


def resolve_url(db: str | None = None) -> str:
    """The database URL from `--db`, else `STUDYAPP_DB`, else the user data folder.

    A value with `://` is a SQLAlchemy URL; anything else is a path to an SQLite file.
    """
    value = named_collection(db)
    path = collection_file(value)
    if path is None:
        check_url(value)
        return value
    return file_url(path)


def check_url(value: str) -> None:
    """CollectionError unless `value` is a database URL this installation can open."""
    from studyapp.db.server import engine_url, hide_password

    try:
        url = engine_url(value)
        url.port  # noqa: B018  (a port that is not a number fails here, not at connect)
    except Exception:
        raise CollectionError(f"{hide_password(value)} is not a valid database URL") from None
    try:
        url.get_dialect().import_dbapi()
    except Exception:  # no such dialect, or its driver is not installed
        raise CollectionError(
            f"{url.drivername}:// databases are not supported by this installation: "
            "give --db the path of an SQLite file or a postgresql:// URL"
        ) from None
    path = sqlite_path(value)
    if path is not None:
        check_collection_kind(path)


def file_url(path: Path) -> str:
    """The SQLAlchemy URL of an SQLite file."""
    # Built, not pasted, so a "?", "#" or "%" in a folder name stays part of the path.
    return URL.create("sqlite", database=str(path)).render_as_string(hide_password=False)


def sqlite_path(url: str) -> Path | None:
    """The file behind an SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.drivername.split("+")[0] != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(url: str, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> Engine:
    """An engine with the collection's connection settings."""
    from studyapp.db.server import is_server_url, make_server_engine

    parsed = make_url(url)
    if is_server_url(parsed):
        return make_server_engine(url, busy_timeout_s)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)

    path = sqlite_path(url)
    kwargs: dict[str, Any] = {"connect_args": {"timeout": busy_timeout_s}}
    if path is None:
        kwargs["poolclass"] = StaticPool
        kwargs["connect_args"]["check_same_thread"] = False
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CollectionError(f"cannot create the folder for {path}: {exc.strerror}") from None
    engine = create_engine(url, **kwargs)
    busy_ms = int(busy_timeout_s * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how each transaction starts.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            if path is not None:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def make_read_only_engine(path: Path, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> Engine:
    """An engine that reads the SQLite file `path` and can neither create nor change it."""
    engine = create_engine(
        "sqlite://",
        creator=lambda: connect_read_only(path, busy_timeout_s),
        poolclass=QueuePool,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # transactions begin as below

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine
