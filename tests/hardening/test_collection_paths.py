"""What `--db` may name, and what a command that only reads does with it.

A command that only reads (`decks`, `stats`, `export`, `backup --list`, `backup`) never makes
a collection, nor the folders for one, where a mistyped path points: it says there is none.
A `--db` that is a device, a FIFO or a folder, or a database URL this installation cannot
open, gets one true line and exit status 2 from every command, and nothing is written.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hardening.conftest import make_collection, one_line, run_cli, studyapp

Capture = pytest.CaptureFixture[str]
READING = (
    ("decks",),
    ("decks", "--json"),
    ("stats",),
    ("export", "--format", "json", "--output", "-"),
    ("export", "--format", "csv", "--output", "out.csv"),
    ("backup", "--list"),
    ("backup",),
)


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("command", READING, ids=" ".join)
def test_a_command_that_reads_makes_no_collection_where_none_is(
    tmp_path: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    monkeypatch.chdir(tmp_path)
    mistyped = tmp_path / "colection" / "c.db"
    status, out, err = run_cli(capsys, *command, "--db", mistyped)
    assert status == 2 and out == ""
    assert one_line(err).startswith(f"studyapp: there is no collection at {mistyped}")
    assert sorted(tmp_path.iterdir()) == []  # no file, no folder, no export


@pytest.mark.parametrize("command", READING[:5], ids=" ".join)
def test_a_command_that_reads_does_not_make_a_collection_of_an_empty_file(
    tmp_path: Path, capsys: Capture, command: tuple[str, ...]
) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    bare = tmp_path / "bare.db"  # an SQLite file with no tables
    with sqlite3.connect(bare) as conn:
        conn.execute("PRAGMA user_version = 1")
    bare_bytes = bare.read_bytes()
    for path, reason in ((empty, "is empty, not a collection"), (bare, "holds no collection")):
        status, out, err = run_cli(capsys, *command, "--db", path)
        assert status == 2 and out == "" and reason in one_line(err), err
    assert empty.read_bytes() == b"" and bare.read_bytes() == bare_bytes


def test_commands_that_read_change_no_byte_of_the_collection(
    db_path: Path, tmp_path: Path, capsys: Capture
) -> None:
    make_collection(db_path, {"D": 3})
    before = md5(db_path)
    beside = sorted(db_path.parent.iterdir())
    for command in (*READING[:4], ("cards",), ("deck", "D")):
        status, _, err = run_cli(capsys, *command, "--db", db_path)
        assert status == 0, err
        # Nor leave the files SQLite makes to read it (c.db-wal, c.db-shm) beside it.
        assert sorted(db_path.parent.iterdir()) == beside, command
    assert md5(db_path) == before


def test_a_read_beside_a_writer_leaves_its_files_alone(db_path: Path) -> None:
    """A program that opened the collection while a command was reading it keeps the files
    beside it (the command's tidying up must not take them away), and goes on writing."""
    from studyapp.db import open_store
    from studyapp.services.decks import DeckService

    make_collection(db_path, {"D": 3})
    assert sorted(p.name for p in db_path.parent.iterdir()) == [db_path.name]
    reader = open_store(str(db_path), read_only=True)  # nothing beside it yet: it tidies
    assert reader._tidy_after
    assert sum(c.total for c in DeckService(reader).counts()) == 3
    writer = sqlite3.connect(db_path)  # opened while the reader still has it
    try:
        writer.execute("SELECT count(*) FROM cards").fetchall()
        reader.dispose()
        names = sorted(p.name for p in db_path.parent.iterdir())
        assert names == sorted([db_path.name, f"{db_path.name}-shm", f"{db_path.name}-wal"])
        with writer:
            writer.execute("UPDATE decks SET description = 'still writing'")
        assert writer.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        writer.close()


@pytest.fixture
def not_files(tmp_path: Path) -> list[Path]:
    """A FIFO, a folder, and (where allowed) a second node of the null device."""
    folder = tmp_path / "odd"
    folder.mkdir()
    fifo = folder / "fifo.db"
    os.mkfifo(fifo)
    found = [fifo, folder / "folder.db"]
    found[1].mkdir()
    try:
        os.mknod(folder / "null.db", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, AttributeError):
        pass
    else:
        found.append(folder / "null.db")
    return found


COMMANDS = (*READING[:4], ("init",), ("import", "deck.csv"), ("restore", "backup.db"))
KINDS = {
    "fifo.db": "a FIFO (named pipe)",
    "folder.db": "a directory",
    "null.db": "a character device",
}


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_db_that_is_not_a_file_is_named_for_what_it_is(
    tmp_path: Path, not_files: list[Path], command: tuple[str, ...]
) -> None:
    (tmp_path / "deck.csv").write_text("front,back\n")
    make_collection(tmp_path / "backup.db", {"D": 1})
    for path in not_files:
        done = studyapp(*command, "--db", path, cwd=tmp_path, timeout_s=30)
        assert done.returncode == 2 and done.stdout == ""
        assert one_line(done.stderr) == (
            f"studyapp: {path} is {KINDS[path.name]}, not a collection file"
        )
    assert (
        sorted(p.name for p in not_files[0].parent.iterdir()) == sorted(KINDS)[: len(not_files)]
    )  # no journal was made beside any of them
    assert stat.S_ISFIFO(os.stat(not_files[0]).st_mode)


URLS = {  # postgresql:// is served (tests/cli/test_server_urls.py); other drivers are not
    "postgresql+asyncpg://student:secret@localhost/cards": "postgresql+asyncpg",
    "mysql://student@localhost/cards": "mysql",
    "foo://bar": "foo",
    "sqlite+pysqlcipher://:secret@/c.db": "sqlite+pysqlcipher",
}


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("command", [*COMMANDS[:4], ("init",), ("backup",)], ids=" ".join)
def test_a_database_url_this_installation_cannot_open_is_one_line(
    capsys: Capture, url: str, command: tuple[str, ...]
) -> None:
    status, out, err = run_cli(capsys, *command, "--db", url)
    assert status == 2 and out == ""
    assert one_line(err) == (
        f"studyapp: {URLS[url]}:// databases are not supported by this installation: "
        "give --db the path of an SQLite file or a postgresql:// URL"
    )
    assert "secret" not in err


def test_a_dry_run_import_reports_on_a_new_collection_without_making_it(
    tmp_path: Path, capsys: Capture
) -> None:
    source = tmp_path / "deck.csv"
    source.write_text("What is SGD?,Stochastic gradient descent\nWhat is Adam?,An optimizer\n")
    missing = tmp_path / "new" / "c.db"
    status, out, err = run_cli(capsys, "import", source, "--dry-run", "--db", missing)
    assert status == 0, err
    assert "2 added" in out and "Dry run: nothing was written." in out
    assert not missing.parent.exists()


@pytest.mark.parametrize("command", [*READING, ("init",), ("import", "deck.csv")], ids=" ".join)
def test_an_empty_db_is_refused_not_taken_for_the_default_collection(
    tmp_path: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    default = tmp_path / "default.db"
    make_collection(default, {"D": 1})
    before = md5(default)
    monkeypatch.setenv("STUDYAPP_DB", str(default))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deck.csv").write_text("What is SGD?,Stochastic gradient descent\n")
    status, out, err = run_cli(capsys, *command, "--db", "")
    assert status == 2 and out == ""
    assert one_line(err) == (
        "studyapp: --db is empty: give the path of a collection file, or leave it out"
    )
    assert md5(default) == before


@pytest.mark.parametrize(
    "url",
    ["sqlite://", "sqlite:///", "sqlite:///:memory:", "sqlite+pysqlite://"],
)
def test_a_database_in_memory_is_refused_not_reported_as_saved(
    tmp_path: Path, capsys: Capture, url: str
) -> None:
    """`add` into `sqlite://` said "Added card 1" into a database gone at exit."""
    for command in (("add", "--deck", "D", "--front", "f", "--back", "b"), ("init",)):
        status, out, err = run_cli(capsys, *command, "--db", url)
        assert status == 2 and out == ""
        assert one_line(err) == (
            f"studyapp: {url} names no collection file (an SQLite database in memory, or a "
            "file: URI): give the path of a collection file"
        )


def test_a_blank_studyapp_db_is_refused_as_an_empty_db_is(
    tmp_path: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STUDYAPP_DB", "  ")
    status, out, err = run_cli(capsys, "init")
    assert status == 2 and out == ""
    assert one_line(err) == (
        "studyapp: STUDYAPP_DB is blank: give it the path of a collection file, or unset it"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "command", [("init",), ("add", "--deck", "D", "--front", "f", "--back", "b"), ("decks",)]
)
def test_a_collection_named_with_bytes_that_are_not_utf8_is_one_line(
    tmp_path: Path, capsys: Capture, command: tuple[str, ...]
) -> None:
    named = tmp_path / "c\udcff.db"  # the byte 0xFF, as the shell passes it
    status, out, err = run_cli(capsys, *command, "--db", named)
    assert status == 2 and out == ""
    assert one_line(err) == (
        f"studyapp: {tmp_path}/c\\xff.db is not UTF-8 text, and studyapp opens a collection "
        "only by a UTF-8 name: rename the collection file or its folder"
    )
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_once_an_import_is_saved_says_that_it_stands(
    tmp_path: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped between saving and saying so, the command said only "interrupted", and a
    learner took the import for not done."""
    from studyapp.services.library import LibraryService

    db = tmp_path / "c.db"
    make_collection(db, {"D": 1})
    source = tmp_path / "deck.csv"
    source.write_text("What is SGD?,Stochastic gradient descent\n")
    imported = LibraryService.import_files

    def then_ctrl_c(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        imported(self, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(LibraryService, "import_files", then_ctrl_c)
    status, out, err = run_cli(capsys, "import", source, "--deck", "New", "--db", db)
    assert status == 130
    assert one_line(err) == "studyapp: interrupted once the change was saved; it stands"
    monkeypatch.undo()
    status, out, _ = run_cli(capsys, "cards", "deck:New", "--db", db)
    assert "1 card" in out


def test_ctrl_c_while_the_command_line_loads_is_one_line(
    capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys
    import types

    from studyapp.entry import main

    loading = types.ModuleType("studyapp.cli")

    def __getattr__(name: str) -> object:
        raise KeyboardInterrupt

    loading.__getattr__ = __getattr__  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "studyapp.cli", loading)
    assert main() == 130
    assert capsys.readouterr().err == "studyapp: interrupted\n"


@pytest.mark.parametrize(
    ("command", "argument"),
    [
        (("restore", ""), "PATH"),
        (("import", ""), "PATH"),
        (("import", "deck.csv", " "), "PATH"),
        (("scheduler", "evaluate", "--revlog", ""), "--revlog"),
    ],
    ids=["restore", "import", "import-blank-second", "revlog"],
)
def test_an_empty_file_name_is_a_usage_error_not_the_current_folder(
    tmp_path: Path,
    capsys: Capture,
    monkeypatch: pytest.MonkeyPatch,
    command: tuple[str, ...],
    argument: str,
) -> None:
    """`restore ""` said ". is not a file", `import ""` that "." is a folder."""
    db = tmp_path / "c.db"
    make_collection(db, {"D": 1})
    before = md5(db)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deck.csv").write_text("What is SGD?,Stochastic gradient descent\n")
    with pytest.raises(SystemExit) as stopped:
        run_cli(capsys, *command, "--db", db)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {argument}: the name given is empty: give the path of a file" in one_line(err)
    assert md5(db) == before


def test_a_dry_run_import_reads_a_collection_it_may_not_write(
    db_path: Path, tmp_path: Path, capsys: Capture, read_only: Callable[[Path], None]
) -> None:
    """A dry run took the write lock to roll its work back, so it was refused on a
    collection it may not write (read-only media, a file made immutable), though it writes
    nothing. It now reads a copy in memory."""
    make_collection(db_path, {"D": 1})
    before = md5(db_path)
    read_only(db_path)
    source = tmp_path / "deck.csv"
    source.write_text("What is SGD?,Stochastic gradient descent\nWhat is Adam?,An optimizer\n")
    status, out, err = run_cli(capsys, "import", source, "--dry-run", "--db", db_path)
    assert status == 0, err
    assert "2 added" in out and "Dry run: nothing was written." in out
    assert md5(db_path) == before
