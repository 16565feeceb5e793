"""The clock, injected wherever "now" matters so tests can fix the time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from studyapp.scheduling import study_day

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, as an aware local time."""
    return datetime.now().astimezone()


def local_wall_time(moment: datetime) -> datetime:
    """The wall-clock reading of `moment` in the clock's own zone, which decides the study day."""
    return moment.replace(tzinfo=None)


def today(clock: Clock, day_start_hour: int) -> date:
    """The current study day for a deck whose day starts at `day_start_hour`."""
    return study_day(local_wall_time(clock()), day_start_hour)
