"""How studyapp writes a file for the user: whole or not at all, and never over what matters.

Every file studyapp writes outside the collection itself (an export, a backup made by hand or
before an import, a restore's copy) goes through one policy. The path is refused, with one
sentence and before anything is written, when it is empty, is the collection or one of the
files SQLite keeps beside it (however it is reached: a symlink, a hard link, another name),
or is something other than a regular file (a device, a FIFO, a folder, or a link into the
system's device and process files such as /dev/stdout). A symlink to a file is written
through: the file it points to is replaced, the link stays. The data goes to a
temporary file in the same folder, which is flushed to the disk and renamed over the target,
so a reader sees the old file or the new one, never a part. The temporary file is removed
when anything fails and when the process is told to stop (TERM, HUP, INT); one left by a
process killed outright is hidden, can never be taken for the real file, and is removed by
the next write to the same place once its writer is gone.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType

from studyapp.errors import UserError

COMPANIONS = ("-wal", "-journal", "-shm")  # the files SQLite keeps beside a database
TEMP_MARK = ".studyapp-"  # in every temporary file's name: `.<name>.studyapp-<random>.tmp`
TEMP_SUFFIX = ".tmp"
LEFTOVER_AGE_S = 60.0  # a temporary file this old whose writer is gone is a leftover
_NAME_ROOM = 100  # characters of the target's name kept in a temporary file's name
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)

# The temporary files this process is writing, for the signal handler to remove. Changed
# and read only with single (atomic) set operations, so the handler never waits for a lock.
_live: set[str] = set()
_live_folders: set[str] = set()  # scratch folders in use, removed on a stop signal


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


# --- the policy -----------------------------------------------------------------------------

# Folders of devices and of the kernel's views of processes: a link there (/dev/stdout,
# /proc/self/fd/1) stands for a stream, not a file; /dev/shm holds ordinary files.
_SYSTEM_FOLDERS = ("/dev", "/proc", "/sys")
_ORDINARY_SYSTEM_FOLDERS = ("/dev/shm",)
_MAX_LINKS = 40  # symlinks followed before a chain is taken for a loop, as the kernel does


def user_path(text: str | Path) -> Path:
    """A path as the user typed it, `~` and `~name` expanded; UserError, naming it, when
    `~name` names no user on this system."""
    try:
        return Path(text).expanduser()
    except RuntimeError:  # Path.expanduser: "Could not determine home directory."
        user = str(text)[1:].split("/", 1)[0] or "the current user"
        raise UserError(f"{text}: there is no home folder for {user} on this system") from None


def not_a_file(path: Path) -> str:
    """Why `path`, which is no regular file, cannot be read as one, for a message."""
    if path.is_symlink() and not path.exists():
        return f"{path} is a symlink that leads nowhere (to a missing file, or round in a loop)"
    return f"{path} does not exist" if not path.exists() else f"{path} is not a file"


def _in_system_folder(path: Path) -> bool:
    text = os.path.normpath(path)
    return any(text == f or text.startswith(f"{f}/") for f in _SYSTEM_FOLDERS) and not any(
        text == f or text.startswith(f"{f}/") for f in _ORDINARY_SYSTEM_FOLDERS
    )


def _end_of_links(path: Path) -> Path:
    """The file `path` leads to through its symlinks (`path` itself when it is none);
    UserError for a chain that loops or passes through the system's device or process
    files."""
    current = Path(os.path.abspath(path))
    for _ in range(_MAX_LINKS):
        try:
            target = os.readlink(current)
        except OSError:  # not a link (or not there): the end of the chain
            return current
        if _in_system_folder(current):
            where = "is" if current == Path(os.path.abspath(path)) else f"leads to {current},"
            raise UserError(
                f"{path} {where} a device or process file, not a regular file: studyapp "
                "writes only files (use '-' for standard output where a command offers it)"
            )
        # A relative target is read from the folder the link is really in, as the system
        # reads it: the folder's own name may be a link, and `..` leaves the real one.
        current = Path(os.path.normpath(os.path.join(os.path.realpath(current.parent), target)))
    raise UserError(f"{path}: too many levels of symbolic links (a loop?)")


def check_output(target: str | Path, collection: Path | None = None) -> Path:
    """The file `target` names, if studyapp may replace it; UserError, naming it, if not.

    `collection` is the open collection's file: it and its companions are never replaced.
    Nothing is created or changed here.
    """
    if not str(target).strip():
        raise UserError("the output path is empty: give the name of a file to write")
    typed = user_path(target)
    end = _end_of_links(typed)
    # A link is written through (the file it names is replaced); any other path stays as
    # typed. Messages name what was typed: a link is what it leads to.
    linked = end != Path(os.path.abspath(typed))
    path = end if linked else typed
    reached = collection_file_reached(path, collection) if collection is not None else None
    if reached is not None and reached == collection:
        raise UserError(
            f"{typed} is the collection itself: writing there would destroy it; choose another file"
        )
    if reached is not None:
        raise UserError(
            f"{typed} is {reached.name}, which SQLite keeps beside the collection: writing "
            "there would damage it; choose another file"
        )
    try:
        found = path.stat()  # through symlinks: what a write would reach
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise WriteError(path, _reason(exc)) from None
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise UserError(f"{typed} is a folder; give the name of a file to write")
    if found is not None and not stat.S_ISREG(found.st_mode):
        raise UserError(
            f"{typed} is {describe_kind(found.st_mode)}, not a regular file: studyapp writes only "
            "files (use '-' for standard output where a command offers it)"
        )
    folder = path.parent
    if not folder.is_dir():
        raise WriteError(path, f"the folder {folder} does not exist")
    return path


def output_folder(output: str) -> Path | None:
    """The folder `output` names when it ends with a path separator ("exports/"), made if
    it does not exist yet (its parent must); None for any other output, which names a
    folder only if it is one already."""
    if not output.endswith(("/", os.sep)):
        return None
    folder = user_path(output)
    if folder.is_dir():
        return folder
    if folder.exists() or folder.is_symlink():
        raise UserError(f"{output} is not a folder; give an existing folder or a new one")
    try:
        folder.mkdir()
    except FileNotFoundError:
        raise WriteError(folder, f"the folder {folder.parent} does not exist") from None
    except OSError as exc:
        raise WriteError(folder, _reason(exc)) from None
    return folder


def is_collection(path: Path, collection: Path) -> bool:
    """Whether writing `path` would reach `collection` or a file SQLite keeps beside it."""
    return collection_file_reached(path, collection) is not None


def collection_file_reached(path: Path, collection: Path) -> Path | None:
    """The collection, or the file SQLite keeps beside it, that writing `path` would reach.

    Compared by device and inode for files that exist (so symlinks and hard links are seen
    through) and by the real path for those that do not exist yet.
    """
    protected = [collection, *(Path(f"{collection}{suffix}") for suffix in COMPANIONS)]
    real = _real(path)
    for other in protected:
        if real == _real(other):
            return other
        with suppress(OSError):
            if os.path.samestat(path.stat(), other.stat()):
                return other
    return None


def _real(path: Path) -> Path:
    try:
        return path.expanduser().resolve()
    except (OSError, RuntimeError):  # a symlink loop: compared by inode alone
        return path


def describe_kind(mode: int) -> str:
    """What a file that is not a regular file is, for a message: "a FIFO (named pipe)"."""
    kinds = (
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


class WriteError(UserError):
    """A file could not be written; `reason` says why in a few words ("no space left on
    device"), for callers that put it in a sentence of their own."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot write {path}: {reason}")
        self.path = path
        self.reason = reason


# --- writing --------------------------------------------------------------------------------


def write_output(target: str | Path, data: bytes, collection: Path | None = None) -> Path:
    """Write `data` to `target` whole, under the policy above. Returns the path written."""
    with replacing(target, collection) as temp, open(temp, "wb") as out:
        out.write(data)
    return user_path(target)


@contextmanager
def replacing(target: str | Path, collection: Path | None = None) -> Iterator[Path]:
    """A temporary file beside `target` to fill in the block; then it replaces `target`.

    The target is checked (`check_output`) before the temporary file is made and again just
    before the rename. If the block or the rename fails, or a stop signal arrives, the
    temporary file (and any journal SQLite made beside it) is removed and `target` is left
    as it was. OSError comes out as WriteError naming `target`.
    """
    path = check_output(target, collection)
    remove_leftovers(path.parent, path.name)
    with _temporary(path) as (temp, handle):
        try:
            yield temp
            os.fsync(handle)  # whoever wrote it, through whichever descriptor
            os.fchmod(handle, new_file_mode(path))  # not the temporary file's private mode
            check_output(path, collection)  # it may have changed while the data was written
            os.replace(temp, path)
            _sync_folder(path.parent)
        except OSError as exc:
            raise WriteError(path, _reason(exc)) from None


@contextmanager
def scratch_file(beside: Path) -> Iterator[Path]:
    """A new private file in the folder `beside` names, for work that is thrown away: it is
    removed when the block ends, and on a stop signal."""
    remove_leftovers(beside.parent, beside.name)
    with _temporary(beside) as (temp, _):
        yield temp


@contextmanager
def _temporary(beside: Path) -> Iterator[tuple[Path, int]]:
    """A new file next to `beside`, hidden and named as studyapp's, locked while it is in use
    (so it is never taken for a leftover), and removed after, with what SQLite left by it."""
    import tempfile

    try:
        handle, name = tempfile.mkstemp(
            dir=beside.parent, prefix=f".{beside.name[:_NAME_ROOM]}{TEMP_MARK}", suffix=TEMP_SUFFIX
        )
    except OSError as exc:
        raise WriteError(beside, _reason(exc)) from None
    _live.add(name)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield Path(name), handle
    finally:
        _remove(name)
        _live.discard(name)
        os.close(handle)


@contextmanager
def scratch_folder(prefix: str) -> Iterator[Path]:
    """A new private folder in the system's temporary folder, for work that is thrown away
    (an unpacked package): removed with its contents when the block ends, and on a stop
    signal."""
    import tempfile

    folder = tempfile.mkdtemp(prefix=prefix)
    _live_folders.add(folder)
    try:
        yield Path(folder)
    finally:
        _live_folders.discard(folder)
        shutil.rmtree(folder, ignore_errors=True)


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` survive a power cut (where the system can)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the rename is still atomic
    finally:
        os.close(fd)


def _remove(name: str) -> None:
    """Remove a temporary file and whatever SQLite left beside it, if they are there."""
    for suffix in ("", *COMPANIONS):
        with suppress(OSError):
            os.unlink(name + suffix)


def remove_leftovers(folder: Path, prefix: str = "") -> list[Path]:
    """Remove the temporary files a killed studyapp left in `folder` for names starting with
    `prefix`; returns those removed.

    A file counts as a leftover only if it has a studyapp temporary file's name, is a regular
    file of this user, is older than a minute, and no process holds its lock (a writer holds
    it until it is done; the system drops it when the writer dies, however it dies).
    """
    pattern = re.compile(
        rf"\.{re.escape(prefix[:_NAME_ROOM])}.*{re.escape(TEMP_MARK)}[A-Za-z0-9_]+"
        rf"{re.escape(TEMP_SUFFIX)}(?P<journal>-journal)?"
    )
    removed: list[Path] = []
    try:
        found = [match for e in os.scandir(folder) if (match := pattern.fullmatch(e.name))]
    except OSError:
        return removed
    # A temporary file first, then the rollback journal SQLite kept beside one it was
    # writing (a backup's): the journal goes when its file has gone, or was never there.
    for match in sorted(found, key=lambda m: m["journal"] is not None):
        path = folder / match.group()
        if match["journal"] is not None:
            written = folder / match.group().removesuffix(match["journal"])
            if written.exists() and not _abandoned(written):
                continue
        if _abandoned(path):
            _remove(str(path))
            removed.append(path)
    return removed


def _abandoned(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode) or found.st_uid != os.geteuid():
            return False
        if time.time() - found.st_mtime < LEFTOVER_AGE_S:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # its writer is still at work
        return True
    finally:
        os.close(fd)


# --- signals --------------------------------------------------------------------------------


@contextmanager
def temporary_files_removed_on_stop() -> Iterator[None]:
    """While the block runs, TERM, HUP or INT first removes the temporary files being written,
    then does what it did before (ends the process, or raises KeyboardInterrupt).

    Signal handlers belong to the main thread; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in _STOP_SIGNALS}

    def on_stop(signum: int, frame: FrameType | None) -> None:
        for name in list(_live):
            _remove(name)
        for folder in list(_live_folders):
            shutil.rmtree(folder, ignore_errors=True)
        before = previous[signum]
        if callable(before):
            before(signum, frame)
        elif before != signal.SIG_IGN:
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)  # end as the signal would have ended us

    installed: list[tuple[int, Callable[[int, FrameType | None], object] | int | None]] = []
    for signum, before in previous.items():
        if before == signal.SIG_IGN:
            continue  # ignored on purpose (nohup): stay ignored
        signal.signal(signum, on_stop)
        installed.append((signum, before))
    try:
        yield
    finally:
        for signum, before in installed:
            signal.signal(signum, before if before is not None else signal.SIG_DFL)
