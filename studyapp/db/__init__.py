"""The collection store: SQLAlchemy models, engine set-up, migrations and repositories."""

from studyapp.db.engine import default_collection_path, resolve_url, sqlite_path
from studyapp.db.store import Store, open_store

__all__ = ["Store", "default_collection_path", "open_store", "resolve_url", "sqlite_path"]
