"""The `studyapp` executable: the command line, with ctrl+c said in one line from the start.

Importing the command line takes a moment; a ctrl+c in it (or while the parser is built)
came before `studyapp.cli.main` could catch it, and printed a traceback.
"""

from __future__ import annotations

import sys


def main() -> int:
    try:
        from studyapp.cli import main as run

        return run()
    except KeyboardInterrupt:
        print("studyapp: interrupted", file=sys.stderr)
        return 130
