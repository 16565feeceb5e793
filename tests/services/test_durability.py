"""A rating is committed before the next card shows: a crash between ratings loses nothing."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from studyapp.db import open_store
from tests.services.conftest import add_cards

RATE_THEN_DIE = textwrap.dedent(
    """
    import os, signal, sys
    from studyapp.db import open_store
    from studyapp.services.study import StudySession

    session = StudySession(open_store(sys.argv[1]), "D")
    for rating in (5, 4, 2, 3, 5, 1):
        session.answer(rating)
    session.current  # the next card is on screen when the process dies
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_killing_the_process_after_six_ratings_keeps_all_six(db_path: Path) -> None:
    add_cards(open_store(str(db_path)), "D", 10)
    proc = subprocess.run(
        [sys.executable, "-c", RATE_THEN_DIE, str(db_path)], capture_output=True, timeout=60
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        ratings = [r for (r,) in conn.execute("SELECT rating FROM reviews ORDER BY id")]
        states = conn.execute("SELECT COUNT(*) FROM cards WHERE due IS NOT NULL").fetchone()[0]
    assert ratings == [5, 4, 2, 3, 5, 1]
    assert states == 6
    # The collection opens again and carries on.
    reopened = open_store(str(db_path))
    with reopened.read() as session:
        assert session is not None
