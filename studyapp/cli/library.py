"""`studyapp import` and `studyapp export`: decks in from files, and back out again."""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studyapp.cli.output import print_json, say
from studyapp.errors import UserError
from studyapp.files import new_file_mode
from studyapp.terminal import for_stream, one_line

if TYPE_CHECKING:
    from studyapp.services.library import ImportReport, LibraryService

IMPORT_FORMATS = ("apkg", "brainscape", "csv", "json", "knowt", "md", "quizlet", "tsv")
EXPORT_FORMATS = ("apkg", "csv", "json", "md", "tsv")
EXTENSIONS = {"apkg": ".apkg", "csv": ".csv", "tsv": ".tsv", "json": ".json", "md": ".md"}


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    importing = commands.add_parser(
        "import",
        parents=[common],
        help="import decks from files (study-site text, CSV/TSV, Anki, JSON, deck files)",
        description="Import cards from one or more files, all or nothing: if any file cannot "
        "be read, nothing changes. The collection is backed up first. Re-importing a file "
        "changes nothing; an edited card is updated in place and keeps its schedule.",
    )
    importing.add_argument("paths", metavar="PATH", nargs="+", type=Path, help="files to import")
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
        "an existing folder as --output to write one file per deck, named after it "
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
        help="file to write, a folder, or '-' for standard output",
    )
    exporting.set_defaults(handler=run_export)


def _library(args: argparse.Namespace) -> LibraryService:
    from studyapp.db import open_store
    from studyapp.services.library import LibraryService

    return LibraryService(open_store(args.db))


def run_import(args: argparse.Namespace) -> int:
    report = _library(args).import_files(
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
    for skipped in report.skipped:
        say(one_line(f"  skipped {skipped.where}: {skipped.reason}"))
    for warning in report.warnings:
        say(one_line(f"  warning: {warning}"))
    if dry_run:
        print("Dry run: nothing was written.")


def run_export(args: argparse.Namespace) -> int:
    from studyapp.formats import get_format

    library = _library(args)
    spec = get_format(args.format, for_export=True)
    output = args.output
    if output == "-":
        if not spec.text:
            raise UserError(f"{args.format} is not text; give a file name with --output")
        data = library.export(args.format, args.deck)
        sys.stdout.buffer.write(for_stream(data, sys.stdout))
        sys.stdout.buffer.flush()
        return 0
    target = Path(output)
    if target.is_dir():
        written = _export_to_folder(library, args.format, args.deck, target)
    else:
        data = library.export(args.format, args.deck)
        write_file(target, data)
        written = [target]
    for path in written:
        say(f"Wrote {path}")
    return 0


def _export_to_folder(
    library: LibraryService, format: str, deck: str | None, folder: Path
) -> list[Path]:
    extension = EXTENSIONS[format]
    if format != "md":
        name = slug(deck) if deck else "collection"
        target = folder / f"{name}{extension}"
        write_file(target, library.export(format, deck))
        return [target]
    names = [deck] if deck else [d.name for d in library.export_decks()]
    if not names:
        raise UserError("there are no decks to export")
    written: list[Path] = []
    used: set[str] = set()
    for name in names:
        stem = slug(name)
        while stem in used:
            stem += "-1"
        used.add(stem)
        target = folder / f"{stem}{extension}"
        write_file(target, library.export(format, name))
        written.append(target)
    return written


def slug(name: str) -> str:
    """A file name for a deck: lower case, words joined by hyphens."""
    text = re.sub(r"[^\w]+", "-", name.lower(), flags=re.UNICODE).strip("-_")
    return text[:80] or "deck"


def write_file(target: Path, data: bytes) -> None:
    """Write a whole file or nothing: a temporary file beside it, then a rename."""
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(f"{target}: the folder {folder} does not exist")
    try:
        handle, temp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                # The temporary file is private; the export is a file like any other.
                os.fchmod(out.fileno(), new_file_mode(target))
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise UserError(f"{target}: cannot write ({exc.strerror or exc})") from None
