"""Review histories read from files, for `studyapp scheduler evaluate --revlog`.

Two kinds of file hold one: the CSV layout of the `fsrs` package's own test logs (`card_id,
review_rating, review_time, review_duration`, ratings 1-4, times in ISO 8601) and an Anki
package's review log. Both rate on four buttons, which map onto the 1-5 scale as an Anki
import maps them (1 -> 1, 2 -> 3, 3 -> 4, 4 -> 5). Times become study days in the local
time zone, rolling over at the given hour, and only the first rating of a card on a study
day is kept: the one that changes a card's schedule.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

from studyapp.formats.anki_package import open_package
from studyapp.formats.anki_schedule import OutOfRange, review_moment
from studyapp.formats.base import FormatError
from studyapp.formats.textio import MAX_IMPORT_BYTES, check_file, read_text
from studyapp.scheduling import study_day
from studyapp.scheduling.days import DAY_BOUNDS, moment_in_bounds
from studyapp.scheduling.fsrs import FROM_FOUR_BUTTONS

History = dict[str, list[tuple[date, int]]]
CSV_COLUMNS = ("card_id", "review_rating", "review_time")
ZIP_MAGIC = b"PK\x03\x04"


def local_study_day(moment: datetime, day_start_hour: int) -> date:
    """The study day of an aware moment, on this machine's local clock."""
    return study_day(moment.astimezone().replace(tzinfo=None), day_start_hour)


def first_of_each_day(ratings: Iterable[tuple[str, datetime, int]], day_start_hour: int) -> History:
    """(card, aware time, rating 1-5) in any order, as each card's first rating of each study
    day, oldest first."""
    history: History = {}
    for card, moment, rating in sorted(ratings, key=lambda r: (r[0], r[1])):
        day = local_study_day(moment, day_start_hour)
        reviews = history.setdefault(card, [])
        if not reviews or reviews[-1][0] < day:
            reviews.append((day, rating))
    return history


def read_history(path: Path, day_start_hour: int) -> History:
    """The review history in `path` (a CSV review log or an Anki package); FormatError names
    the file and the line or entry that cannot be read."""
    check_file(path, MAX_IMPORT_BYTES)
    with path.open("rb") as file:
        head = file.read(4)
    if head == ZIP_MAGIC:
        return first_of_each_day(anki_ratings(path), day_start_hour)
    return first_of_each_day(_csv_ratings(path), day_start_hour)


def _csv_ratings(path: Path) -> list[tuple[str, datetime, int]]:
    reader = csv.DictReader(io.StringIO(read_text(path, MAX_IMPORT_BYTES)))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise FormatError.at(
            path,
            "line 1",
            f"a review log needs the columns {', '.join(CSV_COLUMNS)}; "
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing",
        )
    out = []
    for row in reader:
        where = f"line {reader.line_num}"
        card = (row["card_id"] or "").strip()
        if not card:
            raise FormatError.at(path, where, "the card_id is empty")
        try:
            rating = int(row["review_rating"])
        except (TypeError, ValueError):
            raise FormatError.at(
                path, where, f"review_rating must be 1 to 4, not {row['review_rating']!r}"
            ) from None
        if rating not in FROM_FOUR_BUTTONS:
            raise FormatError.at(path, where, f"review_rating must be 1 to 4, not {rating}")
        text = (row["review_time"] or "").strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise FormatError.at(
                path, where, f"review_time is not a date and time: {text!r}"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        if not moment_in_bounds(moment):
            raise FormatError.at(
                path, where, f"review_time {text} is outside {DAY_BOUNDS} (in UTC)"
            )
        out.append((card, moment, FROM_FOUR_BUTTONS[rating]))
    return out


def anki_ratings(path: Path) -> list[tuple[str, datetime, int]]:
    """An Anki package's ratings: (card id, time, rating 1-5). Entries with no button (a
    card rescheduled or reset by hand) are not ratings and are left out."""
    with open_package(path) as package:
        try:
            rows = package.connection.execute(
                "SELECT id, cid, ease FROM revlog WHERE ease BETWEEN 1 AND 4 ORDER BY id"
            ).fetchall()
        except sqlite3.Error as error:
            raise FormatError.at(
                path, package.member, f"its review log cannot be read ({error})"
            ) from None
    out = []
    for ms, card, ease in rows:
        where = f"{package.member}, review log entry {str(ms)[:40]}"
        if ease not in FROM_FOUR_BUTTONS or isinstance(ms, bool) or not isinstance(ms, int):
            raise FormatError.at(path, where, "its time and button must be whole numbers")
        try:
            moment = review_moment(ms)
        except OutOfRange as error:
            raise FormatError.at(path, where, str(error)) from None
        out.append((str(card), moment, FROM_FOUR_BUTTONS[ease]))
    return out
