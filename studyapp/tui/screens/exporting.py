"""Export a deck (or all of them) from inside the app, and say exactly where the files went.

Markdown deck files hold one deck each: all decks as Markdown go into a folder, one file per
deck (the folder is made if it is not there). A folder typed for any other format gets one
file named after the deck; a path typed with a trailing separator names a folder, made if it
is not there, never a file of that name. The format and folder used last are kept as preferences.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from studyapp.errors import UserError
from studyapp.files import check_output, user_path, write_output
from studyapp.terminal import one_line
from studyapp.tui.context import LibraryLike, Services
from studyapp.tui.messages import ExportFinished
from studyapp.tui.screens.confirm import ConfirmScreen
from studyapp.tui.screens.importing import format_names
from studyapp.tui.text import cell
from studyapp.tui.widgets.import_report import ReportView
from studyapp.tui.widgets.path_input import PathInput

ALL = 0
PREFERRED_FORMAT = "json"  # the lossless backup


def make_folder(path: Path) -> None:
    """Make the folder an export goes into (its parent must be there); UserError if not."""
    try:
        path.mkdir()
    except FileNotFoundError:
        raise UserError(f"cannot make {path}: the folder {path.parent} does not exist") from None
    except OSError as exc:
        reason = exc.strerror.lower() if exc.strerror else str(exc)
        raise UserError(f"cannot make {path}: {reason}") from None


def suggested_path(folder: Path, deck: str | None, fmt: str) -> Path:
    if fmt == "md" and deck is None:
        return folder / "studyapp-decks"
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", deck).strip("-") if deck else "all-decks"
    return folder / f"studyapp-{stem or 'deck'}.{fmt}"


def names_a_folder(typed: str) -> bool:
    """Whether a typed path ends in a separator ("exports/"): a folder, even a new one."""
    return typed.endswith(("/", os.sep))


def one_file_per_deck(fmt: str | None, deck: str | None) -> bool:
    """Whether this export goes into a folder, a file per deck."""
    return fmt == "md" and deck is None


class ExportScreen(Screen[None]):
    AUTO_FOCUS = "#export-format"
    BINDINGS = [
        Binding("ctrl+s", "export", "Export", id="export.commit"),
        Binding("escape", "back", "Back", id="export.back"),
    ]

    def __init__(self, services: Services, folder: Path | None = None) -> None:
        super().__init__()
        self.services = services
        preferences = services.preferences
        kept = preferences.get("export_folder")
        self.folder = folder or (Path(kept) if kept and Path(kept).is_dir() else Path.cwd())
        self.deck_names = [d.name for d in services.decks.list()]
        self.formats = format_names(for_export=True)
        self.first_format = preferences.get("export_format")
        self._suggested = ""

    def compose(self) -> ComposeResult:
        first = PREFERRED_FORMAT if PREFERRED_FORMAT in self.formats else None
        if self.first_format in self.formats:
            first = self.first_format
        decks = [(Text("All decks"), ALL)] + [
            (cell(name), i) for i, name in enumerate(self.deck_names, start=1)
        ]
        with VerticalScroll(id="export-body"):
            yield Static(Content.styled("Export", "bold"), classes="screen-title")
            with Vertical(classes="form"):
                with Horizontal(classes="form-row"):
                    yield Label("Format", classes="form-label")
                    yield Select(
                        [(Text(name), name) for name in self.formats],
                        allow_blank=not self.formats,
                        value=first or (self.formats[0] if self.formats else Select.BLANK),
                        id="export-format",
                        compact=True,
                    )
                with Horizontal(classes="form-row"):
                    yield Label("Deck", classes="form-label")
                    yield Select(
                        decks, allow_blank=False, value=ALL, id="export-deck", compact=True
                    )
                yield Label("Write to", id="export-path-label")
                yield PathInput(id="export-path")
                with Horizontal(classes="buttons"):
                    yield Button(
                        "Export (ctrl+s)", id="export-commit", variant="primary", compact=True
                    )
            yield ReportView(id="export-result")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._suggest()
        self.query_one(ReportView).show_text(
            "Pick a format and a deck; json is the full backup, md writes one file per deck."
        )

    def choices(self) -> tuple[str | None, str | None, str]:
        fmt = self.query_one("#export-format", Select).value
        deck = self.query_one("#export-deck", Select).value
        name = self.deck_names[deck - 1] if isinstance(deck, int) and deck > 0 else None
        typed = self.query_one("#export-path", Input).value
        suggested = self._suggested
        path = suggested if suggested and typed == one_line(suggested) else typed.strip()
        return (fmt if isinstance(fmt, str) else None), name, path

    def _suggest(self) -> None:
        """Follow the format and deck with the file name, unless the user typed their own."""
        fmt, deck, path = self.choices()
        label = "Write to (a file, or a folder to write it into)"
        if one_file_per_deck(fmt, deck):
            label = "Folder to write one .md file per deck into (made if it is not there)"
        self.query_one("#export-path-label", Label).update(label)
        if fmt is None or (path and path != self._suggested):
            return
        self._suggested = str(suggested_path(self.folder, deck, fmt))
        # Shown visibly (a folder's name may hold escape sequences); left as shown, it is
        # the path itself.
        self.query_one("#export-path", Input).value = one_line(self._suggested)

    @on(Select.Changed)
    def _choice_changed(self) -> None:
        self._suggest()

    def action_export(self) -> None:
        fmt, deck, path_text = self.choices()
        view = self.query_one(ReportView)
        if fmt is None:
            view.show_error("Pick a format to export to.")
            return
        if not path_text:
            what = "folder" if one_file_per_deck(fmt, deck) else "file"
            view.show_error(f"Type the path of the {what} to write.")
            return
        if path_text.strip() == "-":
            view.show_error(
                "'-' is standard output, for `studyapp export` on the command line: here, "
                "type the path of a file."
            )
            return
        try:
            library = self.services.library
            path = user_path(path_text)
        except UserError as exc:
            view.show_error(exc.message)
            return
        folder = one_file_per_deck(fmt, deck) or names_a_folder(path_text)
        try:
            size = path.stat().st_size if not folder and path.is_file() else None
        except OSError:
            size = None  # the export says what is wrong with the path

        def start(replace: bool | None = True) -> None:
            if not replace:
                view.show_text(f"Nothing was written: {path} is as it was.")
                return
            view.show_text("Exporting...")
            self._run(library, fmt, deck, path, folder)

        if size is None:
            start()
            return
        try:  # a file the export may not replace at all is refused before any question
            check_output(path, self.services.store.path)
        except UserError as exc:
            view.show_error(exc.message)
            return
        question = ConfirmScreen(
            f"Replace {path.name}?",
            f"{path} is there already ({size:,} bytes); the export replaces it.",
            "Replace",
        )
        self.app.push_screen(question, callback=start)

    @work(thread=True, exclusive=True, exit_on_error=False, group="library")
    def _run(
        self, library: LibraryLike, fmt: str, deck: str | None, path: Path, folder: bool
    ) -> None:
        collection = self.services.store.path  # never written over, however it is named
        try:
            if folder or path.is_dir():
                if not path.exists():
                    make_folder(path)
                written = library.export_to_folder(fmt, deck, path)
                size = sum(p.stat().st_size for p in written)
                self.post_message(ExportFinished(path, size, written=tuple(written)))
                return
            check_output(path, collection)  # before the work of exporting
            data = library.export(fmt, deck)
            write_output(path, data, collection)
        except UserError as exc:
            self.post_message(ExportFinished(path, error=exc.message))
        except Exception as exc:  # shown, not raised: the app keeps running
            self.post_message(ExportFinished(path, error=f"the export failed: {exc}"))
        else:
            self.post_message(ExportFinished(path, len(data)))

    def on_export_finished(self, message: ExportFinished) -> None:
        view = self.query_one(ReportView)
        if message.error:
            view.show_error(message.error)
            return
        fmt, deck, _ = self.choices()
        if fmt is not None:
            self.app.keep_preference("export_format", fmt)  # type: ignore[attr-defined]
        if message.written:
            folder = message.path.resolve()
            names = ", ".join(p.name for p in message.written)
            n = len(message.written)
            view.show_text(
                f"Wrote {n} file{'s' if n != 1 else ''} ({message.size:,} bytes) to {folder}: "
                f"{names}"
            )
            # The next export suggests the same place: a file per deck goes into a folder
            # of its own, suggested in the folder that holds it; a file the user put into a
            # folder, in that folder.
            kept = folder.parent if one_file_per_deck(fmt, deck) else folder
            self.app.keep_preference("export_folder", str(kept))  # type: ignore[attr-defined]
            self.notify(one_line(f"Exported to {folder}"), markup=False)
            return
        where = message.path.resolve()
        view.show_text(f"Wrote {message.size:,} bytes to {where}")
        self.app.keep_preference("export_folder", str(where.parent))  # type: ignore[attr-defined]
        self.notify(one_line(f"Exported to {where}"), markup=False)

    @on(Button.Pressed, "#export-commit")
    def _export_pressed(self) -> None:
        self.action_export()

    def action_back(self) -> None:
        self.app.pop_screen()
