"""`studyapp import` and `studyapp export`: decks in from files, and back out again."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from studyapp.cli.output import file_argument, output_failed, path_text, print_json, say
from studyapp.errors import UserError
from studyapp.files import check_output, output_folder, user_path, write_output
from studyapp.terminal import for_stream, one_line

if TYPE_CHECKING:
    from studyapp.services.library import ImportReport, LibraryService

IMPORT_FORMATS = ("apkg", "brainscape", "csv", "json", "knowt", "md", "quizlet", "tsv")
EXPORT_FORMATS = ("apkg", "csv", "json", "md", "tsv")


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    importing = commands.add_parser(
        "import",
        parents=[common],
        help="import decks from files (study-site text, CSV/TSV, Anki, JSON, deck files)",
        description="Import cards from one or more files, all or nothing: if any file cannot "
        "be read, nothing changes. The collection is backed up first. Re-importing a file "
        "changes nothing; an edited card is updated in place and keeps its schedule.",
    )
    importing.add_argument(
        "paths", metavar="PATH", nargs="+", type=file_argument, help="files to import"
    )
    importing.add_argument(
        "--format",
        choices=IMPORT_FORMATS,
        help="the files' format (default: detected from each file)",
    )
    importing.add_argument(
        "--deck", metavar="NAME", help="put every card in this deck (default: the file's own)"
    )
    importing.add_argument(
        "--dry-run", action="store_true", help="report what would change, write nothing"
    )
    importing.add_argument("--json", action="store_true", help="print the report as JSON")
    importing.set_defaults(handler=run_import)

    exporting = commands.add_parser(
        "export",
        parents=[common],
        help="export decks as apkg, csv, tsv, json or md",
        description="Export the collection, or one deck. '--output -' writes text formats to "
        "standard output. md holds one deck per file: export one deck with --deck, or give "
        "a folder as --output (one ending in '/' is made) to write one file per deck, named "
        "after it "
        "(class-thirteen.md). Other formats written into a folder go to one file named after "
        "the deck, or collection.<ext> for all decks.",
    )
    exporting.add_argument("--deck", metavar="NAME", help="only this deck (default: all)")
    exporting.add_argument(
        "--format", required=True, choices=EXPORT_FORMATS, help="the file format to write"
    )
    exporting.add_argument(
        "--output",
        required=True,
        metavar="PATH",
        help="file to write, a folder (made if it ends with '/'), or '-' for standard output",
    )
    exporting.set_defaults(handler=run_export)


def _library(args: argparse.Namespace, read_only: bool = False) -> LibraryService:
    from studyapp.db import open_store
    from studyapp.services.library import LibraryService

    return LibraryService(open_store(args.db, read_only=read_only))


def _dry_run_library(args: argparse.Namespace) -> LibraryService:
    """The library a dry run reads: a copy in memory of the collection file (so that it
    takes no lock and works on a collection it may not write), an empty one where there is
    no collection yet (a dry run makes nothing, a collection file included), or the server's
    collection, whose transaction it rolls back."""
    from studyapp.db import open_store
    from studyapp.db.location import collection_file, named_collection
    from studyapp.db.store import in_memory_copy
    from studyapp.errors import NoCollectionYet
    from studyapp.services.library import LibraryService

    path = collection_file(named_collection(args.db))
    if path is not None and not path.exists():
        return LibraryService(open_store("sqlite://"))
    if path is not None:
        reader = open_store(args.db, read_only=True)  # a collection, at this version
        try:
            return LibraryService(in_memory_copy(reader))
        finally:
            reader.dispose()
    try:
        return LibraryService(open_store(args.db, create=False))
    except NoCollectionYet:  # an empty database on a server
        return LibraryService(open_store("sqlite://"))


def run_import(args: argparse.Namespace) -> int:
    library = _dry_run_library(args) if args.dry_run else _library(args)
    report = library.import_files(
        args.paths, format=args.format, deck=args.deck, dry_run=args.dry_run
    )
    if args.json:
        print_json(report.to_dict(), indent=2, ensure_ascii=False)
    else:
        print_report(report, args.dry_run)
    return 0


def print_report(report: ImportReport, dry_run: bool) -> None:
    verb = "Would import" if dry_run else "Imported"
    deck = f" into {report.deck}" if report.deck else ""
    say(
        f"{verb} {report.format}{deck}: {report.added} added, {report.updated} updated, "
        f"{report.unchanged} unchanged, {len(report.skipped)} skipped."
    )
    if report.reviews_added:
        say(f"  {report.history_note(dry_run)}")
    for skipped in report.skipped:
        say(one_line(f"  skipped {skipped.where}: {skipped.reason}"))
    for warning in report.warnings:
        say(one_line(f"  warning: {warning}"))
    if dry_run:
        print("Dry run: nothing was written.")


def run_export(args: argparse.Namespace) -> int:
    from studyapp.formats import get_format

    output = args.output
    if not output.strip():
        raise UserError("--output is empty: give a file, a folder, or '-' for standard output")
    spec = get_format(args.format, for_export=True)
    if output == "-" and not spec.text:
        raise UserError(f"{args.format} is not text; give a file name with --output")
    library = _library(args, read_only=True)
    collection = library.store.path
    if output == "-":
        _write_stdout(library.export(args.format, args.deck))
        return 0
    target = output_folder(output) or user_path(output)
    if target.is_dir():
        written = library.export_to_folder(args.format, args.deck, target)
    else:
        check_output(target, collection)  # before the work of exporting
        written = [write_output(target, library.export(args.format, args.deck), collection)]
    for path in written:
        say(f"Wrote {path_text(path)}")
    return 0


def _write_stdout(data: bytes) -> None:
    """Write an export to standard output, or say in one line why it cannot be.

    A pipe or a file gets the exact bytes; a terminal shows control characters visibly.
    """
    stream = getattr(sys.stdout, "stream", sys.stdout)  # under the command's guard
    if stream is None:
        raise UserError("standard output is closed: give a file name with --output")
    try:
        stream.buffer.write(for_stream(data, stream))
        stream.buffer.flush()
    except BrokenPipeError:
        raise  # the reader stopped reading (`| head`): not an error
    except (OSError, ValueError) as exc:
        raise output_failed(exc) from None
