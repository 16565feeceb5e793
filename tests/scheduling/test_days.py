"""The study day rolls over at 04:00 local time by default."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from studyapp.scheduling import study_day


@pytest.mark.parametrize(
    ("moment", "hour", "expected"),
    [
        (datetime(2026, 3, 2, 3, 59), 4, date(2026, 3, 1)),
        (datetime(2026, 3, 2, 4, 0), 4, date(2026, 3, 2)),
        (datetime(2026, 3, 2, 23, 30), 4, date(2026, 3, 2)),
        (datetime(2026, 3, 2, 0, 30), 0, date(2026, 3, 2)),
        (datetime(2026, 3, 2, 5, 0), 6, date(2026, 3, 1)),
    ],
)
def test_study_day_rolls_over_at_the_day_start_hour(
    moment: datetime, hour: int, expected: date
) -> None:
    assert study_day(moment, hour) == expected


def test_day_start_hour_must_be_an_hour() -> None:
    with pytest.raises(ValueError):
        study_day(datetime(2026, 3, 2), 24)


def test_the_days_the_importers_keep_are_the_days_restore_keeps() -> None:
    from studyapp.db import validation
    from studyapp.scheduling.days import FIRST_DAY, LAST_DAY

    assert (FIRST_DAY.isoformat(), LAST_DAY.isoformat()) == (
        validation.FIRST_DAY,
        validation.LAST_DAY,
    )
