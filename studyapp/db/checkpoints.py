"""Checkpoints of the write-ahead log while the learner reads, not inside a rating's commit.

SQLite copies its write-ahead log into the collection file (a checkpoint) inside the commit
that takes the log past 1,000 pages; a rating writes two rows and about six pages, so one
rating in some 170 took several times as long as the others. A store in a learner's session
(`Store.prepare`) turns that off on its own connections (`wal_autocheckpoint=0`) and leaves
the checkpoint to the thread here: the first pause in the writes of IDLE_S seconds (a learner
reading a card) is used for it; writes that never pause are checkpointed after MAX_ROWS rows
all the same, so the log stays bounded.

Every pause empties the log (a TRUNCATE checkpoint), because the log is a file beside the
collection, found by its name: if another file is put in the collection's place while the
app has it open (`mv other.db collection.db`), the next program to open that name reads the
log left beside it as part of it, and the first one to close copies the app's pages into a
file they do not belong to. An empty log holds nothing to copy. The price is one more sync
in the first commit after a pause, which starts the log afresh (a fraction of a millisecond).

Nothing about durability changes: every commit still syncs the log before it returns
(synchronous=FULL), a checkpoint only moves committed pages into the main file, and closing
the last connection checkpoints whatever is left. The checkpoint waits for no one: a writer
or reader that is busy at that moment leaves it as far as it got (as a passive checkpoint),
and it is tried again after the next pause; one that fails (the disk is full) leaves the log
as it was, to the next checkpoint or to the close.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

IDLE_S = 0.5  # a pause in the writes this long is used for a checkpoint
MAX_ROWS = 1_000  # rows written that are checkpointed without waiting for a pause
RETRIES = 5  # pauses in a row that try again a checkpoint someone kept from finishing


class IdleCheckpoints:
    """A thread that checkpoints the collection at `path` when its writes pause.

    The store calls `wrote(rows)` after each unit of work commits, with the number of rows
    it inserted, updated or deleted, and `stop()` before it closes. The thread opens its
    connection at once, while `path` is the collection the store opened: a connection made
    later by name could open a file put in its place since.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.idle_s = IDLE_S
        self.max_rows = MAX_ROWS
        # Rows written since the thread began; two threads writing at once may count only one
        # of their units of work, which puts a checkpoint off a little.
        self._rows = 0
        self._covered = 0  # the rows written before the latest checkpoint
        self._last_write = 0.0  # time.monotonic() of the latest write
        self._wake = threading.Event()  # a write, or stop
        self._stopping = False
        self._connection = self._connect()
        self._thread = threading.Thread(target=self._run, name="studyapp-checkpoints", daemon=True)
        self._thread.start()

    def wrote(self, rows: int) -> None:
        """Note a committed unit of work that wrote `rows` rows (costs it a microsecond)."""
        if rows <= 0:
            return
        self._last_write = time.monotonic()
        self._rows += rows
        if not self._wake.is_set():
            self._wake.set()

    def stop(self) -> None:
        """End the thread, waiting for a checkpoint under way to finish."""
        self._stopping = True
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        connection = self._connection
        try:
            while self._sleep(None):
                if self._rows == self._covered:
                    continue  # covered by the checkpoint that just ran
                for attempt in range(RETRIES):
                    if attempt and not self._sleep(self.idle_s):
                        return  # a checkpoint someone kept from finishing: after a while
                    if not self._pause():
                        return
                    self._covered = self._rows  # rows written during it count for the next
                    if connection is None or _checkpoint(connection):
                        break
        finally:
            if connection is not None:
                connection.close()

    def _pause(self) -> bool:
        """Wait for a pause in the writes, or for too many rows; False when it is time to
        stop."""
        while True:
            quiet = time.monotonic() - self._last_write
            if quiet >= self.idle_s or self._rows - self._covered >= self.max_rows:
                return True
            if not self._sleep(self.idle_s - quiet):
                return False

    def _sleep(self, seconds: float | None) -> bool:
        """Wait `seconds` (None: until woken); False when it is time to stop."""
        self._wake.wait(seconds)
        self._wake.clear()
        return not self._stopping

    def _connect(self) -> sqlite3.Connection | None:
        # mode=rw: a collection that is gone is not made again as an empty file.
        uri = f"{self.path.resolve().as_uri()}?mode=rw"
        try:  # timeout=0: a checkpoint never waits for a rating, nor makes one wait
            return sqlite3.connect(
                uri, uri=True, isolation_level=None, check_same_thread=False, timeout=0
            )
        except sqlite3.Error:
            return None


def _checkpoint(connection: sqlite3.Connection) -> bool:
    """Move the log into the file and empty it, waiting for no one; whether it got that far
    (a busy reader or writer leaves it done as far as it could, as a passive checkpoint)."""
    try:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.Error:  # the log stays, for the next one or the close
        return False
    return busy == 0
