"""Backups and exports appear whole or not at all.

A signal, `kill -9` or a full disk while `studyapp backup`, the backup before an import, or an
export is being written never leaves a short file under the real name: `backup --list` shows
complete backups only, a broken file is never counted among the five kept (so it never pushes
a real one out), a backup's journal goes with it, and a temporary file a killed run left is
hidden and removed by the next run that writes there.
"""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from studyapp.db import open_store
from studyapp.db.store import BACKUPS_KEPT, backup_folder
from studyapp.services.cards import CardService
from tests.formats.anki_fixtures import build_genanki_package
from tests.hardening.conftest import (
    STUDYAPP,
    make_collection,
    one_line,
    run_cli,
    start_studyapp,
    studyapp,
)

Capture = pytest.CaptureFixture[str]
LONG_WAIT = {"STUDYAPP_BUSY_TIMEOUT": "120"}  # the command waits for the lock until stopped

# Another program that keeps the collection locked so that nothing can read it, until told.
LOCK_EVERYONE_OUT = textwrap.dedent(
    """
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("PRAGMA locking_mode=EXCLUSIVE")
    conn.execute("BEGIN EXCLUSIVE")
    conn.execute("SELECT count(*) FROM cards").fetchall()
    print("locked", flush=True)
    sys.stdin.readline()
    """
)


@contextmanager
def locked_by_another_program(db: Path) -> Iterator[None]:
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_EVERYONE_OUT, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.communicate(timeout=30)  # its input ends: it lets go and exits


