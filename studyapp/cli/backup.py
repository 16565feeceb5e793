"""`studyapp backup` and `studyapp restore PATH`: a copy of the collection by hand, and back.

These open a collection file without upgrading it, so a collection that this version cannot
open (made by a newer version, or damaged) can still be backed up or replaced. A collection on
a database server is backed up as a JSON backup, and restored from one.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from studyapp.cli.output import file_argument, path_text, say
from studyapp.errors import UserError

if TYPE_CHECKING:
    from studyapp.services.backups import BackupService


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    backup = commands.add_parser(
        "backup",
        parents=[common],
        help="copy the collection to a backup file",
        description="Make a consistent copy of the collection, even while studyapp is open. "
        "By default it goes into the backups folder next to the collection, where the "
        "automatic backups made before imports and upgrades also are (only the last few of "
        "those are kept; backups made with this command stay until you delete them). A "
        "collection on a database server is written as a JSON backup (as `export --format "
        "json` writes it) into the backups folder of this machine's user data folder.",
    )
    backup.add_argument(
        "--output",
        metavar="PATH",
        help="the file to write (replaced if it exists) or a folder to write it into (one "
        "ending in '/' is made)",
    )
    backup.add_argument(
        "--list", action="store_true", help="list the backups next to the collection, newest first"
    )
    backup.set_defaults(handler=run_backup)

    restore = commands.add_parser(
        "restore",
        parents=[common],
        help="replace the collection with a backup",
        description="Replace the collection with a backup made by `studyapp backup` or "
        "automatically. The file must be a studyapp collection this version can open (on a "
        "database server: a JSON backup, from `studyapp backup` or `export --format json`). "
        "The collection as it was is saved in the backups folder first. Nothing changes if "
        "any part of the file cannot be restored. Fails if another studyapp keeps writing "
        "to the collection.",
    )
    restore.add_argument(
        "path", metavar="PATH", type=file_argument, help="the backup file to restore"
    )
    restore.set_defaults(handler=run_restore)


def _service(args: argparse.Namespace, restoring: bool = False) -> BackupService:
    from studyapp.db import Store, open_store, resolve_url
    from studyapp.db.server import is_server_url
    from studyapp.services.backups import BackupService

    url = resolve_url(args.db)
    if is_server_url(url):  # read (and restored) through the models: opened as any command
        return BackupService(open_store(url, read_only=not restoring))
    return BackupService(Store(url))


def run_backup(args: argparse.Namespace) -> int:
    if args.list and args.output is not None:
        raise UserError(
            "--list lists the backups beside the collection and writes none: drop --output"
        )
    service = _service(args)
    if args.list:
        found = service.backups()
        if not found:
            print("No backups yet: `studyapp backup` makes one.")
        say(*map(path_text, found))
        return 0
    made = service.backup(args.output)
    say(f"Backed up {path_text(service.store.where)} to {path_text(made)}")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    done = _service(args, restoring=True).restore(args.path)
    say(f"Restored {path_text(done.collection)} from {path_text(done.source)}.")
    if done.saved is not None:
        say(f"The collection as it was is saved in {path_text(done.saved)}")
    return 0
