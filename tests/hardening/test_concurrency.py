"""Two processes on one collection: they queue up for the write lock, nothing is lost, and a
writer that waits longer than the busy timeout gives up with one clear line and exit 2.

Each runs on an SQLite file and on a PostgreSQL server (two machines on one shared
collection are two processes to the server)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from studyapp.db import open_store
from studyapp.db.store import copy_sqlite
from studyapp.errors import CollectionError
from studyapp.services.backups import BackupService
from studyapp.services.study import StudySession
from tests.backends import holds_anything, on_server, shown, sql
from tests.hardening.conftest import (
    SHORT_BUSY_TIMEOUT,
    make_collection,
    one_line,
    run_cli,
    start_studyapp,
    studyapp,
)

BUSY = "is busy: another studyapp is writing to it"

HOLD_LOCK = textwrap.dedent(
    """
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    sys.stdin.readline()
    conn.execute("COMMIT")
    """
)


HOLD_SERVER_LOCK = textwrap.dedent(
    """
    import sys
    import psycopg
    from studyapp.db.server import LOCK_SPACE, engine_url
    url = engine_url(sys.argv[1]).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as conn:
        conn.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", (LOCK_SPACE,)
        )
        print("locked", flush=True)
        sys.stdin.readline()
    """
)


@contextmanager
def writer_holding_the_lock(db: Path | str) -> Iterator[subprocess.Popen[str]]:
    """Another process in the middle of a long write, until the block ends (it holds the
    write lock before there is even a collection, if there is none yet)."""
    script = HOLD_SERVER_LOCK if on_server(db) else HOLD_LOCK
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        holder.stdin.close()  # lets it commit and exit
        holder.wait(timeout=30)
        holder.stdout.close()


def csv_file(folder: Path, deck: str, n: int) -> Path:
    path = folder / f"{deck}.csv"
    path.write_text("".join(f"{deck} question {i},{deck} answer {i}\n" for i in range(n)))
    return path


def fronts(db: Path | str) -> set[str]:
    if not holds_anything(db):
        return set()
    return {front for (front,) in sql(db, "SELECT front FROM cards")}


def check_integrity(db: Path | str) -> None:
    if not on_server(db):  # a server checks its own pages
        assert sql(db, "PRAGMA integrity_check") == [("ok",)]


@pytest.mark.parametrize("collection", ["new", "with cards"])
def test_two_imports_started_at_once_hold_exactly_what_their_reports_say(
    db: str, tmp_path: Path, collection: str
) -> None:
    if collection == "with cards":
        make_collection(db, {"Old": 3})
    before = fronts(db)
    files = {deck: csv_file(tmp_path, deck, 40) for deck in ("Alpha", "Beta")}
    runs = {deck: start_studyapp("import", f, "--json", "--db", db) for deck, f in files.items()}
    expected = set(before)
    for deck, proc in runs.items():
        out, err = proc.communicate(timeout=60)
        if proc.returncode == 0:
            report = json.loads(out)
            assert (report["deck"], report["added"]) == (deck, 40)
            expected |= {f"{deck} question {i}" for i in range(40)}
        else:
            assert proc.returncode == 2 and BUSY in one_line(err)
    assert fronts(db) == expected
    check_integrity(db)


@pytest.mark.parametrize("collection", ["new", "with cards"])
def test_imports_wait_for_a_writer_then_both_land(db: str, tmp_path: Path, collection: str) -> None:
    if collection == "with cards":
        make_collection(db, {"Old": 3})
    files = [csv_file(tmp_path, deck, 10) for deck in ("Alpha", "Beta")]
    with writer_holding_the_lock(db):
        runs = [start_studyapp("import", f, "--db", db) for f in files]
        # They have started and wait on the lock; the default busy timeout is far longer.
        for proc in runs:
            with pytest.raises(subprocess.TimeoutExpired):
                proc.wait(timeout=1.0)
    for proc in runs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    assert len(fronts(db)) == 20 + (3 if collection == "with cards" else 0)
    check_integrity(db)


def test_a_writer_held_up_past_the_busy_timeout_gives_up_clearly_and_changes_nothing(
    db: str, tmp_path: Path
) -> None:
    make_collection(db, {"D": 3})
    backup = tmp_path / ("copy.json" if on_server(db) else "copy.db")
    assert studyapp("backup", "--output", backup, "--db", db).returncode == 0
    env = {"STUDYAPP_BUSY_TIMEOUT": SHORT_BUSY_TIMEOUT}
    with writer_holding_the_lock(db):
        imported = studyapp("import", csv_file(tmp_path, "New", 5), "--db", db, env=env)
        restored = studyapp("restore", backup, "--db", db, env=env)
        # Reading and backing up go on while another process writes.
        listed = studyapp("decks", "--json", "--db", db, env=env)
        copied = studyapp("backup", "--output", tmp_path / "during", "--db", db, env=env)
    for failed in (imported, restored):
        assert failed.returncode == 2
        assert one_line(failed.stderr) == f"studyapp: {shown(db)} {BUSY}; try again in a moment"
    assert listed.returncode == 0 and '"total": 3' in listed.stdout
    assert copied.returncode == 0, copied.stderr
    assert fronts(db) == {"D-Q00", "D-Q01", "D-Q02"}
    check_integrity(db)


def test_a_rating_held_up_past_the_busy_timeout_is_refused_and_can_be_given_again(
    db: str,
) -> None:
    make_collection(db, {"D": 3})
    session = StudySession(open_store(db, busy_timeout_s=0.3), "D")
    card = session.current
    assert card is not None
    with writer_holding_the_lock(db), pytest.raises(CollectionError, match=BUSY):
        session.answer(4)
    assert session.current == card and session.done == 0  # still on screen, nothing counted
    session.answer(4)
    assert sql(db, "SELECT card_id, rating FROM reviews") == [(card.id, 4)]


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "1e9"])
def test_a_bad_busy_timeout_is_one_clear_line(
    db_path: Path,
    value: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("STUDYAPP_BUSY_TIMEOUT", value)
    status, out, err = run_cli(capsys, "decks", "--db", db_path)
    assert status == 2 and out == ""
    assert one_line(err) == (
        f"studyapp: STUDYAPP_BUSY_TIMEOUT must be a number of seconds from 0 to 3600, not {value!r}"
    )


CARDS = 15  # within a deck's daily limit of new cards

RATE_ALL = textwrap.dedent(
    """
    import sys
    from studyapp.db import open_store
    from studyapp.services.study import StudySession

    session = StudySession(open_store(sys.argv[1]), sys.argv[2])
    print("ready", flush=True)
    sys.stdin.readline()  # both sessions start rating together
    rated = 0
    while session.current is not None:
        session.answer(5)
        rated += 1
    print(rated)
    """
)


@pytest.mark.parametrize("decks", [("A", "B"), ("A", "A")], ids=["different", "same cards"])
def test_two_study_sessions_in_two_processes_lose_no_rating(
    db: str, decks: tuple[str, str]
) -> None:
    make_collection(db, {"A": CARDS, "B": CARDS})
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RATE_ALL, str(db), deck],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for deck in decks
    ]
    for proc in procs:  # both queues are built before either rates
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    rated = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        rated.append(int(out))
    assert rated == [CARDS, CARDS]
    kinds = sql(
        db, "SELECT cards.front, reviews.kind FROM reviews JOIN cards ON cards.id = card_id"
    )
    studied = sql(db, "SELECT COUNT(*) FROM cards WHERE due IS NOT NULL")[0][0]
    assert len(kinds) == 2 * CARDS  # every rating is in the log
    state_changes = [front for front, kind in kinds if kind != "drill"]
    # Each card studied changed state exactly once, whichever process rated it first.
    assert len(state_changes) == len(set(state_changes)) == studied == len(set(decks)) * CARDS
    check_integrity(db)


async def test_the_app_shows_a_rating_held_up_by_another_writer_and_keeps_the_card(
    db: str,
) -> None:
    from studyapp.tui.app import create_app
    from tests.tui.conftest import FakeRunner, settle, text_of

    make_collection(db, {"D": 2})
    store = open_store(db, busy_timeout_s=0.2)
    app = create_app(store, runner=FakeRunner(), start="review", deck="D")
    said: list[str] = []
    notify = app.notify

    def record(message: str, *args: Any, **kwargs: Any) -> None:
        said.append(message)
        notify(message, *args, **kwargs)

    app.notify = record  # type: ignore[method-assign]
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("space")
        with writer_holding_the_lock(db):
            await pilot.press("4")
            await settle(pilot)
            assert said == [f"{shown(db)} {BUSY}; try again in a moment"]
            assert text_of(app, "#card-front") == "D-Q00"  # still there, answer still shown
            assert app.screen.revealed
        await pilot.press("4")
        await settle(pilot)
        assert text_of(app, "#card-front") == "D-Q01"
    assert sql(db, "SELECT rating FROM reviews") == [(4,)]
    store.dispose()


@pytest.mark.sqlite_only  # a server's restore: tests/services/test_server_backups.py
def test_a_restore_that_meets_a_writer_gives_up_after_the_busy_timeout(
    tmp_path: Path,
) -> None:
    db = tmp_path / "c.db"
    make_collection(db, {"D": 2})
    copy = tmp_path / "copy.db"
    copy_sqlite(db, copy)
    store = open_store(str(db), busy_timeout_s=0.2)
    with writer_holding_the_lock(db), pytest.raises(CollectionError, match=BUSY):
        BackupService(store).restore(copy)
    store.dispose()
    assert fronts(db) == {"D-Q00", "D-Q01"}
    check_integrity(db)


@pytest.mark.sqlite_only  # a server's restore: tests/services/test_server_backups.py
def test_a_write_during_a_restore_is_kept_before_or_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A card added by another process while a restore runs is never lost between the saved
    copy and the restored collection: it waits for the restore and lands after it."""
    db = tmp_path / "c.db"
    make_collection(db, {"D": 2})
    copy = tmp_path / "copy.db"
    copy_sqlite(db, copy)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE cards SET front = 'changed after the backup' WHERE front = 'D-Q00'")
    store = open_store(str(db), busy_timeout_s=10)
    service = BackupService(store)
    writer: list[subprocess.Popen[str]] = []
    save_current = service._save_current

    def save_while_another_process_writes(collection: Path, lock: sqlite3.Connection) -> Path:
        # The restore holds the write lock now; the other process tries to write and waits.
        script = textwrap.dedent(
            f"""
            from studyapp.db import open_store
            from studyapp.services.cards import CardService
            store = open_store({str(db)!r}, busy_timeout_s=30)
            print("ready", flush=True)
            CardService(store).add("D", "written during the restore", "answer")
            print("written", flush=True)
            """
        )
        process = subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
        )
        writer.append(process)
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        time.sleep(0.5)  # well into its wait for the lock
        assert process.poll() is None
        return save_current(collection, lock)

    monkeypatch.setattr(service, "_save_current", save_while_another_process_writes)
    restored = service.restore(copy)
    out, _ = writer[0].communicate(timeout=60)
    store.dispose()

    assert out.strip() == "written"
    assert restored.saved is not None
    assert fronts(restored.saved) == {"changed after the backup", "D-Q01"}
    assert fronts(db) == {"D-Q00", "D-Q01", "written during the restore"}
    check_integrity(db)


