"""The schema revisions studyapp knows, and the revision an SQLite collection file is at.

Read with the sqlite3 driver alone, so opening an up-to-date collection does not wait for
SQLAlchemy and alembic to load.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

# Every revision in migrations/versions, oldest first. A test keeps this list in step with
# the migration scripts.
REVISIONS: tuple[str, ...] = ("0001", "0002", "0003", "0004", "0005")
HEAD = REVISIONS[-1]


def file_is_at_head(path: Path, busy_timeout_s: float) -> bool:
    """Whether `path` is a studyapp collection at the current revision, ready as it is.

    False for anything else (a missing, new, older, newer or broken file): the full open
    creates, migrates, refuses or explains it.
    """
    try:
        if path.stat().st_size == 0:
            return False
    except OSError:
        return False
    try:
        conn = sqlite3.connect(path, timeout=busy_timeout_s)
    except sqlite3.Error:
        return False
    try:
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return rows == [(HEAD,)]
