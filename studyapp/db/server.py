"""How we talk to a PostgreSQL server that holds a shared collection.

The app was written for SQLite's rules: one writer at a time (`BEGIN IMMEDIATE`), readers
that see one consistent moment, and a writer that gives up after the busy timeout with one
clear sentence. A server gets the same rules, so every service works unchanged and two
machines can neither lose nor double a rating:

- A unit of work that writes first takes the collection's write lock (a transaction-scoped
  advisory lock, waited for up to the busy timeout), and then, at READ COMMITTED, sees
  everything the writers before it committed.
- A read runs in one REPEATABLE READ, READ ONLY transaction: a backup or an export is one
  consistent moment of the collection.
- A server that cannot be reached, refuses the password or has no such database is one
  sentence, never with the password in it. A machine that drops off the network mid-write
  holds the lock until the server gives up on its session (`IDLE_IN_TRANSACTION_S`).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

DRIVER = "postgresql+psycopg"
ALIASES = {"postgresql", "postgres", "postgresql+psycopg"}
CONNECT_TIMEOUT_S = 10
# A dead peer is noticed within about KEEPALIVE_IDLE + KEEPALIVE_INTERVAL * COUNT seconds.
KEEPALIVE_IDLE_S, KEEPALIVE_INTERVAL_S, KEEPALIVE_COUNT = 5, 2, 3
IDLE_IN_TRANSACTION_S = 120
# The write lock: one advisory lock per schema, in a key space of our own ("stdy").
LOCK_SPACE = int.from_bytes(b"stdy", "big") - 2**31
READ_OPTIONS = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}

# The driver logs what it ignores while a lost connection is torn down; the failure itself
# reaches the user as one sentence, so those notes must not print a second line.
logging.getLogger("psycopg").addHandler(logging.NullHandler())


def is_server_url(url: str | URL) -> bool:
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.drivername in ALIASES


def engine_url(url: str | URL) -> URL:
    """The URL with the driver studyapp installs: `postgresql://` and `postgres://` are
    served by psycopg 3."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.drivername in ALIASES:
        return parsed.set(drivername=DRIVER)
    return parsed


def hide_password(text: str) -> str:
    """`text` with the password of any URL in it replaced by ***."""
    return re.sub(r"(://[^/:@\s]*:)[^@\s]*@", r"\1***@", text)


def make_server_engine(url: str, busy_timeout_s: float) -> Engine:
    """An engine whose units of work follow the collection's rules (see the module)."""
    parsed = engine_url(url)
    given = set(parsed.query)
    connect_args: dict[str, Any] = {
        key: value
        for key, value in {
            "connect_timeout": CONNECT_TIMEOUT_S,
            "keepalives": 1,
            "keepalives_idle": KEEPALIVE_IDLE_S,
            "keepalives_interval": KEEPALIVE_INTERVAL_S,
            "keepalives_count": KEEPALIVE_COUNT,
            "application_name": "studyapp",
        }.items()
        if key not in given
    }
    if "options" not in given:
        connect_args["options"] = (
            f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_S * 1000}"
        )
    engine = create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=2,
        max_overflow=4,
        connect_args=connect_args,
    )
    # 0 would mean "wait for ever" to the server; a zero busy timeout means "do not wait".
    lock_ms = max(1, int(busy_timeout_s * 1000))
    set_timeout = f"SELECT set_config('lock_timeout', '{lock_ms}', true)"  # SET LOCAL
    lock = f"SELECT pg_advisory_xact_lock({LOCK_SPACE}, hashtext(current_schema()))"
    take_lock = f"{set_timeout}; {lock}"

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        from studyapp.db.engine import IMMEDIATE, READ_WITH_LOCK

        options = conn.get_execution_options()
        if not options.get(IMMEDIATE, False):
            return
        queries = options.get(READ_WITH_LOCK)
        if not queries:
            conn.exec_driver_sql(take_lock)
            return
        # One round trip for the lock and the queries that follow it (at READ COMMITTED, they
        # see what the writers before this one committed). Each statement returns rows, so
        # the result stays open on the first and the driver steps through the others.
        result = conn.exec_driver_sql("; ".join((set_timeout, lock, *queries)))
        try:
            cursor = result.cursor
            cursor.nextset()  # the lock's
            found = []
            while cursor.nextset():
                found.append(cursor.fetchall())
            conn.info[READ_WITH_LOCK] = found
        finally:
            result.close()

    return engine


def explain(exc: BaseException, where: str) -> str | None:
    """One sentence for a failure a server reports, or None when it is not the server's.

    `where` names the collection (its URL without the password).
    """
    cause = getattr(exc, "orig", None) or exc
    if not type(cause).__module__.startswith("psycopg"):
        return None
    code = getattr(cause, "sqlstate", None) or ""
    text = hide_password(str(cause)).strip()
    first = text.splitlines()[0] if text else type(cause).__name__
    detail = first.lower()
    parsed = _parsed(where)
    user = parsed.username if parsed is not None else None
    database = parsed.database if parsed is not None else None
    if code in ("55P03", "40P01", "40001") or "lock timeout" in detail:
        return f"{where} is busy: another studyapp is writing to it; try again in a moment"
    if code == "28P01" or "password authentication failed" in detail:
        return f"{where}: the server refused the password of user {user!r}"
    if "no password supplied" in detail:
        return f"{where}: the server asks for a password: give it in the URL (user:password@)"
    if code == "3D000" or ("database" in detail and "does not exist" in detail):
        return (
            f"{where}: the server has no database {database!r}: create it first "
            f"(`createdb {database}`) or check the URL"
        )
    if code.startswith("28") or ("role" in detail and "does not exist" in detail):
        return f"{where}: the server does not let user {user!r} in ({_short(first)})"
    if code == "42501" or "permission denied" in detail:
        return f"{where}: user {user!r} may not do this here ({_short(first)})"
    if code == "25006" or "read-only transaction" in detail:
        return f"{where} is read-only: cannot save changes to it"
    if code in ("53100", "53200"):
        return f"{where}: the server is out of space or memory; nothing was saved"
    if _unreachable(code, detail):
        return f"{where}: cannot reach the database server ({_short(first)}); nothing was saved"
    return f"{where}: the database failed: {_short(first)}"


def _unreachable(code: str, detail: str) -> bool:
    if code.startswith("08") or code in ("57P01", "57P02", "57P03"):
        return True
    return any(
        words in detail
        for words in (
            "connection refused",
            "connection failed",
            "could not connect",
            "could not translate host",
            "failed to resolve host",
            "timeout expired",
            "server closed the connection",
            "terminating connection",
            "connection is lost",
            "connection is closed",
            "consuming input failed",
            "sending query failed",
            "no route to host",
            "network is unreachable",
            "the database system is",  # starting up, shutting down
        )
    )


def is_disconnect(exc: BaseException) -> bool:
    """Whether `exc` says the connection to the server was lost (or never made)."""
    if getattr(exc, "connection_invalidated", False):
        return True
    cause = getattr(exc, "orig", None) or exc
    if not type(cause).__module__.startswith("psycopg"):
        return False
    return _unreachable(getattr(cause, "sqlstate", None) or "", str(cause).lower())


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parsed(where: str) -> URL | None:
    try:
        return make_url(where)
    except Exception:
        return None
