"""What every file studyapp writes for the user shares: the mode a new file gets."""

from __future__ import annotations

import os
from pathlib import Path


def new_file_mode(target: Path) -> int:
    """The mode for a file written to `target`: the one it already has, else the mode the
    user's programs give a new file (0666 less the umask).

    Files are written to a private temporary file and renamed into place; without this they
    would all come out readable by their owner only.
    """
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask, read without changing it where the system tells it (Linux).

    Setting it to read it back leaves a moment in which a file another thread creates (a
    collection's journal, say) would get no umask at all.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0o077)  # the fallback's moment errs on the private side
    os.umask(umask)
    return umask
