"""A worker (a demo run, an FSRS fit) ends once the process that started it is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The parent starts a worker that watches it and would otherwise sleep a minute, says the
# worker's pid, and waits to be killed.
PARENT = """
import multiprocessing, os, sys, time
from studyapp.services.orphans import stop_when_orphaned

def work(parent):
    stop_when_orphaned(parent, every_s=0.1)
    time.sleep(60)

if __name__ == "__main__":
    worker = multiprocessing.get_context("spawn").Process(target=work, args=(os.getpid(),))
    worker.start()
    print(worker.pid, flush=True)
    time.sleep(60)
"""


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():  # a zombie (exited, not yet reaped) has stopped running
        return stat.read_text().split(") ", 1)[1][:1] not in "ZX"
    return True


def test_a_worker_ends_once_its_parent_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    assert _running(worker)
    parent.send_signal(signal.SIGKILL)  # no chance to tell its worker anything
    parent.wait(timeout=30)
    parent.stdout.close()
    deadline = time.monotonic() + 15
    while _running(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    still = _running(worker)
    if still:
        os.kill(worker, signal.SIGKILL)
    assert not still, "the worker went on after its parent was killed"
