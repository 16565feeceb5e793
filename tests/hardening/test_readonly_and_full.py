"""A collection that cannot be written (read-only file or folder, full disk): one clear line,
exit status 2, and the collection exactly as it was."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, event

from studyapp.db import engine as engine_module
from studyapp.db import open_store
from studyapp.errors import CollectionError
from studyapp.services.study import StudySession
from tests.hardening.conftest import STUDYAPP, make_collection, one_line, run_cli


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def contents(db: Path, immutable: bool = False) -> tuple[list[tuple[str, int]], int]:
    """The cards and the number of reviews; `immutable` reads a file in a read-only folder."""
    flag = "&immutable=1" if immutable else ""
    with sqlite3.connect(f"file:{db}?mode=ro{flag}", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        cards = conn.execute("SELECT front, interval FROM cards ORDER BY id").fetchall()
        reviews = conn.execute("SELECT COUNT(*) FROM reviews").fetchone()[0]
    return cards, reviews


@pytest.mark.parametrize(
    ("file_read_only", "folder_read_only"),
    [(True, False), (True, True), (False, True)],
    ids=["read-only file", "read-only file and folder", "read-only folder"],
)
def test_a_collection_that_cannot_be_written_refuses_ratings_and_imports_clearly(
    tmp_path: Path,
    read_only: Callable[[Path], None],
    capsys: pytest.CaptureFixture[str],
    file_read_only: bool,
    folder_read_only: bool,
) -> None:
    folder = tmp_path / "collection"
    folder.mkdir()
    db = folder / "c.db"
    make_collection(db, {"D": 3})
    source = tmp_path / "more.csv"
    source.write_text("new front,new back\n")
    if file_read_only:
        read_only(db)
    if folder_read_only:
        read_only(folder)
    before = digest(db)
    message = f"{db} is read-only: cannot save changes to it"

    with pytest.raises(CollectionError) as refused:  # the app shows this as a notification
        StudySession(open_store(str(db)), "D").answer(4)
    assert refused.value.message.startswith(message)
    status, out, err = run_cli(capsys, "import", source, "--db", db)
    assert status == 2 and out == ""
    assert one_line(err).startswith(f"studyapp: {message}")
    if folder_read_only:  # say what is in the way when the file alone would not be
        assert f"its folder {folder} is read-only" in err

    # Commands that only read open it read-only: it can be listed and exported all the same.
    status, out, err = run_cli(capsys, "decks", "--db", db)
    assert status == 0 and "D " in out, err
    status, out, err = run_cli(capsys, "export", "--format", "csv", "--output", "-", "--db", db)
    assert status == 0 and out.count("D-Q0") == 3, err
    assert digest(db) == before
    assert contents(db, immutable=True) == ([("D-Q00", 0), ("D-Q01", 0), ("D-Q02", 0)], 0)


def test_a_full_disk_during_an_import_changes_nothing_and_says_so(
    db_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_collection(db_path, {"D": 3})
    before = contents(db_path)
    with sqlite3.connect(db_path) as conn:
        room = conn.execute("PRAGMA page_count").fetchone()[0] + 3  # a few pages left on "disk"
    big = tmp_path / "big.csv"
    big.write_text("".join(f"question {i} {'x' * 300},answer {i}\n" for i in range(500)))

    make_engine = engine_module.make_engine

    def engine_on_a_small_disk(url: str, busy_timeout_s: float) -> Engine:
        engine = make_engine(url, busy_timeout_s)

        @event.listens_for(engine, "connect")
        def _limit(dbapi_conn: sqlite3.Connection, _record: object) -> None:
            dbapi_conn.execute(f"PRAGMA max_page_count={room}")

        return engine

    monkeypatch.setattr(engine_module, "make_engine", engine_on_a_small_disk)
    status, out, err = run_cli(capsys, "import", big, "--db", db_path)

    assert status == 2 and out == ""
    assert one_line(err) == f"studyapp: {db_path}: the disk is full or failing, nothing was saved"
    assert contents(db_path) == before


def test_commands_that_only_read_work_in_a_folder_this_user_cannot_write(tmp_path: Path) -> None:
    """A collection in WAL mode, as `init` makes it, in a folder without write permission
    (as root, run without the capability that overrides permissions). SQLite cannot make
    the files it reads a WAL collection with, and says "readonly" or "unable to open"."""
    folder = tmp_path / "collection"
    folder.mkdir()
    db = folder / "c.db"
    make_collection(db, {"D": 3})
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("as root, this needs setpriv to drop the capability to override")
        prefix = [setpriv, "--inh-caps=-all", "--bounding-set=-all"]
    folder.chmod(0o555)
    out = tmp_path / "out"
    out.mkdir()
    try:
        for command in (
            ["decks"],
            ["cards"],
            ["stats"],
            ["export", "--format", "csv", "--output", str(out / "x.csv")],
            ["backup", "--output", str(out / "b.db")],
        ):
            done = subprocess.run(
                [*prefix, *STUDYAPP, *command, "--db", str(db)],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 0, (command, done.stderr)
        assert (out / "x.csv").read_text().count("D-Q0") == 3
        assert contents(out / "b.db") == ([("D-Q00", 0), ("D-Q01", 0), ("D-Q02", 0)], 0)
    finally:
        folder.chmod(0o755)


def test_a_restore_whose_copy_of_the_collection_fails_replaces_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy of the collection made before a restore fails (a full disk): the restore
    stops there. A copy of the main file alone would leave out what the write-ahead log
    holds, and could not be offered as "the collection as it was"."""
    from studyapp.db.store import Store
    from studyapp.services.backups import BackupService
    from studyapp.services.library import LibraryService

    db, other = tmp_path / "c.db", tmp_path / "other.db"
    make_collection(db, {"Mine": 3})
    make_collection(other, {"Theirs": 1})
    store = open_store(str(db))
    before = LibraryService(store).export("json")

    def full(self: Store, reason: str, folder: Path | None = None) -> Path | None:
        raise CollectionError(f"could not back up {self.path}: the disk is full")

    monkeypatch.setattr(Store, "backup", full)
    with pytest.raises(CollectionError, match="the disk is full"):
        BackupService(store).restore(other)
    monkeypatch.undo()
    assert LibraryService(store).export("json") == before
    assert not list((tmp_path / "backups").glob("*-restore.db"))
    store.dispose()
