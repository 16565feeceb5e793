"""Where the collection lives and how we talk to it.

This is the one module that knows about SQLite: WAL mode, a busy timeout, foreign keys,
full synchronous commits, and `BEGIN IMMEDIATE` for units of work that write, so two processes
on one collection queue up instead of failing halfway. Any other SQLAlchemy URL is used as is.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool

from studyapp.errors import CollectionError, UserError

ENV_VAR = "STUDYAPP_DB"
APP_NAME = "studyapp"
COLLECTION_FILE = "collection.db"
DEFAULT_BUSY_TIMEOUT_S = 5.0
BUSY_TIMEOUT_VAR = "STUDYAPP_BUSY_TIMEOUT"
MAX_BUSY_TIMEOUT_S = 3600.0
IMMEDIATE = "studyapp_immediate"


def default_collection_path() -> Path:
    """The collection in the platform's user data folder."""
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False) / COLLECTION_FILE


def resolve_url(db: str | None = None) -> str:
    """The database URL from `--db`, else `STUDYAPP_DB`, else the user data folder.

    A value with `://` is a SQLAlchemy URL; anything else is a path to an SQLite file.
    """
    value = db or os.environ.get(ENV_VAR) or str(default_collection_path())
    if "://" in value:
        try:
            make_url(value)
        except Exception:
            raise CollectionError(f"{value} is not a valid database URL") from None
        return value
    path = Path(value).expanduser()
    if path.is_dir():
        raise CollectionError(f"{path} is a directory, not a collection file")
    # Built, not pasted, so a "?", "#" or "%" in a folder name stays part of the path.
    sqlite_url = URL.create("sqlite", database=str(path.resolve()))
    return sqlite_url.render_as_string(hide_password=False)


def busy_timeout_from_env() -> float:
    """How long a writer waits for another to finish: `STUDYAPP_BUSY_TIMEOUT` seconds, else 5."""
    raw = os.environ.get(BUSY_TIMEOUT_VAR, "").strip()
    if not raw:
        return DEFAULT_BUSY_TIMEOUT_S
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= MAX_BUSY_TIMEOUT_S:
        raise UserError(
            f"{BUSY_TIMEOUT_VAR} must be a number of seconds from 0 to "
            f"{MAX_BUSY_TIMEOUT_S:.0f}, not {raw!r}"
        )
    return seconds


def sqlite_path(url: str) -> Path | None:
    """The file behind an SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(url: str, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> Engine:
    """An engine with the collection's connection settings."""
    parsed = make_url(url)
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


def explain(exc: OperationalError | sqlite3.Error, where: str) -> str:
    """One sentence for the database failures a user can run into."""
    cause = getattr(exc, "orig", None) or exc
    detail = str(cause).lower()
    if "locked" in detail or "busy" in detail:
        return f"{where} is busy: another studyapp is writing to it; try again in a moment"
    # SQLite writes a journal beside the collection, so a read-only folder makes it read-only
    # too; depending on the system that shows as "readonly" or as "unable to open".
    folder = _read_only_folder(where)
    if "readonly" in detail or "read-only" in detail or ("unable to open" in detail and folder):
        note = f" (its folder {folder} is read-only, and studyapp writes a journal beside it)"
        return f"{where} is read-only: cannot save changes to it{note if folder else ''}"
    if "disk is full" in detail or "disk i/o" in detail:
        return f"{where}: the disk is full or failing, nothing was saved"
    if "unable to open" in detail:
        return f"{where} cannot be opened: check the path and its permissions"
    return f"{where}: the database failed: {detail}"


def _read_only_folder(where: str) -> Path | None:
    """The folder of an existing collection file, if this process cannot write in it."""
    path = Path(where)
    if path.is_file() and not os.access(path.parent, os.W_OK):
        return path.parent
    return None
