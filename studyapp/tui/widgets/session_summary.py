"""What the end of a review shows: cards, time, ratings, when the next card is due, and what
more there is to study today (extra new cards, reviewing ahead)."""

from __future__ import annotations

from datetime import date

from textual.content import Content
from textual.widgets import Static

from studyapp.scheduling import RATING_LABELS
from studyapp.services.study import MoreToStudy, SessionSummary


def duration_text(seconds: float) -> str:
    whole = round(seconds)
    minutes, secs = divmod(whole, 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def due_text(due: date | None, today: date) -> str:
    if due is None:
        return "nothing scheduled yet"
    days = (due - today).days
    when = "tomorrow" if days == 1 else ("today" if days <= 0 else f"in {days} days")
    return f"{due.isoformat()} ({when})"


def summary_content(
    summary: SessionSummary, today: date, more: MoreToStudy | None = None
) -> Content:
    head = "Session complete." if summary.ratings else "Nothing to review right now."
    lines: list[tuple[str, str] | str | Content] = [(head, "bold"), "\n\n"]
    if summary.ratings:
        lines += [
            f"  Cards     {summary.cards}\n",
            f"  Ratings   {summary.ratings}\n",
            f"  Time      {duration_text(summary.seconds)}\n",
        ]
        by = "  ".join(f"{r} {RATING_LABELS[r]} x{n}" for r, n in sorted(summary.by_rating.items()))
        lines.append(f"  Answers   {by}\n")
    lines.append(f"  Next due  {due_text(summary.next_due, today)}\n\n")
    if more is not None and (more.new or more.ahead):
        lines += [("Study more", "bold"), "\n"]
        if more.new:
            cards = "card" if more.new == 1 else "cards"
            lines += [
                "  ",
                ("n", "bold"),
                f"  new cards beyond today's limit ({more.new} {cards} left)\n",
            ]
        if more.ahead:
            cards = "card is" if more.ahead == 1 else "cards are"
            lines += [
                "  ",
                ("a", "bold"),
                f"  review ahead: {more.ahead} {cards} due in the next {more.days} days\n",
            ]
        lines.append("\n")
    hint = "q goes home"
    if summary.ratings:
        hint += ", u takes back the last rating"
    lines.append((hint + ".", "dim"))
    return Content.assemble(*lines)


class SessionSummaryView(Static):
    DEFAULT_CSS = """
    SessionSummaryView {
        height: auto;
        border: round $success;
        padding: 1 2;
    }
    """

    def show(self, summary: SessionSummary, today: date, more: MoreToStudy | None = None) -> None:
        self.update(summary_content(summary, today, more))
