"""Small collections and a way to run the real `studyapp` command in another process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from studyapp import cli
from studyapp.db import open_store
from studyapp.services.cards import CardService

STUDYAPP = (sys.executable, "-m", "studyapp")
SHORT_BUSY_TIMEOUT = "0.3"  # seconds: how long a blocked writer waits in these tests


def front(deck: str, i: int) -> str:
    return f"{deck}-Q{i:02d}"


def back(deck: str, i: int) -> str:
    return f"{deck}-A{i:02d}"


def make_collection(path: Path | str, decks: dict[str, int]) -> None:
    """A collection with `n` new cards in each deck, every front and back distinct."""
    store = open_store(str(path))
    cards = CardService(store)
    for deck, n in decks.items():
        for i in range(n):
            cards.add(deck, front(deck, i), back(deck, i))
    store.dispose()


def studyapp(
    *args: str | Path,
    env: dict[str, str] | None = None,
    timeout_s: float = 60,
    **popen: object,
) -> subprocess.CompletedProcess[str]:
    """Run `studyapp ARGS...` in a new process and wait for it."""
    return subprocess.run(
        [*STUDYAPP, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={**os.environ, **(env or {})},
        **popen,  # type: ignore[arg-type]
    )


def start_studyapp(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*STUDYAPP, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def one_line(stderr: str) -> str:
    """The single line a failed command prints; fails if there is a traceback or more."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """`studyapp ARGS...` in this process, as the console script runs it: status, out, err."""
    status = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


ROOT = os.geteuid() == 0


@pytest.fixture
def read_only() -> Iterator[Callable[[Path], None]]:
    """Make a file or folder read-only for this process, even when the tests run as root.

    Permissions do not stop root, so as root the path is also made immutable, which does.
    """
    done: list[Path] = []

    def make(path: Path) -> None:
        path.chmod(0o555 if path.is_dir() else 0o444)
        done.append(path)
        if ROOT:
            chattr = shutil.which("chattr")
            if chattr is None or subprocess.run([chattr, "+i", path]).returncode != 0:
                pytest.skip("as root, read-only needs chattr and a filesystem that supports it")

    yield make
    for path in reversed(done):
        if ROOT:
            subprocess.run(["chattr", "-i", path], check=True)
        path.chmod(0o755 if path.is_dir() else 0o644)
