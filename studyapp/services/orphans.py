"""A worker process ends with the process that started it.

An app or command ended by a signal (kill, or SIGTERM to `studyapp demo run`) cannot tell
its workers to stop: a demo or an FSRS fit then ran on, using the cores with no one to
read its result. Each worker watches for its parent and ends once it is gone.
"""

from __future__ import annotations

import os
import threading
import time


def stop_when_orphaned(parent: int, every_s: float = 0.5) -> None:
    """End this process once `parent` (the pid of the process that started it, passed in
    so that a parent gone before the worker looked is seen too) is no longer its parent."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_s)
        os._exit(0)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()
