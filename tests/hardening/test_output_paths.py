"""Where `export`, `backup --output` and the app's export screen may write.

Never over the collection (by any name: itself, a symlink, a hard link, the files SQLite keeps
beside it), never over anything but a regular file (a device, a FIFO), never to an empty path.
Each refusal is one line naming the path and why, exit status 2, and nothing written: the
collection keeps its every byte and no temporary file is left.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input, Select

from studyapp.db import open_store
from studyapp.tui.app import create_app
from studyapp.tui.screens.exporting import ExportScreen
from tests.hardening.conftest import STUDYAPP, make_collection, one_line, run_cli, studyapp
from tests.tui.conftest import FakeRunner, fixed_clock, settle, text_of

Capture = pytest.CaptureFixture[str]
FORMATS = ("json", "csv", "tsv", "md", "apkg")


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def temporary_files(folder: Path) -> list[str]:
    """Hidden files: how studyapp names a file it is still writing."""
    return sorted(p.name for p in folder.rglob(".*"))


@pytest.fixture
def collection(tmp_path: Path) -> Iterator[Path]:
    """A collection with a few cards, in a folder of its own; its bytes are checked after."""
    db = tmp_path / "home" / "c.db"
    db.parent.mkdir()
    make_collection(db, {"D": 3})
    before = md5(db)
    yield db
    assert md5(db) == before, "the collection was changed"
    assert temporary_files(tmp_path) == []


def names_of_the_collection(db: Path) -> list[Path]:
    """Every way a hostile or careless user could name the collection as --output."""
    folder = db.parent
    (folder / "link.db").symlink_to(db.name)
    (folder / "chain.db").symlink_to(folder / "link.db")
    os.link(db, folder / "hard.db")
    (folder / "wal-link").symlink_to(f"{db.name}-wal")  # dangling until SQLite makes it
    return [
        db,
        folder / "sub" / ".." / db.name,
        folder / "link.db",
        folder / "chain.db",
        folder / "hard.db",
        Path(f"{db}-wal"),
        Path(f"{db}-journal"),
        Path(f"{db}-shm"),
        folder / "wal-link",
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_never_writes_over_the_collection_by_any_name(
    collection: Path, capsys: Capture, fmt: str
) -> None:
    (collection.parent / "sub").mkdir()
    for name in names_of_the_collection(collection):
        status, out, err = run_cli(
            capsys, "export", "--format", fmt, "--output", name, "--db", collection
        )
        assert status == 2 and out == "", (name, err)
        line = one_line(err)
        assert line.startswith(f"studyapp: {name} is ") and (
            "the collection itself" in line or "SQLite keeps beside the collection" in line
        ), line
    # The collection still opens and holds its cards.
    status, out, err = run_cli(capsys, "decks", "--json", "--db", collection)
    assert status == 0 and '"total": 3' in out, err


def test_export_into_the_collections_own_folder_never_names_it(
    tmp_path: Path, capsys: Capture
) -> None:
    """An export into a folder is named after the deck, or `collection.<format>`: with a
    collection called `collection.json`, the file written into its folder would be it."""
    db = tmp_path / "collection.json"
    make_collection(db, {"D": 2})
    before = md5(db)
    status, out, err = run_cli(
        capsys, "export", "--format", "json", "--output", tmp_path, "--db", db
    )
    assert status == 2 and out == "" and "is the collection itself" in one_line(err)
    assert md5(db) == before


def test_backup_never_writes_over_the_collection_by_any_name(
    collection: Path, capsys: Capture
) -> None:
    (collection.parent / "sub").mkdir()
    for name in names_of_the_collection(collection):
        status, out, err = run_cli(capsys, "backup", "--output", name, "--db", collection)
        assert status == 2 and out == "", (name, err)
        assert one_line(err).startswith(f"studyapp: {name} is "), err


@pytest.fixture
def devices(tmp_path: Path) -> list[Path]:
    """A FIFO and a character device (a second node of the null device) in a scratch folder."""
    folder = tmp_path / "devices"
    folder.mkdir()
    fifo = folder / "fifo"
    os.mkfifo(fifo)
    made = [fifo, folder / "link-to-fifo"]
    made[1].symlink_to(fifo)
    try:
        os.mknod(folder / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, AttributeError):
        pass  # not allowed here (no root): the FIFO stands for every non-regular file
    else:
        made.append(folder / "null")
    return made


def kinds(paths: list[Path]) -> list[int]:
    return [stat.S_IFMT(os.stat(p).st_mode) for p in paths]


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_never_replaces_a_device_or_a_fifo(
    collection: Path, devices: list[Path], capsys: Capture, fmt: str
) -> None:
    before = kinds(devices)
    for target in devices:
        status, out, err = run_cli(
            capsys, "export", "--format", fmt, "--output", target, "--db", collection
        )
        assert status == 2 and out == "", err
        assert "not a regular file" in one_line(err) and str(target) in err
    assert kinds(devices) == before  # each is still what it was, not a file renamed over it
    assert not os.path.islink(devices[0]) and os.path.islink(devices[1])


def test_backup_never_replaces_a_device_or_a_fifo(
    collection: Path, devices: list[Path], capsys: Capture
) -> None:
    before = kinds(devices)
    for target in devices:
        status, out, err = run_cli(capsys, "backup", "--output", target, "--db", collection)
        assert status == 2 and out == ""
        assert "not a regular file" in one_line(err) and str(target) in err
    assert kinds(devices) == before


def test_dev_null_is_refused_before_anything_is_written(
    collection: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real /dev/null, only through the refusal: no temporary file may even be made."""
    import studyapp.files as files

    def no_temporary_file(*args: object, **kwargs: object) -> object:
        raise AssertionError("a temporary file was made for a refused path")

    monkeypatch.setattr(files, "_temporary", no_temporary_file)
    for command in (("export", "--format", "json"), ("backup",)):
        status, out, err = run_cli(capsys, *command, "--output", "/dev/null", "--db", collection)
        assert status == 2 and out == ""
        assert one_line(err) == (
            "studyapp: /dev/null is a character device, not a regular file: studyapp writes "
            "only files (use '-' for standard output where a command offers it)"
        )
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_an_empty_output_path_is_refused(
    collection: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(collection.parent)  # where `--output ""` used to write collection.json
    for command in (("export", "--format", "json"), ("backup",)):
        status, out, err = run_cli(capsys, *command, "--output", "", "--db", collection)
        assert status == 2 and out == "" and "--output is empty" in one_line(err)
    assert {p.name for p in collection.parent.iterdir()} <= {"c.db", "c.db-wal", "c.db-shm"}


def test_export_to_standard_output_that_is_closed_or_full_is_one_line(
    collection: Path,
) -> None:
    closed = studyapp(
        "export", "--format", "json", "--output", "-", "--db", collection,
        preexec_fn=lambda: os.close(1),
    )  # fmt: skip
    assert closed.returncode == 2
    assert (
        one_line(closed.stderr)
        == "studyapp: standard output is closed: give a file name with --output"
    )

    done = with_full_stdout("export", "--format", "json", "--output", "-", "--db", collection)
    assert done.returncode == 2
    assert one_line(done.stderr) == (
        "studyapp: cannot write to standard output: no space left on device"
    )


def test_a_file_in_the_way_is_replaced_whole_through_a_temporary_file(
    collection: Path, tmp_path: Path, capsys: Capture
) -> None:
    target = tmp_path / "out.json"
    target.write_text("an older export")
    target.chmod(0o640)
    status, out, err = run_cli(
        capsys, "export", "--format", "json", "--output", target, "--db", collection
    )
    assert status == 0 and out == f"Wrote {target}\n", err
    assert '"D-Q00"' in target.read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the file keeps its mode


async def test_the_export_screen_never_writes_over_the_open_collection(
    collection: Path, devices: list[Path]
) -> None:
    store = open_store(str(collection))
    app = create_app(store, clock=fixed_clock, rng=random.Random(7), runner=FakeRunner())
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("x")
            screen = app.screen
            assert isinstance(screen, ExportScreen)
            (collection.parent / "sub").mkdir()
            names = names_of_the_collection(collection)
            for fmt in ("json", "csv", "apkg"):
                screen.query_one("#export-format", Select).value = fmt
                for name in [*names, *devices]:
                    screen.query_one("#export-path", Input).value = str(name)
                    await pilot.press("ctrl+s")
                    await settle(pilot)
                    shown = text_of(app, "#export-result")
                    assert shown.startswith(f"{name} is "), shown
                    assert "\n" not in shown
            await pilot.press("escape")
            await settle(pilot)
            # The app goes on using the collection: it was never written over.
            assert [d.name for d in app.services.decks.list()] == ["D"]
    finally:
        store.dispose()


async def test_odd_paths_typed_on_the_export_and_import_screens_are_one_line(
    collection: Path,
) -> None:
    """Typed where the app asks for a path: the app says what is wrong and keeps running."""
    store = open_store(str(collection))
    app = create_app(store, clock=fixed_clock, rng=random.Random(7), runner=FakeRunner())
    long_name = str(collection.parent / ("x" * 300))
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("x")
            screen = app.screen
            assert isinstance(screen, ExportScreen)
            screen.query_one("#export-format", Select).value = "csv"
            for typed, says in (
                ("~nosuchuser-studyapp/x.csv", "there is no home folder for nosuchuser"),
                ("-", "'-' is standard output"),
                (long_name, "file name too long"),
            ):
                screen.query_one("#export-path", Input).value = typed
                await pilot.press("ctrl+s")
                await settle(pilot)
                assert says in text_of(app, "#export-result").lower()
            assert not (Path.cwd() / "-").exists()
            await pilot.press("escape")
            await settle(pilot)
            await pilot.press("i")
            await settle(pilot)
            for typed, says in (
                ("~nosuchuser-studyapp/x.csv", "there is no home folder for nosuchuser"),
                (long_name, "file name too long"),
            ):
                app.screen.query_one("#import-path", Input).value = typed
                await pilot.press("ctrl+r")  # the preview
                await settle(pilot)
                assert says in text_of(app, "#import-report").lower(), typed
            assert app.is_running
    finally:
        store.dispose()


def test_a_link_to_standard_output_is_refused_and_stays_a_link(
    collection: Path, capsys: Capture
) -> None:
    """/dev/stdout is a link to /proc/self/fd/1: renaming a file over the link's name would
    have replaced the system's /dev/stdout (as root) with the export."""
    folder = collection.parent
    link = folder / "mystdout"
    link.symlink_to("/proc/self/fd/1")
    for command in (("export", "--format", "csv"), ("backup",)):
        for target in (link, Path("/dev/stdout")):
            status, out, err = run_cli(capsys, *command, "--output", target, "--db", collection)
            assert status == 2 and out == "", err
            assert "a device or process file, not a regular file" in one_line(err)
    assert link.is_symlink() and os.readlink(link) == "/proc/self/fd/1"
    assert Path("/dev/stdout").is_symlink()


def test_a_link_to_a_file_is_written_through_and_stays_a_link(
    collection: Path, capsys: Capture
) -> None:
    folder = collection.parent
    (folder / "real.csv").write_text("old\n")
    (folder / "latest.csv").symlink_to("real.csv")
    status, _, err = run_cli(
        capsys, "export", "--format", "csv", "--output", folder / "latest.csv", "--db", collection
    )
    assert status == 0, err
    assert os.readlink(folder / "latest.csv") == "real.csv"
    assert (folder / "real.csv").read_text().startswith("front,back")


def test_a_link_reached_through_a_linked_folder_writes_the_file_it_points_to(
    collection: Path, capsys: Capture
) -> None:
    """`via` is a link to `real/deep`, and `real/deep/out.csv` a link to `../target.csv`:
    the system reads `..` from `real/deep`, so the file is `real/target.csv`, never the
    `target.csv` beside `via` that the same text would name from there."""
    folder = collection.parent
    (folder / "real" / "deep").mkdir(parents=True)
    (folder / "via").symlink_to("real/deep")
    (folder / "real" / "target.csv").write_text("old\n")
    (folder / "target.csv").write_text("someone else's\n")
    (folder / "real" / "deep" / "out.csv").symlink_to("../target.csv")
    status, _, err = run_cli(
        capsys, "export", "--format", "csv", "--output", folder / "via" / "out.csv",
        "--db", collection,
    )  # fmt: skip
    assert status == 0, err
    assert (folder / "real" / "target.csv").read_text().startswith("front,back")
    assert (folder / "target.csv").read_text() == "someone else's\n"
    assert (folder / "real" / "deep" / "out.csv").is_symlink()


@pytest.mark.parametrize("command", [("export", "--format", "csv"), ("backup",), ("restore",)])
def test_paths_the_system_refuses_are_one_line(
    collection: Path, capsys: Capture, command: tuple[str, ...]
) -> None:
    """A name too long for the system, a user with no home folder, a loop of symlinks."""
    folder = collection.parent
    (folder / "loop1").symlink_to("loop2")
    (folder / "loop2").symlink_to("loop1")
    for target, says in (
        (folder / ("x" * 300), "file name too long"),
        ("~nosuchuser-studyapp/x", "there is no home folder for nosuchuser-studyapp"),
        (folder / "loop1", "loop"),
    ):
        where = ("--output", target) if command[0] != "restore" else (target,)
        status, out, err = run_cli(capsys, *command, *where, "--db", collection)
        assert status == 2 and out == "", err
        assert says in one_line(err).lower() and err.count("\n") == 1


@pytest.mark.parametrize("command", [("decks",), ("cards",), ("stats", "--json"), ("demo", "list")])
def test_standard_output_closed_or_full_is_one_line_for_every_command(
    collection: Path, command: tuple[str, ...]
) -> None:
    closed = studyapp(*command, "--db", collection, preexec_fn=lambda: os.close(1))
    assert closed.returncode == 2 and closed.stderr.count("\n") == 1, closed.stderr
    assert "standard output is closed" in closed.stderr
    done = with_full_stdout(*command, "--db", collection)
    assert done.returncode == 2 and one_line(done.stderr) == (
        "studyapp: cannot write to standard output: no space left on device"
    )


def test_a_writing_command_with_nowhere_to_report_changes_nothing_or_says_it_did(
    tmp_path: Path,
) -> None:
    """Status 2 says nothing was changed, so a script may run the command again: standard
    output closed is refused before the card is added; standard output full is found only
    once the card is added, and then said so, with another status."""
    collection = tmp_path / "c.db"
    make_collection(collection, {"D": 1})
    add = ("add", "--deck", "Outputs", "--front", "f", "--back", "b", "--db", collection)
    closed = studyapp(*add, preexec_fn=lambda: os.close(1))
    assert closed.returncode == 2 and closed.stderr.count("\n") == 1, closed.stderr
    assert "standard output is closed" in closed.stderr
    assert "Outputs" not in studyapp("decks", "--db", collection).stdout

    done = with_full_stdout(*add)
    assert done.returncode == 1 and one_line(done.stderr) == (
        "studyapp: the change was saved, but its report could not be shown: cannot write to "
        "standard output: no space left on device"
    )
    assert "1 card" in studyapp("cards", "deck:Outputs", "--db", collection).stdout


def test_an_output_encoding_without_room_for_a_name_shows_it_escaped(tmp_path: Path) -> None:
    """PYTHONIOENCODING=ascii: a deck name in other letters is shown escaped, every row is
    printed, and --json stays JSON that reads back as the exact name."""
    db = tmp_path / "c.db"
    make_collection(db, {"Ünï 日本": 1, "D": 1})
    ascii_out = {"PYTHONIOENCODING": "ascii"}
    decks = studyapp("decks", "--db", db, env=ascii_out)
    assert decks.returncode == 0, decks.stderr
    assert "\\xdcn\\xef \\u65e5\\u672c" in decks.stdout and "All decks" in decks.stdout
    listed = studyapp("cards", "--json", "--db", db, env=ascii_out)
    assert listed.returncode == 0, listed.stderr
    assert {card["deck"] for card in json.loads(listed.stdout)} == {"Ünï 日本", "D"}


@pytest.mark.parametrize("start", [("review",), ()], ids=["review", "home"])
def test_the_app_without_a_terminal_is_one_line_not_a_traceback_or_a_wait(
    tmp_path: Path, start: tuple[str, ...]
) -> None:
    """Standard input closed gave a traceback; at its end (`< /dev/null`) the app waited for
    keys that never come."""
    db = tmp_path / "c.db"
    make_collection(db, {"D": 2})
    said = (
        "studyapp: the app needs a terminal, and standard input is not one: run it in a "
        "terminal, or use a command (studyapp --help lists them)"
    )
    closed = studyapp(*start, "--db", db, preexec_fn=lambda: os.close(0))
    assert closed.returncode == 2 and one_line(closed.stderr) == said
    with open(os.devnull) as nothing:
        at_end = studyapp(*start, "--db", db, stdin=nothing, timeout_s=60)
    assert at_end.returncode == 2 and one_line(at_end.stderr) == said
    # Refused before anything is done: no collection made where there was none.
    new = tmp_path / "new" / "c.db"
    with open(os.devnull) as nothing:
        refused = studyapp(*start, "--db", new, stdin=nothing, timeout_s=60)
    assert refused.returncode == 2 and not new.parent.exists()


def with_full_stdout(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run `studyapp ARGS...` with its standard output on a full disk (/dev/full)."""
    with open("/dev/full", "wb") as full:
        return subprocess.run(
            [*STUDYAPP, *map(str, args)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
