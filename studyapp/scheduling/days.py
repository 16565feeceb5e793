"""The study day: a day that rolls over at a set hour of local time (04:00 by default).

Reviewing at 01:30 still counts for the evening before, as a learner would expect.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

DEFAULT_DAY_START_HOUR = 4
# The days the collection keeps (and moments, by their day in UTC): those it can move a day
# either way from without leaving the calendar. `restore` checks the same bounds.
FIRST_DAY, LAST_DAY = date(1, 1, 2), date(9999, 12, 30)
DAY_BOUNDS = f"{FIRST_DAY.isoformat()}..{LAST_DAY.isoformat()}"


def study_day(moment: datetime, day_start_hour: int = DEFAULT_DAY_START_HOUR) -> date:
    """The study day that `moment` (a local wall-clock time) belongs to (the first day of
    the calendar for a moment before its first day start)."""
    if not 0 <= day_start_hour <= 23:
        raise ValueError(f"the day starts at an hour from 0 to 23, not {day_start_hour}")
    try:
        return (moment - timedelta(hours=day_start_hour)).date()
    except OverflowError:
        return date.min


def add_days(day: date, days: int) -> date:
    """`days` after `day` (before it, if negative), no further than the days the collection
    keeps (FIRST_DAY to LAST_DAY): a card due beyond them is due on the last one."""
    try:
        moved = day + timedelta(days=days)
    except OverflowError:
        moved = date.max if days > 0 else date.min
    return within_bounds(moved)


def day_start(day: date, day_start_hour: int = DEFAULT_DAY_START_HOUR) -> datetime:
    """The local wall-clock time at which the study day `day` begins."""
    return datetime(day.year, day.month, day.day, day_start_hour)


def in_bounds(day: date) -> bool:
    """Whether the collection can keep `day` (FIRST_DAY to LAST_DAY)."""
    return FIRST_DAY <= day <= LAST_DAY


def moment_in_bounds(moment: datetime) -> bool:
    """Whether the collection can keep the aware time `moment`: its day in UTC is one
    it keeps (a time near the calendar's ends may have no day in UTC at all)."""
    try:
        return in_bounds(moment.astimezone(UTC).date())
    except (OverflowError, ValueError):
        return False


def within_bounds(day: date) -> date:
    """`day`, or the nearest day the collection can keep."""
    return min(LAST_DAY, max(FIRST_DAY, day))
