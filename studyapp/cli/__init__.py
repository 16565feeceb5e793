"""The `studyapp` command: the headless contract that scripts and tests rely on.

Each command group lives in its own module and registers its sub-commands here. Heavy
modules (the TUI, torch, file formats) are imported inside the handlers, so `studyapp decks`
starts fast. Errors a user can cause print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from studyapp import __version__
from studyapp.cli import backup, cards, collection, deck, demo, library, scheduler, tui
from studyapp.cli.output import GuardedOutput, OutputError
from studyapp.db.store import read_only_stores_closed
from studyapp.errors import UserError, changes_saved
from studyapp.files import temporary_files_removed_on_stop
from studyapp.model import text_problem
from studyapp.terminal import one_line

COMMAND_GROUPS = (collection, cards, deck, demo, library, backup, scheduler, tui)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2. The arguments it quotes
    may be file names a shell glob found: shown visibly, never as terminal controls."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {one_line(message)} (see `{self.prog} --help`)\n")


def common_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--db",
        metavar="PATH_OR_URL",
        default=argparse.SUPPRESS,
        help="the collection: an SQLite file or a database URL (default: $STUDYAPP_DB, "
        "else the user data folder)",
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = _Parser(
        prog="studyapp",
        description="A terminal flashcard trainer for deep learning, where every concept can "
        "be run. With no command, opens the app.",
        epilog="Environment: STUDYAPP_DB names the collection (as --db does). "
        "STUDYAPP_BUSY_TIMEOUT is how many seconds a command waits while another studyapp is "
        "writing to the collection (default 5); if it is still busy after that, the command "
        "changes nothing and exits with status 2.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"studyapp {__version__}")
    parser.set_defaults(handler=None)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    for group in COMMAND_GROUPS:
        group.register(commands, common)
    return parser


def _chosen(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.ArgumentParser:
    """The (sub)command's own parser that `argv` names, e.g. `studyapp scheduler evaluate`."""
    for token in argv:
        commands = next(
            (a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None
        )
        if commands is None:
            break
        if token in commands.choices:
            parser = commands.choices[token]
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # said by the command they were given to, which lists what it takes
        _chosen(parser, sys.argv[1:] if argv is None else argv).error(
            f"unrecognized arguments: {' '.join(extra)}"
        )
    if not hasattr(args, "db"):
        args.db = None
    handler = args.handler
    if handler is None:
        handler = _default_handler()
    stdout, sys.stdout = sys.stdout, GuardedOutput(sys.stdout)  # type: ignore[assignment]
    changes = changes_saved()
    try:
        if stdout is None and getattr(args, "output", None) != "-":
            # Said before anything is done, not once it is (an export to '-' says it itself).
            raise OutputError("standard output is closed: there is nowhere to show the result")
        _check_text_arguments(args)
        _check_not_in_memory(args.db)
        with temporary_files_removed_on_stop(), read_only_stores_closed():
            status = int(handler(args) or 0)
        sys.stdout.flush()  # a failure to write is said here, not after exiting
        return status
    except OutputError as exc:
        if changes_saved() == changes:
            print(f"studyapp: {one_line(exc.message)}", file=sys.stderr)
            return exc.exit_status
        # Not status 2, which says nothing was changed: the change stands.
        print(
            f"studyapp: the change was saved, but its report could not be shown: "
            f"{one_line(exc.message)}",
            file=sys.stderr,
        )
        return 1
    except UserError as exc:
        print(f"studyapp: {one_line(exc.message)}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        if changes_saved() == changes:
            print("studyapp: interrupted", file=sys.stderr)
        else:  # stopped between saving and saying so: what was saved stands
            print("studyapp: interrupted once the change was saved; it stands", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        if exc.filename is None:
            raise
        # A path the system refused outright (a name too long for it, say): one line.
        reason = (exc.strerror or str(exc)).lower()
        names = str(exc.filename) + (f" -> {exc.filename2}" if exc.filename2 else "")
        print(f"studyapp: {one_line(names)}: {reason}", file=sys.stderr)
        return 2
    finally:
        sys.stdout = stdout


# Arguments that name files: any bytes the system allows are a name, UTF-8 or not.
_FILE_ARGUMENTS = frozenset({"db", "output", "path", "paths", "revlog"})


def _check_text_arguments(args: argparse.Namespace) -> None:
    """Refuse text arguments (deck names, card text, queries) holding bytes that are not
    UTF-8: the shell passed them through as they were typed, and no deck or card can hold
    them. File names are left alone."""
    for name, value in vars(args).items():
        if name in _FILE_ARGUMENTS:
            continue
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and text_problem(text) is not None:
                shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
                label = name.replace("_", " ")
                raise UserError(f"'{shown}' (the {label} given) is not UTF-8 text")


def _check_not_in_memory(db: str | None) -> None:
    """Refuse an in-memory SQLite URL (`sqlite://`): a command would report cards added to
    a database that is gone when it exits."""
    from studyapp.db.location import named_collection

    value = named_collection(db)
    if "://" not in value or not value.lower().startswith("sqlite"):
        return
    from studyapp.db import sqlite_path

    try:
        in_memory = sqlite_path(value) is None
    except Exception:  # not a URL at all: opening it says so
        return
    if in_memory:
        raise UserError(
            f"{one_line(value)} names no collection file (an SQLite database in memory, or a "
            "file: URI): give the path of a collection file"
        )


def _default_handler():  # type: ignore[no-untyped-def]
    for group in COMMAND_GROUPS:
        default = getattr(group, "default_handler", None)
        if default is not None:
            return default
    return lambda args: build_parser().print_help()