def wait_for(found: Callable[[], bool], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not found():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def listed(db: Path) -> list[str]:
    done = studyapp("backup", "--list", "--db", db)
    assert done.returncode == 0, done.stderr
    return [] if done.stdout.startswith("No backups yet") else done.stdout.split()


def whole(path: Path) -> bool:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def age(path: Path, seconds: float = 3600) -> None:
    """Make a file look as if it was left long ago."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def start_backup_and_stop_it_midway(db: Path, how: int) -> tuple[int, list[str]]:
    """`studyapp backup` while another program keeps the collection locked, stopped with the
    signal `how` once its file is begun. Returns its exit status and what it left."""
    folder = backup_folder(db)
    with locked_by_another_program(db):
        process = start_studyapp("backup", "--db", db, env=LONG_WAIT)
        wait_for(lambda: bool(entries(folder)))  # the copy has begun, and waits
        process.send_signal(how)
        status = process.wait(timeout=30)
        process.communicate()
    return status, entries(folder)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_backup_stopped_by_a_signal_leaves_nothing_behind(db_path: Path, how: int) -> None:
    make_collection(db_path, {"D": 3})
    status, left = start_backup_and_stop_it_midway(db_path, how)
    assert status == (130 if how == signal.SIGINT else -how)
    assert left == []
    assert listed(db_path) == []


def test_a_backup_killed_outright_is_never_listed_and_the_next_one_clears_it(
    db_path: Path,
) -> None:
    make_collection(db_path, {"D": 3})
    status, left = start_backup_and_stop_it_midway(db_path, signal.SIGKILL)
    assert status == -signal.SIGKILL
    assert len(left) == 1 and left[0].startswith(".") and left[0].endswith(".tmp")
    assert listed(db_path) == []  # a file cut short is never taken for a backup

    leftover = backup_folder(db_path) / left[0]
    age(leftover)
    done = studyapp("backup", "--db", db_path)
    assert done.returncode == 0, done.stderr
    (made,) = listed(db_path)
    assert entries(backup_folder(db_path)) == [Path(made).name] and whole(Path(made))


def limited_file_size(limit: int) -> Callable[[], None]:
    """For a child process: files cannot grow past `limit` bytes, as on a full disk."""

    def limit_it() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_it


def on_a_full_disk(db: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STUDYAPP, *map(str, args), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limited_file_size(db.stat().st_size // 2),
    )


def test_a_full_disk_during_a_backup_leaves_no_part_of_one(db_path: Path) -> None:
    make_collection(db_path, {"D": 40})
    done = on_a_full_disk(db_path, "backup")
    assert done.returncode == 2
    assert entries(backup_folder(db_path)) == [] and listed(db_path) == []
    assert one_line(done.stderr).startswith(
        f"studyapp: could not back up {db_path} into {backup_folder(db_path)}: "
    )


def test_a_full_disk_during_the_backup_before_an_import_changes_nothing(
    db_path: Path, tmp_path: Path
) -> None:
    make_collection(db_path, {"D": 40})
    before = db_path.read_bytes()
    source = tmp_path / "more.csv"
    source.write_text("new front,new back\n")
    done = on_a_full_disk(db_path, "import", source)
    assert done.returncode == 2
    assert entries(backup_folder(db_path)) == [] and listed(db_path) == []
    assert db_path.read_bytes() == before
    line = one_line(done.stderr)
    assert "before the import" in line and line.endswith("; nothing was changed"), line


def test_broken_files_under_a_backups_name_are_not_counted_and_journals_go_with_their_backup(
    db_path: Path, tmp_path: Path, capsys: Capture
) -> None:
    """Files an older studyapp left when stopped mid-copy: a 0-byte and a short one, named
    as backups newer than any real one. Keeping the last five must keep five real ones."""
    make_collection(db_path, {"D": 3})

    def import_one(i: int) -> None:
        source = tmp_path / f"file{i}.csv"
        source.write_text(f"question {i},answer {i}\n")
        status, _, err = run_cli(capsys, "import", source, "--db", db_path)
        assert status == 0, err

    for i in range(BACKUPS_KEPT):
        import_one(i)
    folder = backup_folder(db_path)
    real = sorted(folder.iterdir())
    assert len(real) == BACKUPS_KEPT
    empty = folder / f"{db_path.stem}-29991231T235959000001-import.db"
    empty.touch()
    short = folder / f"{db_path.stem}-29991231T235959000002-import.db"
    short.write_bytes(real[-1].read_bytes()[:5000])
    journal = Path(f"{real[0]}-journal")  # left when a backup was opened and not closed
    journal.write_bytes(b"x" * 512)
    orphan = folder / f"{db_path.stem}-20000101T000000000000-import.db-journal"
    orphan.write_bytes(b"x" * 512)

    assert [Path(p) for p in listed(db_path)] == real[::-1]  # complete ones only
    import_one(BACKUPS_KEPT)

    kept = [Path(p) for p in listed(db_path)]
    assert len(kept) == BACKUPS_KEPT and all(whole(p) for p in kept)
    assert kept[1:] == real[1:][::-1]  # only the oldest real one made room for the new one
    assert not real[0].exists() and not journal.exists() and not orphan.exists()


def test_a_backup_into_a_folder_of_the_users_only_adds_a_file(
    db_path: Path, tmp_path: Path, capsys: Capture
) -> None:
    """Keeping the last five is for the collection's own backups folder: a folder given to
    `backup --output` is the user's archive, and backups named like automatic ones stay."""
    make_collection(db_path, {"D": 3})
    archive = tmp_path / "archive"
    archive.mkdir()
    for day in range(1, 9):
        name = archive / f"{db_path.stem}-2025010{day}T000000000000-import.db"
        status, _, err = run_cli(capsys, "backup", "--output", name, "--db", db_path)
        assert status == 0, err
    journal = archive / f"{db_path.stem}-20250101T000000000000-import.db-journal"
    journal.write_bytes(b"x" * 512)
    before = set(entries(archive))

    status, _, err = run_cli(capsys, "backup", "--output", archive, "--db", db_path)
    assert status == 0, err
    (added,) = set(entries(archive)) - before
    assert added.endswith("-manual.db") and before <= set(entries(archive))


STOP_WHILE_WRITING = textwrap.dedent(
    """
    import os, signal, sys

    real_fsync = os.fsync

    def stopped_while_writing(fd):
        # The export's data is in its temporary file; the rename is still to come.
        os.kill(os.getpid(), getattr(signal, sys.argv[1]))
        real_fsync(fd)

    os.fsync = stopped_while_writing
    from studyapp.cli import main
    sys.exit(main(sys.argv[2:]))
    """
)


def export_stopped_midway(db: Path, target: Path, how: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", STOP_WHILE_WRITING, how, "export", "--format", "json",
         "--output", str(target), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert "Traceback" not in done.stderr
    return done.returncode


@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_an_export_stopped_by_a_signal_leaves_no_temporary_file(
    db_path: Path, tmp_path: Path, how: str
) -> None:
    make_collection(db_path, {"D": 3})
    out = tmp_path / "out"
    out.mkdir()
    status = export_stopped_midway(db_path, out / "deck.json", how)
    number = getattr(signal, how)
    assert status == (130 if number == signal.SIGINT else -number)
    assert entries(out) == []


def test_an_export_killed_outright_is_cleared_by_the_next_export_there(
    db_path: Path, tmp_path: Path
) -> None:
    make_collection(db_path, {"D": 3})
    out = tmp_path / "out"
    out.mkdir()
    target = out / "deck.json"
    assert export_stopped_midway(db_path, target, "SIGKILL") == -signal.SIGKILL
    (left,) = entries(out)
    assert left.startswith(".deck.json.") and left.endswith(".tmp")  # hidden, never the export

    age(out / left)
    done = studyapp("export", "--format", "json", "--output", target, "--db", db_path)
    assert done.returncode == 0, done.stderr
    assert entries(out) == ["deck.json"]


def test_a_temporary_file_still_being_written_is_never_taken_for_a_leftover(
    tmp_path: Path,
) -> None:
    """An old temporary file whose writer is still at work (it holds the file's lock) stays;
    one whose writer is gone goes."""
    import fcntl

    from studyapp.files import remove_leftovers

    busy = tmp_path / ".deck.json.studyapp-busy1234.tmp"
    gone = tmp_path / ".deck.json.studyapp-gone1234.tmp"
    mine = tmp_path / ".deck.json.mine.tmp"  # not named as studyapp names its files
    for path in (busy, gone, mine):
        path.write_text("partial")
        age(path)
    writer = os.open(busy, os.O_RDONLY)
    fcntl.flock(writer, fcntl.LOCK_EX)
    try:
        assert remove_leftovers(tmp_path, "deck.json") == [gone]
    finally:
        os.close(writer)
    assert busy.exists() and mine.exists() and not gone.exists()


def test_the_journal_beside_a_killed_backups_temporary_file_goes_with_it(
    tmp_path: Path,
) -> None:
    """SQLite writes a backup's temporary file with a rollback journal beside it; a backup
    killed outright may leave both, or the journal alone (its file removed, the journal not
    yet). The journal goes with its file, or alone, and stays while the file's writer is at
    work."""
    import fcntl

    from studyapp.files import remove_leftovers

    gone = tmp_path / ".c-20261207T120000000000-manual.db.studyapp-gone1234.tmp"
    busy = tmp_path / ".c-20261207T120001000000-manual.db.studyapp-busy1234.tmp"
    orphan = tmp_path / ".c-20261207T120002000000-manual.db.studyapp-lone1234.tmp-journal"
    paths = [gone, Path(f"{gone}-journal"), busy, Path(f"{busy}-journal"), orphan]
    for path in paths:
        path.write_text("partial")
        age(path)
    writer = os.open(busy, os.O_RDONLY)
    fcntl.flock(writer, fcntl.LOCK_EX)
    try:
        removed = remove_leftovers(tmp_path, "c-")
    finally:
        os.close(writer)
    assert sorted(removed) == sorted([gone, orphan])  # its journal with it
    assert sorted(tmp_path.iterdir()) == sorted([busy, Path(f"{busy}-journal")])


def test_a_backup_that_cannot_be_written_says_why_in_a_sentence(
    db_path: Path, tmp_path: Path, read_only: Callable[[Path], None], capsys: Capture
) -> None:
    make_collection(db_path, {"D": 3})
    folder = backup_folder(db_path)
    folder.mkdir()
    read_only(folder)
    status, out, err = run_cli(capsys, "backup", "--db", db_path)
    line = one_line(err)
    assert status == 2 and out == ""
    assert line.startswith(f"studyapp: could not back up {db_path} into {folder}: "), line
    assert "[Errno" not in line and "before the manual" not in line

    source = tmp_path / "more.csv"
    source.write_text("new front,new back\n")
    status, out, err = run_cli(capsys, "import", source, "--db", db_path)
    line = one_line(err)
    assert status == 2 and "before the import: " in line and "[Errno" not in line, line


STOP_WHILE_UNPACKING = textwrap.dedent(
    """
    import os, signal, sys

    import studyapp.formats.anki_package as package

    real_copy = package._copy_member

    def stopped_while_unpacking(*args, **kwargs):
        real_copy(*args, **kwargs)  # the package's collection is unpacked, not yet read
        os.kill(os.getpid(), getattr(signal, sys.argv[1]))

    package._copy_member = stopped_while_unpacking
    from studyapp.cli import main
    sys.exit(main(sys.argv[2:]))
    """
)


@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_an_anki_import_stopped_by_a_signal_leaves_no_unpacked_package(
    db_path: Path, tmp_path: Path, how: str
) -> None:
    make_collection(db_path, {"D": 3})
    package = build_genanki_package(tmp_path / "deck.apkg")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", STOP_WHILE_UNPACKING, how, "import", str(package),
         "--db", str(db_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TMPDIR": str(scratch)},
    )  # fmt: skip
    assert "Traceback" not in done.stderr
    number = getattr(signal, how)
    assert done.returncode == (130 if number == signal.SIGINT else -number)
    assert entries(scratch) == []


def test_a_full_disk_during_an_export_of_every_deck_leaves_none_of_their_files(
    db_path: Path, tmp_path: Path
) -> None:
    """`export --format md` writes a file per deck: a disk that fills up at the second
    leaves no first one behind either, and no temporary file."""
    make_collection(db_path, {"A small deck": 2})
    store = open_store(str(db_path))
    for i in range(3):
        CardService(store).add("Z large deck", f"long card {i}", "many words " * 2000)
    store.dispose()
    folder = tmp_path / "decks"
    folder.mkdir()
    done = subprocess.run(
        [*STUDYAPP, "export", "--format", "md", "--output", f"{folder}/", "--db", str(db_path)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limited_file_size(40_000),  # the small deck's file fits, the large one's not
    )
    assert done.returncode == 2
    assert "file too large" in one_line(done.stderr) or "no space" in done.stderr
    assert entries(folder) == []
