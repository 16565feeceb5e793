"""What the command line prints for a person: report lines and plain-text tables.

Both show text from files (deck names, card text, warnings that quote a file) visibly: a
control character is printed as `\\x1b`, never sent raw to the terminal, whether the output
goes to a terminal, a pager or a file (see `studyapp.terminal`). Data for programs (`--json`,
`export --output -`) is written by its command, exact.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from studyapp.errors import UserError
from studyapp.terminal import cell_width, json_text, number_columns, one_line, pad, visible


def path_text(path: object) -> str:
    """A path (or a collection's place) for a report line: a newline or tab in its name
    shown as `\\n`, `\\t`, so it cannot split the line or pass for another."""
    return one_line(str(path))


def say(*lines: str, file: TextIO | None = None) -> None:
    """Print report lines for a person, each shown visibly."""
    out = file or sys.stdout
    for line in lines:
        print(visible(line), file=out)


def say_wrapped(text: str, first: str = "", rest: str = "") -> None:
    """Print a paragraph for a person, shown visibly: on a terminal, wrapped at words to its
    width (`first` before the first line, `rest` before the others); piped, one line."""
    shown = visible(text)
    width = _screen_width()
    if width is None:
        print(first + shown)
        return
    for paragraph in shown.split("\n"):
        print(
            textwrap.fill(
                paragraph,
                width=max(20, width - 1),
                initial_indent=first,
                subsequent_indent=rest,
                break_long_words=False,
                break_on_hyphens=False,
            )
            or first.rstrip()
        )
        first = rest


def print_json(data: Any, **options: Any) -> None:
    """Print JSON for a program: the exact values, with no raw control character in the text
    (and every character as a JSON escape where standard output's encoding has no room
    for it, as PYTHONIOENCODING=ascii asks)."""
    text = json_text(data, **options)
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        text = json_text(data, **{**options, "ensure_ascii": True})
    except LookupError:
        pass
    print(text)


def print_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    footer: bool = False,
    width: int | None = None,
) -> None:
    """Print rows under a header; numbers right-aligned, text left-aligned.

    On a terminal (or within `width`), a table wider than the screen has its longest
    headers wrapped at their words onto more lines, so each row stays on one line; piped
    output keeps one header line.
    """
    cells = [[_cell(v) for v in row] for row in rows]
    names = [one_line(str(c)) for c in columns]
    data = [max((cell_width(r[i]) for r in cells), default=0) for i in range(len(columns))]
    heads = _headers(names, data, width if width is not None else _screen_width())
    widths = [max(d, *map(cell_width, h)) for d, h in zip(data, heads, strict=True)]
    numeric = number_columns(rows, len(columns))

    def line(row: Sequence[str]) -> str:
        parts = [pad(cell, w, right=num) for cell, w, num in zip(row, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    depth = max(map(len, heads))
    for level in range(depth):  # the last line of each header sits on the rule
        print(line([h[level - depth + len(h)] if level >= depth - len(h) else "" for h in heads]))
    print("  ".join("-" * w for w in widths))
    for i, row in enumerate(cells):
        if footer and i == len(rows) - 1:
            print("  ".join("-" * w for w in widths))
        print(line(row))


def _screen_width() -> int | None:
    """The terminal's width when stdout is one; None when it goes to a pipe or a file."""
    if sys.stdout is None or not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size().columns


def _headers(names: list[str], data: list[int], width: int | None) -> list[list[str]]:
    """Each column's header as lines: whole, unless the table is wider than `width`; then
    the headers longest beyond their column's values are wrapped at their words, one at a
    time, until it fits (or no header can narrow further)."""
    heads = [[name] for name in names]
    if width is None:
        return heads
    gaps = 2 * (len(names) - 1)

    def total() -> int:
        return sum(max(d, *map(cell_width, h)) for d, h in zip(data, heads, strict=True)) + gaps

    by_excess = sorted(range(len(names)), key=lambda i: data[i] - cell_width(names[i]))
    for i in by_excess:
        if total() <= width or cell_width(names[i]) <= data[i]:
            break
        longest_word = max(map(cell_width, names[i].split()), default=0)
        heads[i] = textwrap.wrap(names[i], max(data[i], longest_word)) or [names[i]]
    return heads


class GuardedOutput:
    """Standard output for a command: a write that cannot be made (output closed with `>&-`,
    a full disk behind `> file`) is one line saying so, status 2, not a traceback. The
    reader going away (`| head`) stays a BrokenPipeError, which is no error."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream  # None: closed

    def write(self, text: str) -> int:
        if self.stream is None:
            raise OutputError("standard output is closed: there is nowhere to show the result")
        try:
            return self.stream.write(text)
        except UnicodeEncodeError:
            # A character its encoding cannot hold (PYTHONIOENCODING=ascii) is shown escaped.
            encoding = self.stream.encoding or "ascii"
            shown = text.encode(encoding, "backslashreplace").decode(encoding)
            return self.write(shown)
        except BrokenPipeError:
            raise
        except (OSError, ValueError) as exc:
            raise output_failed(exc) from None

    def flush(self) -> None:
        if self.stream is None:
            return
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise
        except (OSError, ValueError) as exc:
            raise output_failed(exc) from None

    def isatty(self) -> bool:
        try:
            return self.stream is not None and self.stream.isatty()
        except (OSError, ValueError):
            return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class OutputError(UserError):
    """Standard output cannot be written."""


def output_failed(exc: OSError | ValueError) -> UserError:
    """The one line for standard output that cannot be written; it is pointed at nothing
    from here on, so that exiting does not fail on it as well."""
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, sys.__stdout__.fileno() if sys.__stdout__ is not None else 1)
    except (OSError, ValueError):
        pass
    finally:
        os.close(null)
    reason = exc.strerror.lower() if isinstance(exc, OSError) and exc.strerror else exc
    return OutputError(f"cannot write to standard output: {reason}")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return one_line(str(value))


def file_argument(text: str) -> Path:
    """A file named on the command line; an empty one (an unset shell variable) is a usage
    error, not the current folder that Path("") is."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the name given is empty: give the path of a file")
    return Path(text)
