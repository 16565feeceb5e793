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
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
