"""A rating is committed before the next card shows: a crash between ratings loses nothing."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

from studyapp.db import open_store
from tests.backends import on_server, scalar, sql
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


def test_killing_the_process_after_six_ratings_keeps_all_six(db: str) -> None:
    add_cards(open_store(db), "D", 10)
    proc = subprocess.run(
        [sys.executable, "-c", RATE_THEN_DIE, db], capture_output=True, timeout=60
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    if not on_server(db):
        assert sql(db, "PRAGMA integrity_check") == [("ok",)]
    ratings = [r for (r,) in sql(db, "SELECT rating FROM reviews ORDER BY id")]
    assert ratings == [5, 4, 2, 3, 5, 1]
    assert scalar(db, "SELECT COUNT(*) FROM cards WHERE due IS NOT NULL") == 6
    # The collection opens again and carries on.
    reopened = open_store(db)
    with reopened.read() as session:
        assert session is not None
