"""Text charts for the stats screen: bars per day, a calendar heatmap of reviews, and the
share of predictions that were right, week by week.

All draw with block and shade characters in the widget's own colour, so they read the same
in light and dark themes, and they fit the width they are given (80 columns and up).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from rich.text import Text
from textual.widget import Widget

EIGHTHS = " ▁▂▃▄▅▆▇█"
SHADES = "·░▒▓█"
WEEKDAYS = ("Mon", "", "Wed", "", "Fri", "", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def bar_rows(values: Sequence[int], height: int, gap: int = 1) -> list[str]:
    """Vertical bars one cell wide, `gap` cells apart, top row first."""
    peak = max(values, default=0)
    rows = []
    for level in range(height, 0, -1):
        cells = []
        for value in values:
            eighths = round(8 * height * value / peak) if peak else 0
            if value and eighths == 0:
                eighths = 1  # a day with any count shows at least a sliver
            filled = min(8, max(0, eighths - 8 * (level - 1)))
            cells.append(EIGHTHS[filled] + " " * gap)
        rows.append("".join(cells))
    return rows


class DayBars(Widget):
    """One bar per day with the peak count on the left and the first and last day labelled."""

    DEFAULT_CSS = """
    DayBars {
        height: 7;
        color: $accent;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.values: list[int] = []
        self.first_label = ""
        self.last_label = ""

    def set_values(self, values: Sequence[int], first_label: str, last_label: str) -> None:
        self.values = list(values)
        self.first_label = first_label
        self.last_label = last_label
        self.refresh()

    def render(self) -> Text:
        gutter = max(len(str(max(self.values, default=0))), 1) + 1
        gap = 1 if self.size.width - gutter >= 2 * len(self.values) else 0
        height = max(1, self.size.height - 1)
        text = Text(no_wrap=True, overflow="crop")
        if not any(self.values):
            text.append("nothing", style="dim")
            return text
        peak = str(max(self.values))
        for i, row in enumerate(bar_rows(self.values, height, gap)):
            label = peak if i == 0 else ("0" if i == height - 1 else "")
            text.append(label.rjust(gutter - 1) + " ", style="dim")
            text.append(row.rstrip() + "\n")
        span = len(self.values) * (1 + gap) - gap
        axis = self.first_label + self.last_label.rjust(max(0, span - len(self.first_label)))
        text.append(" " * gutter + axis, style="dim")
        return text


def heatmap_rows(per_day: Mapping[date, int], today: date, weeks: int) -> list[Text]:
    """A month header, seven weekday rows (Monday first) and a legend; newest week on the right."""
    start = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    peak = max((n for d, n in per_day.items() if start <= d <= today), default=0)

    def shade(count: int) -> str:
        if count <= 0 or peak == 0:
            return SHADES[0]
        return SHADES[min(4, max(1, math.ceil(4 * count / peak)))]

    # A month that starts in the newest week is named too: its label runs past the grid.
    header = [" "] * (4 + 2 * weeks + 2)
    for w in range(weeks):
        monday = start + timedelta(weeks=w)
        if monday.day <= 7:
            label = MONTHS[monday.month - 1]
            col = 4 + 2 * w
            if col + len(label) <= len(header) and header[col - 1] == " ":
                header[col : col + len(label)] = label
    rows = [Text("".join(header).rstrip(), style="dim")]
    for weekday in range(7):
        line = Text(WEEKDAYS[weekday].ljust(4), style="dim")
        for w in range(weeks):
            day = start + timedelta(weeks=w, days=weekday)
            if day > today:
                break
            count = per_day.get(day, 0)
            line.append(shade(count) + " ", style="bold" if day == today else "")
        rows.append(line)
    legend = Text("    less ", style="dim")
    legend.append(" ".join(SHADES))
    legend.append(" more", style="dim")
    rows.append(legend)
    return rows


class Heatmap(Widget):
    """Reviews per study day over the last months, one column per week."""

    DEFAULT_CSS = """
    Heatmap {
        height: 9;
        color: $success;
    }
    """

    MAX_WEEKS = 26

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.per_day: dict[date, int] = {}
        self.today: date | None = None

    def set_data(self, per_day: Mapping[date, int], today: date) -> None:
        self.per_day = dict(per_day)
        self.today = today
        self.refresh()

    def render(self) -> Text:
        if self.today is None:
            return Text("")
        # Four columns of weekday names, two per week, and room for a last month name.
        weeks = max(1, min(self.MAX_WEEKS, (self.size.width - 6) // 2))
        return Text("\n").join(heatmap_rows(self.per_day, self.today, weeks))


ACCURACY_WIDTH = 20  # cells of a bar that is 100%


def accuracy_rows(
    weeks: Sequence[tuple[date, int, int]], width: int = ACCURACY_WIDTH
) -> list[Text]:
    """One line per week (its Monday, predictions right of graded, a bar of the share right),
    oldest first."""
    rows = []
    for monday, total, correct in weeks:
        eighths = round(8 * width * correct / total)
        bar = EIGHTHS[8] * (eighths // 8) + (EIGHTHS[eighths % 8] if eighths % 8 else "")
        line = Text(f"{monday.isoformat()}  ", style="dim")
        line.append(bar.ljust(width), style="bold")
        line.append(f"  {correct}/{total} right ({correct / total:.0%})")
        rows.append(line)
    return rows
