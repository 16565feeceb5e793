"""An import report as the command line gives it: added, updated, unchanged, skipped and why."""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widgets import Static

from studyapp.tui.text import line


def report_content(report: Any, dry_run: bool) -> Content:
    """`report` is an ImportReport (format, deck, added, updated, unchanged, skipped, warnings)."""
    head = "Preview (dry run): nothing was changed." if dry_run else "Imported."
    deck = f" into deck {report.deck!r}" if getattr(report, "deck", None) else ""
    parts: list[Content] = [
        Content.styled(head, "bold"),
        line(f"Format {report.format}{deck}."),
        Content(
            f"added {report.added}  updated {report.updated}  "
            f"unchanged {report.unchanged}  skipped {len(report.skipped)}"
        ),
    ]
    if getattr(report, "reviews_added", 0):
        parts.append(Content(report.history_note(dry_run)))
    if report.skipped:
        parts.append(Content.styled("Skipped:", "bold"))
        parts += [line(f"  {s.where}: {s.reason}") for s in report.skipped]
    if report.warnings:
        parts.append(Content.styled("Warnings:", "bold"))
        parts += [line(f"  {w}") for w in report.warnings]
    if dry_run:
        parts.append(Content.styled("ctrl+s (or Import) takes these cards in.", "dim"))
    return Content("\n").join(parts)


class ReportView(Static):
    DEFAULT_CSS = """
    ReportView {
        height: auto;
        padding: 1 2;
        border: round $primary;
    }
    ReportView.-error { border: round $error; color: $error; }
    """

    def show_report(self, report: Any, dry_run: bool) -> None:
        self.remove_class("-error")
        self.update(report_content(report, dry_run))

    def show_error(self, message: str) -> None:
        """One sentence (it may name a file: a newline in the name is shown as `\\n`)."""
        self.add_class("-error")
        self.update(line(_shortened(message)))

    def show_text(self, message: str) -> None:
        """One sentence, like `show_error`."""
        self.remove_class("-error")
        self.update(line(_shortened(message)))


_LONGEST = 600  # characters of a sentence shown whole: a few lines of the panel


def _shortened(message: str) -> str:
    """A sentence that would fill the panel (a path of 100,000 characters typed or pasted)
    with its middle left out, so that its start and its reason at the end both show."""
    if len(message) <= _LONGEST:
        return message
    keep = _LONGEST // 2
    return f"{message[:keep]} [... {len(message) - 2 * keep:,} characters ...] {message[-keep:]}"
