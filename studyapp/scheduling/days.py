"""The study day: a day that rolls over at a set hour of local time (04:00 by default).

Reviewing at 01:30 still counts for the evening before, as a learner would expect.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

DEFAULT_DAY_START_HOUR = 4


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
    """`days` after `day` (before it, if negative), no further than the calendar goes
    (9999-12-31 and 0001-01-01): a card due beyond it is due on its last day."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def day_start(day: date, day_start_hour: int = DEFAULT_DAY_START_HOUR) -> datetime:
    """The local wall-clock time at which the study day `day` begins."""
    return datetime(day.year, day.month, day.day, day_start_hour)
