"""Backup and restore of a collection on a database server: JSON backups, all or nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from benchmarks.postgres import Server
from studyapp.db import Store, open_store
from studyapp.errors import CollectionError, UserError
from studyapp.services.backups import BackupService
from studyapp.services.cards import CardService
from studyapp.services.decks import DeckService
from studyapp.services.library import LibraryService
from studyapp.services.study import StudySession
from tests.services.conftest import FakeClock, add_cards

HOLD_WRITE_LOCK = textwrap.dedent(
    """
    import sys
    from studyapp.db import open_store
    store = open_store(sys.argv[1])
    with store.write() as session:
        session.connection()
        print("locked", flush=True)
        sys.stdin.readline()
    """
)


@contextmanager
def another_writer(db: str) -> Iterator[None]:
    """Another process in the middle of a write to `db`, until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, db],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()


@pytest.fixture
def server_db(pg_server: Server) -> str:
    return pg_server.create_database()


@pytest.fixture
def studied(server_db: str, clock: FakeClock) -> Iterator[Store]:
    """A collection with history: ratings, a lapse, a suspended card, a deck's own settings."""
    store = open_store(server_db)
    ids = add_cards(store, "Optimizers", 6, clock=clock)
    add_cards(store, "CNN", 3, "c", clock=clock)
    DeckService(store, clock).update_settings("CNN", new_per_day=7, day_start_hour=6)
    session = StudySession(store, "Optimizers", clock)
    for rating in (5, 2, 4, 3):
        session.answer(rating)
    CardService(store, clock).set_suspended(ids[5], True)
    yield store
    store.dispose()


def backup_of(store: Store) -> dict[str, object]:
    return json.loads(LibraryService(store).export("json"))


def test_a_backup_then_a_restore_gives_back_the_collection_as_it_was(
    studied: Store, clock: FakeClock, tmp_path: Path
) -> None:
    service = BackupService(studied)
    made = service.backup(tmp_path)
    assert made.parent == tmp_path and made.suffix == ".json"
    before = backup_of(studied)
    assert json.loads(made.read_text()) == before

    StudySession(studied, "CNN", clock).answer(1)
    CardService(studied, clock).add("Extra", "added after the backup", "gone after the restore")
    changed = backup_of(studied)

    done = service.restore(made)
    assert backup_of(studied) == before
    assert json.loads(done.saved.read_text()) == changed  # the collection as it was
    assert service.backups()[0] == done.saved
    assert DeckService(studied, clock).get("CNN").settings.new_per_day == 7
    # The restored collection goes on as any other.
    session = StudySession(studied, "Optimizers", clock)
    assert session.current is not None
    session.answer(4)


def test_a_backup_that_cannot_be_taken_whole_changes_nothing(
    studied: Store, tmp_path: Path
) -> None:
    service = BackupService(studied)
    document = json.loads(service.backup(tmp_path / "good.json").read_text())
    document["decks"][0]["cards"][2]["front"] = ""
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    before = backup_of(studied)
    with pytest.raises(UserError, match=r"bad\.json.*entry.*front"):
        service.restore(bad)
    (tmp_path / "torn.json").write_text(json.dumps(document)[:500])
    with pytest.raises(UserError, match="torn.json"):
        service.restore(tmp_path / "torn.json")
    with pytest.raises(UserError, match="does not exist"):
        service.restore(tmp_path / "missing.json")
    assert backup_of(studied) == before
    assert service.backups() == []  # nothing was replaced, so nothing was saved aside


def test_a_restore_the_server_refuses_is_rolled_back_whole(studied: Store, tmp_path: Path) -> None:
    service = BackupService(studied)
    document = json.loads(service.backup(tmp_path / "good.json").read_text())
    # Past what the server's integer column holds: found only when the row is written.
    document["decks"][-1]["cards"][-1]["state"]["lapses"] = 2**40
    big = tmp_path / "big.json"
    big.write_text(json.dumps(document))
    before = backup_of(studied)
    with pytest.raises(UserError, match="nothing was restored") as refused:
        service.restore(big)
    assert "Traceback" not in str(refused.value) and "\n" not in str(refused.value)
    assert backup_of(studied) == before


def test_an_sqlite_collection_moves_to_a_server_by_its_json_backup(
    server_db: str, tmp_path: Path, clock: FakeClock
) -> None:
    local = open_store(str(tmp_path / "laptop.db"))
    add_cards(local, "D", 5, clock=clock)
    session = StudySession(local, "D", clock)
    session.answer(5)
    session.answer(2)
    exported = tmp_path / "laptop.json"
    exported.write_bytes(LibraryService(local).export("json"))

    shared = open_store(server_db)
    BackupService(shared).restore(exported)
    assert backup_of(shared) == backup_of(local)
    local.dispose()
    shared.dispose()


def test_a_restore_waits_for_another_writer_and_gives_up_after_the_busy_timeout(
    studied: Store, server_db: str, tmp_path: Path
) -> None:
    made = BackupService(studied).backup(tmp_path)
    CardService(studied).add("D", "after the backup", "stays")
    before = backup_of(studied)
    hurried = open_store(server_db, busy_timeout_s=0.3)
    with another_writer(server_db), pytest.raises(CollectionError, match="is busy"):
        BackupService(hurried).restore(made)
    assert backup_of(studied) == before
    hurried.dispose()


def test_backup_and_restore_on_the_command_line(server_db: str, tmp_path: Path) -> None:
    from tests.hardening.conftest import one_line, studyapp

    assert studyapp("init", "--db", server_db).returncode == 0
    made = studyapp("backup", "--output", tmp_path / "all.json", "--db", server_db)
    assert made.returncode == 0, made.stderr
    assert "Backed up postgresql" in made.stdout and ":***@" in made.stdout
    listed = studyapp("backup", "--list", "--db", server_db)
    assert listed.stdout.startswith("No backups yet")  # --output went elsewhere
    done = studyapp("restore", tmp_path / "all.json", "--db", server_db)
    assert done.returncode == 0, done.stderr
    saved = Path(done.stdout.splitlines()[-1].split(" saved in ")[1])
    assert json.loads(saved.read_text()) == json.loads((tmp_path / "all.json").read_text())
    assert studyapp("backup", "--list", "--db", server_db).stdout.split() == [str(saved)]
    refused = studyapp("restore", tmp_path / "nothing.json", "--db", server_db)
    assert refused.returncode == 2 and "does not exist" in one_line(refused.stderr)
