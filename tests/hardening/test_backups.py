"""Backups: automatic ones before imports (the last few kept), `studyapp backup` by hand, and
`studyapp restore PATH`, which takes only a collection this version can open and keeps the
collection it replaces."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from studyapp.db import open_store
from studyapp.db.schema import HEAD, REVISIONS
from studyapp.db.store import BACKUPS_KEPT, backup_folder, read_only_uri
from studyapp.errors import CollectionReplacedError
from studyapp.services.cards import CardService
from studyapp.services.decks import DeckService
from tests.hardening.conftest import make_collection, one_line, run_cli

Capture = pytest.CaptureFixture[str]


def fronts(db: Path) -> list[str]:
    with sqlite3.connect(read_only_uri(db), uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return [front for (front,) in conn.execute("SELECT front FROM cards ORDER BY front")]


def csv_file(folder: Path, name: str, n: int = 2) -> Path:
    path = folder / f"{name}.csv"
    path.write_text("".join(f"{name} {i},answer\n" for i in range(n)))
    return path


def test_a_backup_by_hand_is_a_whole_copy_even_of_a_collection_in_use(
    db_path: Path, capsys: Capture
) -> None:
    make_collection(db_path, {"D": 2})
    in_use = open_store(str(db_path))  # open, with its last change still in the WAL
    CardService(in_use).add("D", "just added", "answer")

    status, out, err = run_cli(capsys, "backup", "--db", db_path)

    assert status == 0, err
    made = Path(out.strip().removeprefix(f"Backed up {db_path} to "))
    assert made.parent == backup_folder(db_path) and made.name.endswith("-manual.db")
    assert fronts(made) == ["D-Q00", "D-Q01", "just added"]
    assert not Path(f"{made}-wal").exists()  # one self-contained file
    in_use.dispose()


def test_backup_output_a_file_or_a_folder_and_never_the_collection(
    db_path: Path, tmp_path: Path, capsys: Capture
) -> None:
    make_collection(db_path, {"D": 1})
    target = tmp_path / "copy.db"
    target.write_text("an old file in the way")
    assert run_cli(capsys, "backup", "--output", target, "--db", db_path)[0] == 0
    assert fronts(target) == ["D-Q00"]  # replaced whole

    folder = tmp_path / "elsewhere"
    folder.mkdir()
    status, out, _ = run_cli(capsys, "backup", "--output", folder, "--db", db_path)
    assert status == 0 and f"to {folder}/" in out and len(list(folder.glob("*.db"))) == 1

    for bad, reason in (
        (db_path, "is the collection itself"),
        (tmp_path / "missing" / "x.db", "does not exist"),
    ):
        status, out, err = run_cli(capsys, "backup", "--output", bad, "--db", db_path)
        assert status == 2 and out == "" and reason in one_line(err)
    status, _, err = run_cli(capsys, "backup", "--db", tmp_path / "none.db")
    assert status == 2 and "there is no collection at" in one_line(err)
    assert fronts(db_path) == ["D-Q00"]


def test_imports_keep_the_last_few_automatic_backups_and_every_one_made_by_hand(
    db_path: Path, tmp_path: Path, capsys: Capture
) -> None:
    make_collection(db_path, {"D": 1})
    neighbour = db_path.with_name(f"{db_path.stem}-old.db")  # shares the backups folder
    make_collection(neighbour, {"N": 1})
    assert run_cli(capsys, "import", csv_file(tmp_path, "theirs"), "--db", neighbour)[0] == 0
    assert run_cli(capsys, "backup", "--db", db_path)[0] == 0
    for i in range(BACKUPS_KEPT + 2):
        assert run_cli(capsys, "import", csv_file(tmp_path, f"file{i}"), "--db", db_path)[0] == 0
    folder = backup_folder(db_path)
    automatic = sorted(folder.glob(f"{db_path.stem}-2*-import.db"))
    assert len(automatic) == BACKUPS_KEPT
    assert len(list(folder.glob("*-manual.db"))) == 1
    assert len(list(folder.glob(f"{neighbour.stem}-*-import.db"))) == 1  # not pruned as ours
    # The newest automatic backup is the collection just before the last import.
    assert "file5 0" in fronts(automatic[-1]) and "file6 0" not in fronts(automatic[-1])

    status, out, _ = run_cli(capsys, "backup", "--list", "--db", db_path)
    listed = out.split()
    assert status == 0 and len(listed) == BACKUPS_KEPT + 1
    assert listed[0] == str(automatic[-1])  # newest first


def test_listing_backups_with_an_output_is_refused_not_ignored(
    db_path: Path, tmp_path: Path, capsys: Capture
) -> None:
    make_collection(db_path, {"D": 1})
    status, out, err = run_cli(
        capsys, "backup", "--list", "--output", tmp_path / "b.db", "--db", db_path
    )
    assert (status, out) == (2, "")
    assert one_line(err) == (
        "studyapp: --list lists the backups beside the collection and writes none: drop --output"
    )
    assert not (tmp_path / "b.db").exists()


def test_restoring_the_backup_made_before_an_import_undoes_it(
    db_path: Path, tmp_path: Path, capsys: Capture
) -> None:
    make_collection(db_path, {"D": 2})
    assert run_cli(capsys, "import", csv_file(tmp_path, "wrong"), "--db", db_path)[0] == 0
    (before_import,) = backup_folder(db_path).glob("*-import.db")
    other_app = open_store(str(db_path))  # another studyapp that has the collection open
    assert DeckService(other_app).counts()[-1].name == "wrong"

    status, out, err = run_cli(capsys, "restore", before_import, "--db", db_path)

    assert status == 0, err
    assert fronts(db_path) == ["D-Q00", "D-Q01"]
    saved = Path(out.splitlines()[-1].removeprefix("The collection as it was is saved in "))
    assert saved.name.endswith("-restore.db") and "wrong 0" in fronts(saved)
    # The app that had it open sees the restored collection, but stops writing to it: the
    # ids it holds (the card on screen, its queue) may name other cards now.
    assert [d.name for d in DeckService(other_app).counts()] == ["D"]
    with pytest.raises(CollectionReplacedError, match="changed while studyapp had it open"):
        CardService(other_app).add("D", "after the restore", "answer")
    assert "after the restore" not in fronts(db_path)
    other_app.dispose()
    assert run_cli(capsys, "decks", "--db", db_path)[0] == 0


def test_restore_takes_only_a_collection_this_version_can_open(
    db_path: Path, tmp_path: Path, capsys: Capture
) -> None:
    make_collection(db_path, {"D": 1})
    junk = tmp_path / "notes.db"
    junk.write_bytes(b"not a database " * 300)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE things (x)")
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    newer = tmp_path / "newer.db"
    assert run_cli(capsys, "backup", "--output", newer, "--db", db_path)[0] == 0
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")

    for path, reason in (
        (tmp_path / "missing.db", "does not exist"),
        (tmp_path, "is not a file"),
        (junk, "is not a studyapp collection"),
        (other, "is not a studyapp collection: it holds other tables"),
        (empty, "is not a studyapp collection: it is empty"),
        (newer, "was made by a newer version of studyapp (schema 9999)"),
        (db_path, "is the collection itself"),
    ):
        status, out, err = run_cli(capsys, "restore", path, "--db", db_path)
        assert status == 2 and out == ""
        assert one_line(err).startswith(f"studyapp: {path} ") and reason in err, err
    assert fronts(db_path) == ["D-Q00"]
    assert not backup_folder(db_path).exists()  # nothing was replaced, nothing saved aside


def test_restore_into_a_missing_or_broken_collection(
    db_path: Path, tmp_path: Path, capsys: Capture
) -> None:
    make_collection(db_path, {"D": 1})
    copy = tmp_path / "copy.db"
    assert run_cli(capsys, "backup", "--output", copy, "--db", db_path)[0] == 0

    fresh = tmp_path / "new" / "c.db"
    status, out, err = run_cli(capsys, "restore", copy, "--db", fresh)
    assert status == 0 and "saved" not in out, err
    assert fronts(fresh) == ["D-Q00"]

    broken = b"this collection was overwritten by something else" * 100
    db_path.write_bytes(broken)
    Path(f"{db_path}-wal").unlink(missing_ok=True)
    status, out, err = run_cli(capsys, "restore", copy, "--db", db_path)
    assert status == 0, err
    assert fronts(db_path) == ["D-Q00"]
    (saved,) = backup_folder(db_path).glob("*-restore.db")
    assert saved.read_bytes() == broken  # kept as it was, in case it matters to someone
    assert run_cli(capsys, "decks", "--db", db_path)[0] == 0


def test_a_backup_or_a_restored_collection_has_the_permissions_of_any_new_file(
    db_path: Path, tmp_path: Path, capsys: Capture
) -> None:
    make_collection(db_path, {"D": 1})
    copy, fresh = tmp_path / "copy.db", tmp_path / "new" / "c.db"
    umask = os.umask(0o022)
    try:
        assert run_cli(capsys, "backup", "--output", copy, "--db", db_path)[0] == 0
        assert run_cli(capsys, "restore", copy, "--db", fresh)[0] == 0
        assert mode(copy) == mode(fresh) == 0o644  # not the private mode of a temporary file
        copy.chmod(0o600)  # a file made private by its owner stays private
        assert run_cli(capsys, "backup", "--output", copy, "--db", db_path)[0] == 0
        assert mode(copy) == 0o600
    finally:
        os.umask(umask)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_a_backup_from_an_older_version_is_restored_at_the_current_schema(
    db_path: Path, tmp_path: Path, capsys: Capture
) -> None:
    from importlib import resources

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    old = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{old}")
    config = Config()
    config.set_main_option("script_location", str(resources.files("studyapp.db") / "migrations"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, REVISIONS[0])
        conn.execute(text("INSERT INTO decks VALUES (1, 'Old', '', 20, 200, 4, '2026-01-01')"))
    engine.dispose()
    make_collection(db_path, {"D": 1})

    before = old.read_bytes()
    status, _, err = run_cli(capsys, "restore", old, "--db", db_path)
    assert status == 0, err
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
    status, out, err = run_cli(capsys, "decks", "--db", db_path)
    assert status == 0 and "Old" in out, err
    assert old.read_bytes() == before  # the backup given is never changed
    assert [p.name.rsplit("-", 1)[1] for p in backup_folder(db_path).iterdir()] == ["restore.db"]


def test_backup_and_restore_with_any_characters_in_the_names(
    tmp_path: Path, capsys: Capture
) -> None:
    folder = tmp_path / "notes #1 & 50% ?"
    folder.mkdir()
    db = folder / "my collection?.db"
    make_collection(db, {"D": 1})
    copy = folder / "backup #2.db"
    assert run_cli(capsys, "backup", "--output", copy, "--db", db)[0] == 0
    assert run_cli(capsys, "import", csv_file(tmp_path, "more"), "--db", db)[0] == 0
    assert len(list(backup_folder(db).glob("*-import.db"))) == 1

    status, _, err = run_cli(capsys, "restore", copy, "--db", db)

    assert status == 0, err
    assert fronts(db) == ["D-Q00"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [
            "backups",
            "backup #2.db",
            "my collection?.db",
            "my collection?.db-shm",
            "my collection?.db-wal",
        ]
    )  # no stray file made from a name cut short


def test_restoring_leaves_nothing_beside_the_backup_restored(
    db_path: Path, tmp_path: Path, capsys: Capture
) -> None:
    """Reading the backup made SQLite's two files beside it (b.db-wal, b.db-shm), left in a
    folder of backups the learner keeps."""
    make_collection(db_path, {"D": 2})
    kept = tmp_path / "kept"
    kept.mkdir()
    shutil.copyfile(db_path, kept / "b.db")  # a collection copied by hand: in WAL mode
    before = (kept / "b.db").read_bytes()
    status, _, err = run_cli(capsys, "restore", kept / "b.db", "--db", db_path)
    assert status == 0, err
    assert sorted(p.name for p in kept.iterdir()) == ["b.db"]
    assert (kept / "b.db").read_bytes() == before
