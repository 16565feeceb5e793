"""Checkpoints of the write-ahead log while the learner reads, not inside a rating's commit.

SQLite copies its write-ahead log into the collection file (a checkpoint) inside the commit
that takes the log past 1,000 pages; a rating writes two rows and about six pages, so one
rating in some 170 took several times as long as the others. A store in a learner's session
(`Store.prepare`) turns that off on its own connections (`wal_autocheckpoint=0`) and leaves
the checkpoint to the thread here: once the log holds about as much as SQLite would have let
it (CHECKPOINT_ROWS rows written), the first pause in the writes of IDLE_S seconds (a
learner reading a card) is used for it; writes that never pause are checkpointed after
MAX_ROWS rows all the same, so the log stays bounded.

A checkpoint is not run in every pause, only when that much has gathered: the commit after a
checkpoint starts the log afresh, which costs it one more sync of the log's header, and that
is better paid once per checkpoint's worth of ratings than on every rating after a pause.

Nothing about durability changes: every commit still syncs the log before it returns
(synchronous=FULL), a checkpoint only moves committed pages into the main file, and closing
the last connection checkpoints whatever is left. A passive checkpoint waits for no one and
blocks no writer or reader; one that fails (the disk is full, the file was replaced) leaves
the log as it was, to the next checkpoint or to the close.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from pathlib import Path

IDLE_S = 0.5  # a pause in the writes this long is used for a checkpoint
CHECKPOINT_ROWS = 300  # rows written that make the next pause checkpoint (~1,000 pages)
MAX_ROWS = 1_000  # rows written that are checkpointed without waiting for a pause


class IdleCheckpoints:
    """A thread that checkpoints the collection at `path` when its writes pause.

    The store calls `wrote(rows)` after each unit of work commits, with the number of rows
    it inserted, updated or deleted, and `stop()` before it closes.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.idle_s = IDLE_S
        self.checkpoint_rows = CHECKPOINT_ROWS
        self.max_rows = MAX_ROWS
        # Rows written since the thread began; two threads writing at once may count only one
        # of their units of work, which puts a checkpoint off a little.
        self._rows = 0
        self._covered = 0  # the rows written before the latest checkpoint
        self._last_write = 0.0  # time.monotonic() of the latest write
        self._wake = threading.Event()  # enough rows for a checkpoint, too many, or stop
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="studyapp-checkpoints", daemon=True)
        self._thread.start()

    def wrote(self, rows: int) -> None:
        """Note a committed unit of work that wrote `rows` rows (costs it a microsecond)."""
        if rows <= 0:
            return
        self._last_write = time.monotonic()
        before = self._rows - self._covered
        self._rows += rows
        waiting = before + rows
        if before < self.checkpoint_rows <= waiting or waiting >= self.max_rows:
            self._wake.set()

    def stop(self) -> None:
        """End the thread, waiting for a checkpoint under way to finish."""
        self._stopping = True
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        try:
            while self._sleep(None):
                waiting = self._rows - self._covered
                if waiting < min(self.checkpoint_rows, self.max_rows):
                    continue  # covered by the checkpoint that just ran
                # Wait for a pause in the writes, or for too many rows.
                while True:
                    quiet = time.monotonic() - self._last_write
                    if quiet >= self.idle_s or self._rows - self._covered >= self.max_rows:
                        break
                    if not self._sleep(self.idle_s - quiet):
                        return
                self._covered = self._rows  # rows written during the checkpoint count for the next
                if connection is None:
                    connection = self._connect()
                if connection is not None:
                    _checkpoint(connection)
        finally:
            if connection is not None:
                connection.close()

    def _sleep(self, seconds: float | None) -> bool:
        """Wait `seconds` (None: until woken); False when it is time to stop."""
        self._wake.wait(seconds)
        self._wake.clear()
        return not self._stopping

    def _connect(self) -> sqlite3.Connection | None:
        # mode=rw: a collection that is gone is not made again as an empty file.
        uri = f"{self.path.resolve().as_uri()}?mode=rw"
        try:
            return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        except sqlite3.Error:
            return None


def _checkpoint(connection: sqlite3.Connection) -> None:
    """A passive checkpoint: what the log holds that no reader still needs goes to the file."""
    with contextlib.suppress(sqlite3.Error):  # the log stays, for the next one or the close
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
