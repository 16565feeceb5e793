"""Where the bundled deck's files are, and their revision: what start-up needs, nothing more.

The app checks on every start whether the bundled deck changed since the collection last took
it (an upgrade), before SQLAlchemy is loaded; so this module needs the standard library only.
The update itself is `studyapp.services.bundled`.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path

# collection_info keys: when the bundled deck was first loaded, and the revision last applied.
LOADED_KEY = "bundled_deck_loaded"
REVISION_KEY = "bundled_deck_revision"


def _bundled_dir() -> Path:
    """The bundled deck: the checkout's `cards/`, or where a wheel install put it."""
    source_tree = Path(__file__).resolve().parents[2] / "cards"
    installed = Path(sys.prefix) / "share" / "studyapp" / "cards"
    return source_tree if source_tree.is_dir() or not installed.is_dir() else installed


BUNDLED_DIR = _bundled_dir()


def deck_files(folder: Path) -> list[Path]:
    """The deck files in `folder` (every `*.md` but the README), by name."""
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.glob("*.md") if p.is_file() and not p.name.lower().startswith("readme")
    )


def revision(files: Sequence[Path]) -> str:
    """The bundled deck's revision: a hash of its files' names and bytes (about 1 ms)."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]
