"""Errors a user can cause: each carries one clear sentence for the command line and the TUI."""

from collections.abc import Iterator
from contextlib import contextmanager


class UserError(Exception):
    """Bad input or a failed operation the user can act on.

    The message is one sentence that names the file and, where it applies, the line or entry.
    The command line prints it on stderr and exits with status 2; the TUI shows it.
    """

    exit_status = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class CollectionError(UserError):
    """The collection cannot be opened, read or written."""


class NoCollectionYet(CollectionError):
    """The database is there but holds no collection, and this command does not make one."""


class NewerCollectionError(CollectionError):
    """The collection was written by a newer version of studyapp."""


class CollectionReplacedError(CollectionError):
    """The collection was replaced (restored from a backup, or another file moved over it)
    while this process had it open: its card and deck ids may now name other cards."""


class UnconfirmedWrite(CollectionError):
    """The connection to a database server was lost while a change was being committed: it
    may or may not have been stored."""


class NoSuchDeckError(UserError):
    """A deck named that is not in the collection (mistyped, or deleted or renamed since
    it was listed)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"there is no deck named {name!r}; `studyapp decks` lists them")
        self.name = name


_changes_saved = 0
_uncounted = 0


def note_change_saved() -> None:
    """Count a change made to the collection (a committed write, a restore), so that a
    command whose report then cannot be shown says the change stands."""
    global _changes_saved
    if not _uncounted:
        _changes_saved += 1


@contextmanager
def changes_uncounted() -> Iterator[None]:
    """Writes that set a collection up (a new one stamped) are not the change a command
    reports, and are not counted."""
    global _uncounted
    _uncounted += 1
    try:
        yield
    finally:
        _uncounted -= 1


def changes_saved() -> int:
    return _changes_saved
