"""Import a deck file from inside the app: preview first (a dry run), then take the cards in.

The report is the one `studyapp import` prints: added, updated, unchanged, skipped with the
reason for each, and warnings. The import runs in a worker so a large file does not freeze
the screen; it is all or nothing, so a failure leaves the collection as it was.
"""

from __future__ import annotations

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
from studyapp.files import user_path
from studyapp.formats.textio import check_file
from studyapp.tui.context import LibraryLike, Services
from studyapp.tui.messages import ImportFinished
from studyapp.tui.widgets.import_report import ReportView
from studyapp.tui.widgets.path_input import PathInput

AUTO = "auto"


def format_names(for_export: bool) -> list[str]:
    """The registered formats that can read (or write) files, by name."""
    from studyapp.formats import all_formats

    specs = all_formats()
    return sorted(s.name for s in specs if (s.export if for_export else s.parse) is not None)


class ImportScreen(Screen[None]):
    AUTO_FOCUS = "#import-path"
    BINDINGS = [
        Binding("ctrl+r", "preview", "Preview (dry run)", id="import.preview"),
        Binding("ctrl+s", "commit", "Import", id="import.commit"),
        Binding("escape", "back", "Back", id="import.back"),
    ]

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self._previewed: tuple[str, str | None, str | None] | None = None
        self._pending: tuple[str, str | None, str | None] | None = None
        self._importing = False  # an import (not a preview) is running

    def compose(self) -> ComposeResult:
        options = [(Text("detect from the file"), AUTO)] + [
            (Text(name), name) for name in format_names(for_export=False)
        ]
        with VerticalScroll(id="import-body"):
            yield Static(Content.styled("Import a deck", "bold"), classes="screen-title")
            with Vertical(classes="form"):
                yield Label("File")
                yield PathInput(
                    placeholder="path to a .csv, .tsv, .txt, .apkg, .json or .md file",
                    id="import-path",
                )
                with Horizontal(classes="form-row"):
                    yield Label("Format", classes="form-label")
                    yield Select(
                        options, allow_blank=False, value=AUTO, id="import-format", compact=True
                    )
                with Horizontal(classes="form-row"):
                    yield Label("Deck", classes="form-label")
                    yield Input(
                        placeholder="the file's own deck name", id="import-deck", compact=True
                    )
                with Horizontal(classes="buttons"):
                    yield Button("Preview (ctrl+r)", id="import-preview", compact=True)
                    yield Button(
                        "Import (ctrl+s)",
                        id="import-commit",
                        variant="primary",
                        compact=True,
                        disabled=True,
                    )
            yield ReportView(id="import-report")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(ReportView).show_text(
            "Type a path, then preview: nothing changes until you import."
        )

    def choices(self) -> tuple[str, str | None, str | None]:
        path = self.query_one("#import-path", Input).value.strip()
        fmt = self.query_one("#import-format", Select).value
        deck = self.query_one("#import-deck", Input).value.strip() or None
        return path, (None if fmt == AUTO or not isinstance(fmt, str) else fmt), deck

    def action_preview(self) -> None:
        self._start(dry_run=True)

    def action_commit(self) -> None:
        if self._previewed is None or self._previewed != self.choices():
            self.query_one(ReportView).show_error(
                "Preview first (ctrl+r): the import takes exactly what the preview showed."
            )
            return
        self._start(dry_run=False)

    def _start(self, dry_run: bool) -> None:
        if self._importing:
            self._still_importing()
            return
        path_text, fmt, deck = self.choices()
        report = self.query_one(ReportView)
        if not path_text:
            report.show_error("Type the path of the file to import.")
            return
        try:
            path = user_path(path_text)
            check_file(path)  # as the command line does: a folder, a FIFO, a device...
        except UserError as exc:
            report.show_error(exc.message)
            return
        except OSError as exc:  # a name too long for the system, say
            report.show_error(f"{path_text}: {(exc.strerror or str(exc)).lower()}")
            return
        try:
            library = self.services.library
        except UserError as exc:
            report.show_error(exc.message)
            return
        report.show_text("Reading the file..." if dry_run else "Importing...")
        self.query_one("#import-commit", Button).disabled = True
        self._previewed = None
        self._pending = (path_text, fmt, deck)
        self._importing = not dry_run
        self._run(library, path, fmt, deck, dry_run)

    @work(thread=True, exclusive=True, exit_on_error=False, group="library")
    def _run(
        self,
        library: LibraryLike,
        path: Path,
        fmt: str | None,
        deck: str | None,
        dry_run: bool,
    ) -> None:
        try:
            report = library.import_files([path], format=fmt, deck=deck, dry_run=dry_run)
        except UserError as exc:
            self.post_message(ImportFinished(dry_run, None, exc.message))
            return
        except Exception as exc:  # shown, not raised: the app keeps running
            self.post_message(ImportFinished(dry_run, None, f"{path}: the import failed: {exc}"))
            return
        self.post_message(ImportFinished(dry_run, report))

    def on_import_finished(self, message: ImportFinished) -> None:
        self._importing = False
        view = self.query_one(ReportView)
        if message.report is None:
            view.show_error(message.error or "The import failed.")
            return
        view.show_report(message.report, message.dry_run)
        if message.dry_run:
            self._previewed = self._pending
            self.query_one("#import-commit", Button).disabled = False
        else:
            self.notify("Import done.", markup=False)

    @on(Input.Submitted, "#import-path")
    def _path_entered(self) -> None:
        self.action_preview()

    @on(Button.Pressed, "#import-preview")
    def _preview_pressed(self) -> None:
        self.action_preview()

    @on(Button.Pressed, "#import-commit")
    def _commit_pressed(self) -> None:
        self.action_commit()

    def action_back(self) -> None:
        if self._importing:
            # It cannot be stopped part way (it lands whole or not at all), and its result
            # is shown here: leaving would hide whether it landed.
            self._still_importing()
            return
        self.app.pop_screen()

    def _still_importing(self) -> None:
        self.notify(
            "The import is still running; it cannot be stopped part way. Its result shows "
            "here when it is done.",
            markup=False,
        )
