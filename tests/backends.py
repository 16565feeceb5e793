"""The two stores every collection test runs on, and plain SQL on either for assertions.

A test that takes the `db` fixture (or a fixture built on it) runs once on an SQLite file and
once on a database of the session's own PostgreSQL server (see `tests/conftest.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from studyapp.db.engine import resolve_url
from studyapp.db.server import engine_url, is_server_url

SQLITE, POSTGRESQL = "sqlite", "postgresql"


def on_server(db: str | Path) -> bool:
    return is_server_url(resolve_url(str(db)))


def sql(db: str | Path, statement: str, params: Mapping[str, Any] | None = None) -> list[Any]:
    """Run one statement on the collection `db` (a file or a URL) and commit; its rows."""
    engine = create_engine(engine_url(resolve_url(str(db))), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), dict(params or {}))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def scalar(db: str | Path, statement: str, params: Mapping[str, Any] | None = None) -> Any:
    rows = sql(db, statement, params)
    return rows[0][0] if rows else None


def dump(db: str | Path) -> list[Any]:
    """Everything the collection holds: SQLite's own dump of a file (schema and rows), or
    every table's rows in key order on a server."""
    if not on_server(db):
        import sqlite3

        with sqlite3.connect(resolve_url(str(db)).removeprefix("sqlite:///")) as conn:
            return list(conn.iterdump())
    from studyapp.db.models import Base

    tables = ["alembic_version", *sorted(Base.metadata.tables)]
    return [(table, sql(db, f'SELECT * FROM "{table}" ORDER BY 1')) for table in tables]


def holds_anything(db: str | Path) -> bool:
    """Whether anything was made for the collection: its file, or any table on the server."""
    if not on_server(db):
        return Path(db).exists()
    return bool(sql(db, "SELECT 1 FROM pg_tables WHERE schemaname = current_schema()"))


def shown(db: str | Path) -> str:
    """How messages name the collection: its file, or its URL with the password hidden."""
    if not on_server(db):
        return str(db)
    from sqlalchemy.engine import make_url

    return make_url(str(db)).render_as_string(hide_password=True)