RATE_ON_SIGNAL = textwrap.dedent(
    """
    import sys
    from studyapp.db import open_store
    from studyapp.errors import UserError
    from studyapp.services.study import StudySession

    session = StudySession(open_store(sys.argv[1]), "D")
    print(session.current.front, flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "undo":
            try:
                session.undo()
            except UserError as refused:
                print(refused.message, flush=True)
                continue
        else:
            answered = session.answer(int(command))
            print(answered.review.kind, flush=True)
            continue
        print("done", flush=True)
    """
)


def test_a_card_rated_on_two_machines_counts_once_and_each_undo_takes_back_its_own(
    db: str,
) -> None:
    """Machine A rates a card, machine B rates the same card (both had it on screen): the
    first counts as the day's rating, the second as a repeat of it. A's undo is refused while
    B's repeat follows its rating (it would leave a new card with a repeat in its log); B's
    takes back its own, and A's rating stays."""
    make_collection(db, {"D": 3})
    machines = [
        subprocess.Popen(
            [sys.executable, "-c", RATE_ON_SIGNAL, db],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]

    def tell(machine: subprocess.Popen[str], command: str) -> str:
        assert machine.stdin is not None and machine.stdout is not None
        machine.stdin.write(f"{command}\n")
        machine.stdin.flush()
        return machine.stdout.readline().strip()

    a, b = machines
    try:
        assert a.stdout is not None and b.stdout is not None
        assert a.stdout.readline().strip() == b.stdout.readline().strip() == "D-Q00"
        state_before = sql(db, "SELECT ease_cents, interval, repetitions, due FROM cards")
        assert tell(a, "5") == "new"
        assert tell(b, "3") == "drill"  # already rated today on the other machine
        assert sql(db, "SELECT rating, kind FROM reviews ORDER BY id") == [(5, "new"), (3, "drill")]
        assert sql(db, "SELECT ease_cents, interval, repetitions, due FROM cards") != state_before
        state_rated = sql(db, "SELECT ease_cents, interval, repetitions, due FROM cards")
        assert "rated again since, in another window" in tell(a, "undo")
        assert sql(db, "SELECT rating, kind FROM reviews ORDER BY id") == [(5, "new"), (3, "drill")]
        assert tell(b, "undo") == "done"
        assert sql(db, "SELECT rating, kind FROM reviews ORDER BY id") == [(5, "new")]
        assert sql(db, "SELECT ease_cents, interval, repetitions, due FROM cards") == state_rated
    finally:
        errors = [machine.communicate(timeout=60)[1] for machine in machines]
        for machine, err in zip(machines, errors, strict=True):
            assert machine.returncode == 0, err
