"""kill -9 of the real app in the middle of a review: every rating given before it is stored.

The app runs as a user runs it, `studyapp review` on a pseudo-terminal; each key is sent only
once the screen shows the result of the last one.
"""

from __future__ import annotations

import signal
import sqlite3
import sys
from pathlib import Path

from benchmarks.terminal import Terminal
from tests.hardening.conftest import make_collection, studyapp

RATINGS = (5, 4, 2, 3, 5, 1)  # two below 4, so drilled cards come back into the queue
FRONT = rb"D-Q(\d\d)"


def test_kill_9_after_six_ratings_keeps_all_six_and_the_app_opens_again(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    make_collection(db, {"D": 10})
    shown: list[str] = []
    with Terminal([sys.executable, "-m", "studyapp", "review", "--db", str(db)]) as term:
        current = term.wait_for(FRONT).group(1).decode()
        for rating in RATINGS:
            shown.append(current)
            term.send(" ")
            term.wait_for(rb"D-A" + current.encode())  # the answer is on screen
            term.send(str(rating))
            nxt = term.wait_for(FRONT, accept=lambda m, was=current: m.group(1).decode() != was)
            current = nxt.group(1).decode()
        assert term.kill() == -signal.SIGKILL

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = conn.execute(
            "SELECT cards.front, reviews.rating FROM reviews JOIN cards ON cards.id = card_id"
            " ORDER BY reviews.id"
        ).fetchall()
    assert stored == [(f"D-Q{n}", rating) for n, rating in zip(shown, RATINGS, strict=True)]
    assert len(set(shown)) == 6 and current == "02"  # the card rated 2 came back, as drilled

    reopened = studyapp("decks", "--json", "--db", db)
    assert reopened.returncode == 0, reopened.stderr
    assert '"total": 10' in reopened.stdout
