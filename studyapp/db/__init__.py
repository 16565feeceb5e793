"""The collection store: SQLAlchemy models, engine set-up, migrations and repositories.

Importing the package does not load SQLAlchemy (see `Store`); the URL helpers load it when
first asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studyapp.db.location import default_collection_path
from studyapp.db.store import Store, open_store

if TYPE_CHECKING:
    from studyapp.db.engine import resolve_url, sqlite_path

__all__ = ["Store", "default_collection_path", "open_store", "resolve_url", "sqlite_path"]


def __getattr__(name: str) -> Any:
    if name in ("resolve_url", "sqlite_path"):
        from studyapp.db import engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
