"""Where the collection lives, how long a writer waits for it, and what went wrong with it.

Nothing here loads SQLAlchemy: opening the app on an up-to-date SQLite collection reads the
first card with the sqlite3 driver alone, and only later loads the ORM for writing.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from studyapp.errors import CollectionError, UserError
from studyapp.files import describe_kind, user_path
from studyapp.model import text_problem

ENV_VAR = "STUDYAPP_DB"
APP_NAME = "studyapp"
COLLECTION_FILE = "collection.db"
DEFAULT_BUSY_TIMEOUT_S = 5.0
BUSY_TIMEOUT_VAR = "STUDYAPP_BUSY_TIMEOUT"
MAX_BUSY_TIMEOUT_S = 3600.0


def default_collection_path() -> Path:
    """The collection in the platform's user data folder."""
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False) / COLLECTION_FILE


def named_collection(db: str | None = None) -> str:
    """What names the collection: `--db`, else `STUDYAPP_DB`, else the user data folder.

    An empty `--db` (an unset shell variable, say) is an error, not the default collection.
    """
    if db is not None and not db.strip():
        raise CollectionError("--db is empty: give the path of a collection file, or leave it out")
    env = os.environ.get(ENV_VAR)
    if db is None and env and not env.strip():
        raise CollectionError(
            f"{ENV_VAR} is blank: give it the path of a collection file, or unset it"
        )
    return db or env or str(default_collection_path())


def collection_file(value: str) -> Path | None:
    """The SQLite file a `--db` value names, or None when it is a database URL (has `://`)."""
    if "://" in value:
        return None
    if text_problem(value) is not None:  # bytes the shell passed that are not UTF-8
        shown = value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise CollectionError(
            f"{shown} is not UTF-8 text, and studyapp opens a collection only by a UTF-8 "
            "name: rename the collection file or its folder"
        )
    path = user_path(value)
    check_collection_kind(path)
    return Path(os.path.realpath(path))  # a symlink loop stays as it is, for opening to name


def check_collection_kind(path: Path) -> None:
    """CollectionError unless `path` is a regular file or nothing yet: SQLite on a device, a
    FIFO or a folder would hang, fail with a misleading reason, or write beside it."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # missing, or unreadable: opening it says which
    if stat.S_ISDIR(mode):
        raise CollectionError(f"{path} is a directory, not a collection file")
    if not stat.S_ISREG(mode):
        raise CollectionError(f"{path} is {describe_kind(mode)}, not a collection file")


def read_only_uri(path: Path, immutable: bool = False) -> str:
    """An SQLite URI that opens `path` for reading only, whatever characters its name holds."""
    return f"{path.resolve().as_uri()}?mode=ro{'&immutable=1' if immutable else ''}"


def connect_read_only(path: Path, timeout: float = DEFAULT_BUSY_TIMEOUT_S) -> sqlite3.Connection:
    """An sqlite3 connection that reads `path` and can neither create nor change it.

    A collection in WAL mode is read with the help of two files beside it; in a folder this
    process cannot write, where they cannot be made, the file is read as it is on disk
    (SQLite's "immutable"), which is the whole collection as long as no write-ahead log is
    waiting beside it. A file another program holds locked is opened all the same; reading
    it waits up to `timeout` seconds.
    """
    conn = _read_only(path, immutable=False)
    try:
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.OperationalError as exc:
        detail = str(exc)
        if "locked" in detail or "busy" in detail:
            pass  # it opened; whoever holds it is waited for when it is read
        elif ("unable to open" in detail or "readonly" in detail) and not os.access(
            path.parent, os.W_OK
        ):
            conn.close()
            if _has_log(path):
                raise
            conn = _read_only(path, immutable=True)
        else:
            conn.close()
            raise
    except sqlite3.Error:
        conn.close()
        raise
    conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
    return conn


def _read_only(path: Path, immutable: bool) -> sqlite3.Connection:
    return sqlite3.connect(
        read_only_uri(path, immutable), uri=True, timeout=0, check_same_thread=False
    )


def has_read_files(path: Path) -> bool:
    """Whether the write-ahead log or shared-memory file is beside the collection `path`."""
    return any(Path(f"{path}{suffix}").exists() for suffix in ("-wal", "-shm"))


def remove_read_files(path: Path) -> None:
    """Remove the write-ahead log and shared-memory files that reading `path` made, when
    the log is empty: a read-only connection cannot remove them, so one that may write (and
    writes nothing) is opened and closed, and SQLite, if no one else has the file open,
    removes them as it does after any last connection. The file's bytes stay as they are:
    an empty log has nothing to copy into it. Anything in the way leaves them be."""
    if not Path(f"{path}-wal").exists() or _has_log(path):
        return
    try:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=0, check_same_thread=False
        )
    except (OSError, sqlite3.Error):
        return
    try:
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.Error:
        pass
    finally:
        conn.close()


def _has_log(path: Path) -> bool:
    try:
        return Path(f"{path}-wal").stat().st_size > 0
    except OSError:
        return False


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


def explain(exc: BaseException, where: str) -> str:
    """One sentence for the database failures a user can run into (from SQLAlchemy or sqlite3)."""
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


def describe(exc: BaseException, where: str) -> str:
    """One sentence for a database failure from SQLAlchemy, sqlite3 or a server."""
    cause = getattr(exc, "orig", None) or exc
    if type(cause).__module__.startswith("psycopg"):
        from studyapp.db.server import explain as explain_server

        said = explain_server(exc, where)
        if said is not None:
            return said
    if isinstance(cause, sqlite3.OperationalError) or not isinstance(cause, sqlite3.Error):
        return explain(exc, where)
    return f"{where}: the database failed: {cause}"


def _read_only_folder(where: str) -> Path | None:
    """The folder of an existing collection file, if this process cannot write in it."""
    path = Path(where)
    if path.is_file() and not os.access(path.parent, os.W_OK):
        return path.parent
    return None
