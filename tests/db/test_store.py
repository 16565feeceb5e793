"""The collection file: schema by migrations, version checks, connection settings, backups."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from studyapp.db import open_store, resolve_url
from studyapp.db.models import Base
from studyapp.db.schema import HEAD, REVISIONS
from studyapp.db.store import BACKUPS_KEPT, backup_folder
from studyapp.errors import CollectionError, NewerCollectionError
from studyapp.services.cards import CardService
from studyapp.services.decks import DeckService


def _migrated(path: Path) -> None:
    """A collection built the long way: every migration replayed from an empty file."""
    from sqlalchemy import create_engine

    from studyapp.db.schema import _upgrade

    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        _upgrade(conn)
    engine.dispose()


def _schema(path: Path) -> dict[str, object]:
    """Every table's columns, keys, foreign keys and indexes, as SQLite reports them."""
    conn = sqlite3.connect(path)
    tables = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    out: dict[str, object] = {}
    for table in sorted(tables):
        indexes = {
            name: (unique, [c[2] for c in conn.execute(f"PRAGMA index_info('{name}')")])
            for _, name, unique, *_ in conn.execute(f"PRAGMA index_list('{table}')")
            if not name.startswith("sqlite_autoindex")
        }
        autos = sorted(
            tuple(c[2] for c in conn.execute(f"PRAGMA index_info('{name}')"))
            for _, name, *_ in conn.execute(f"PRAGMA index_list('{table}')")
            if name.startswith("sqlite_autoindex")
        )
        out[table] = (
            [tuple(row) for row in conn.execute(f"PRAGMA table_info('{table}')")],
            [tuple(row[2:]) for row in conn.execute(f"PRAGMA foreign_key_list('{table}')")],
            indexes,
            autos,
        )
    conn.close()
    return out


def test_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    _migrated(tmp_path / "migrated.db")
    engine = create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_a_new_collection_has_the_schema_the_migrations_build(tmp_path: Path) -> None:
    _migrated(tmp_path / "migrated.db")
    store = open_store(str(tmp_path / "new.db"))
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    store.dispose()
    assert _schema(tmp_path / "new.db") == _schema(tmp_path / "migrated.db")


def test_revision_list_matches_the_migration_scripts() -> None:
    from importlib import resources

    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(resources.files("studyapp.db") / "migrations"))
    chain = [rev.revision for rev in scripts.walk_revisions()][::-1]
    assert tuple(chain) == REVISIONS
    assert scripts.get_current_head() == HEAD


def test_connection_settings(db_path: Path) -> None:
    store = open_store(str(db_path))
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_reopening_keeps_everything(db_path: Path) -> None:
    store = open_store(str(db_path))
    CardService(store).add("Deck", "front", "back", tags=["t"])
    store.dispose()
    again = open_store(str(db_path))
    assert [c.front for c in CardService(again).search()] == ["front"]


def test_a_newer_collection_is_refused_and_left_alone(db_path: Path) -> None:
    store = open_store(str(db_path))
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    store.dispose()
    before = db_path.read_bytes()
    with pytest.raises(NewerCollectionError, match="newer version of studyapp"):
        open_store(str(db_path))
    assert db_path.read_bytes() == before


def test_a_file_that_is_not_a_collection_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "notes.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(CollectionError, match="notes.db"):
        open_store(str(junk))
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE things (x)")
    with pytest.raises(CollectionError, match="not a studyapp collection"):
        open_store(str(other))


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CollectionError, match="is a directory"):
        resolve_url(str(tmp_path))


def test_env_var_and_flag_choose_the_collection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDYAPP_DB", str(tmp_path / "env.db"))
    assert resolve_url(None) == f"sqlite:///{tmp_path / 'env.db'}"
    assert resolve_url(str(tmp_path / "flag.db")) == f"sqlite:///{tmp_path / 'flag.db'}"
    assert resolve_url("sqlite:///x.db") == "sqlite:///x.db"


def test_default_collection_is_in_the_user_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STUDYAPP_DB")
    url = resolve_url(None)
    assert url.endswith("studyapp/collection.db")
    assert "/work/main" not in url


def test_backups_are_consistent_copies_and_only_the_last_few_are_kept(db_path: Path) -> None:
    store = open_store(str(db_path))
    CardService(store).add("Deck", "kept", "in the backup")
    made = [store.backup("import") for _ in range(BACKUPS_KEPT + 3)]
    assert all(p is not None for p in made)
    folder = backup_folder(db_path)
    left = sorted(folder.glob("*.db"))
    assert len(left) == BACKUPS_KEPT
    with sqlite3.connect(left[-1]) as conn:
        assert conn.execute("SELECT front FROM cards").fetchall() == [("kept",)]


def test_an_older_collection_is_backed_up_then_migrated_keeping_everything(
    db_path: Path,
) -> None:
    from importlib import resources

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{db_path}")
    config = Config()
    config.set_main_option("script_location", str(resources.files("studyapp.db") / "migrations"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, REVISIONS[0])
        conn.execute(
            text("INSERT INTO decks VALUES (1, 'Old', '', 20, 200, 4, '2026-01-01 00:00:00');")
        )
        conn.execute(
            text(
                "INSERT INTO cards VALUES (1, 'old-1', 1, 1, 'front', 'back', ' t ', '', 'k',"
                " NULL, NULL, 0, NULL, 260, 6, 2, 0, '2026-01-09', '2026-01-01 00:00:00',"
                " '2026-01-01 00:00:00')"
            )
        )
    engine.dispose()

    store = open_store(str(db_path))
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    card = CardService(store).search()[0]
    assert (card.front, card.tags, card.state.ease, card.state.interval) == (
        "front",
        ("t",),
        2.6,
        6,
    )
    # Decks made before FSRS stay on SM-2, and no card has a memory state yet.
    assert card.memory is None
    settings = DeckService(store).get("Old").settings
    assert (settings.scheduler, settings.desired_retention, settings.fsrs_params) == (
        "sm2",
        0.9,
        None,
    )
    backups = list(backup_folder(db_path).glob("*-migration.db"))
    assert len(backups) == 1
    with sqlite3.connect(backups[0]) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (REVISIONS[0],)
