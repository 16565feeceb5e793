"""The collection file: schema by migrations, version checks, connection settings, backups."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.pool import NullPool

from benchmarks import postgres
from studyapp.db import open_store, resolve_url
from studyapp.db.models import Base
from studyapp.db.schema import HEAD, REVISIONS
from studyapp.db.server import engine_url
from studyapp.db.store import BACKUPS_KEPT, backup_folder
from studyapp.errors import CollectionError, NewerCollectionError
from studyapp.services.cards import CardService
from studyapp.services.decks import DeckService
from tests.backends import SQLITE, dump, holds_anything, on_server, sql


def _engine(db: str | Path) -> Engine:
    return create_engine(engine_url(resolve_url(str(db))), poolclass=NullPool)


def _migrated(db: str | Path, target: str = "head") -> None:
    """A collection built the long way: every migration replayed from an empty database."""
    from studyapp.db.schema import _upgrade

    engine = _engine(db)
    with engine.begin() as conn:
        _upgrade(conn, target)
    engine.dispose()


def _schema_of(db: str | Path) -> dict[str, object]:
    """Every table's columns, keys, foreign keys and indexes, as the database reports them."""
    if not on_server(db):
        return _schema(Path(db))
    engine = _engine(db)
    inspector = inspect(engine)
    out: dict[str, object] = {}
    for table in sorted(inspector.get_table_names()):
        out[table] = (
            [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            inspector.get_pk_constraint(table)["constrained_columns"],
            sorted(
                (f["constrained_columns"], f["referred_table"], f["options"])
                for f in inspector.get_foreign_keys(table)
            ),
            sorted(
                (i["name"], i["column_names"], i["unique"]) for i in inspector.get_indexes(table)
            ),
            sorted(u["column_names"] for u in inspector.get_unique_constraints(table)),
        )
    engine.dispose()
    return out


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


def test_migrated_schema_matches_the_models(db: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    _migrated(db)
    engine = _engine(db)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_a_new_collection_has_the_schema_the_migrations_build(
    db: str, backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if backend == SQLITE:
        migrated: str = str(tmp_path / "migrated.db")
    else:
        migrated = request.getfixturevalue("pg_server").create_database()
    _migrated(migrated)
    store = open_store(db)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    store.dispose()
    assert _schema_of(db) == _schema_of(migrated)


def test_revision_list_matches_the_migration_scripts() -> None:
    from importlib import resources

    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(resources.files("studyapp.db") / "migrations"))
    chain = [rev.revision for rev in scripts.walk_revisions()][::-1]
    assert tuple(chain) == REVISIONS
    assert scripts.get_current_head() == HEAD


@pytest.mark.sqlite_only
def test_connection_settings(db_path: Path) -> None:
    store = open_store(str(db_path))
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_reopening_keeps_everything(db: str) -> None:
    store = open_store(db)
    CardService(store).add("Deck", "front", "back", tags=["t"])
    store.dispose()
    again = open_store(db)
    assert [c.front for c in CardService(again).search()] == ["front"]
    again.dispose()


def test_a_newer_collection_is_refused_and_left_alone(db: str) -> None:
    store = open_store(db)
    CardService(store).add("Deck", "front", "back")
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    store.dispose()
    before = dump(db)
    with pytest.raises(NewerCollectionError, match="newer version of studyapp"):
        open_store(db)
    assert dump(db) == before


@pytest.mark.sqlite_only
def test_a_file_that_is_not_a_collection_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "notes.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(CollectionError, match="notes.db"):
        open_store(str(junk))


def test_a_database_of_other_tables_is_refused_and_left_alone(db: str) -> None:
    sql(db, "CREATE TABLE things (x INTEGER)")
    with pytest.raises(CollectionError, match="not a studyapp collection"):
        open_store(db)
    assert holds_anything(db) and sql(db, "SELECT count(*) FROM things") == [(0,)]
    assert not [t for t in _schema_of(db) if t != "things"]


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


@pytest.mark.sqlite_only
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


def test_an_older_collection_is_backed_up_then_migrated_keeping_everything(db: str) -> None:
    _migrated(db, REVISIONS[0])
    sql(db, "INSERT INTO decks VALUES (1, 'Old', '', 20, 200, 4, '2026-01-01 00:00:00')")
    sql(
        db,
        "INSERT INTO cards VALUES (1, 'old-1', 1, 1, 'front', 'back', ' t ', '', 'k',"
        " NULL, NULL, FALSE, NULL, 260, 6, 2, 0, '2026-01-09', '2026-01-01 00:00:00',"
        " '2026-01-01 00:00:00')",
    )
    if on_server(db):  # rows written by hand do not move a server's id sequences
        sql(db, "SELECT setval('decks_id_seq', 1), setval('cards_id_seq', 1)")

    store = open_store(db)
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
    assert CardService(store).add("Old", "new front", "new back").position == 2
    assert "ix_cards_deck_state" in str(_schema_of(db)["cards"])  # 0002 ran
    store.dispose()
    if on_server(db):
        return  # a server's migration is one transaction; its backups are the server's own
    backups = list(backup_folder(Path(db)).glob("*-migration.db"))
    assert len(backups) == 1
    with sqlite3.connect(backups[0]) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (REVISIONS[0],)


def test_a_command_that_only_reads_leaves_an_older_server_collection_as_it_is(
    pg_server: postgres.Server,
) -> None:
    """On a server shared by several machines, `decks` on one of them must not upgrade the
    collection under the others: it says how to, and changes nothing. (An SQLite file is
    upgraded by any command that opens it.)"""
    db = pg_server.create_database()
    _migrated(db, REVISIONS[-2])
    tables = "SELECT table_name FROM information_schema.tables ORDER BY 1"
    before = (sql(db, tables), sql(db, "SELECT version_num FROM alembic_version"))
    with pytest.raises(CollectionError, match="a command that only reads does not upgrade it"):
        open_store(db, read_only=True)
    assert (sql(db, tables), sql(db, "SELECT version_num FROM alembic_version")) == before
    store = open_store(db)  # a command that writes upgrades it
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    store.dispose()
