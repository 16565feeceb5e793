"""Every number an Anki package gives is range-checked where it is read.

A package holding a value Anki cannot write (a creation time, time zone offset or rollover
hour off the calendar, a lapse count of 2**63, a review log time in the year 292 million) is
refused with one line naming the file, the member, the card or log entry, the field and its
bounds, never a traceback. And whatever studyapp exports, at any day the collection keeps,
comes back with its whole review log.
"""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import zstandard

from studyapp.formats.anki_export import export_apkg
from studyapp.formats.apkg import parse
from studyapp.formats.base import ExportCard, ExportDeck, FormatError, ReviewDraft
from studyapp.formats.revlog import read_history
from studyapp.scheduling import SM2State, sm2_review
from tests.formats.anki_fixtures import zip_bytes

BIG = 2**63 - 1


def reviewed_card(*moments: datetime) -> ExportCard:
    """A card reviewed Good at each moment (UTC), its state as SM-2 leaves it."""
    state, reviews = SM2State.new(), []
    for at in moments:
        day = at.date()
        after = sm2_review(state, 4, day)
        kind = "new" if not reviews else "review"
        reviews.append(ReviewDraft(at, day, 4, 1200, kind, state, after))
        state = after
    return ExportCard("u1", "Adam?", "An optimizer", (), "", None, state, tuple(reviews), False, 0)


def package_with(tmp_path: Path, *sql: str, name: str = "bad.apkg") -> Path:
    """A package of one reviewed card, its collection changed by `sql` first."""
    card = reviewed_card(datetime(2024, 5, 1, 10, tzinfo=UTC))
    exported = zipfile.ZipFile(io.BytesIO(export_apkg([ExportDeck("Deck", (card,))])))
    database = tmp_path / "col.anki2"
    database.write_bytes(exported.read("collection.anki2"))
    connection = sqlite3.connect(database)
    for statement in sql:
        connection.execute(statement)
    connection.commit()
    connection.close()
    path = tmp_path / name
    path.write_bytes(zip_bytes({"collection.anki2": database.read_bytes(), "media": b"{}"}))
    return path


def refused(path: Path, reader: Callable[[Path], object] = parse) -> str:
    with pytest.raises(FormatError) as caught:
        reader(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


REVIEW = "UPDATE cards SET type = 2, queue = 2, ivl = 10, factor = 2500, due = 5000"
CASES = [
    (
        "creation time far past the calendar",
        [f"UPDATE col SET crt = {BIG}"],
        f"collection.anki2: its creation time (col.crt) {BIG} is outside 0..253402128000",
    ),
    (
        "creation time far before 1970",
        [f"UPDATE col SET crt = {-BIG}"],
        f"collection.anki2: its creation time (col.crt) {-BIG} is outside 0..",
    ),
    (
        "creation offset beyond any int",
        [f"UPDATE col SET conf = json_set(conf, '$.creationOffset', {BIG})"],
        f"collection.anki2: its creationOffset {BIG} is outside -1439..1439 (minutes west of UTC)",
    ),
    (
        "creation offset of 100000 minutes",
        ["UPDATE col SET conf = json_set(conf, '$.creationOffset', 100000)"],
        "collection.anki2: its creationOffset 100000 is outside -1439..1439",
    ),
    (
        "huge creation time without an offset",
        [f"UPDATE col SET conf = json_remove(conf, '$.creationOffset'), crt = {BIG}"],
        f"collection.anki2: its creation time (col.crt) {BIG} is outside",
    ),
    (
        "rollover at hour 99",
        ["UPDATE col SET conf = json_set(conf, '$.rollover', 99)"],
        "collection.anki2: its rollover hour 99 is outside 0..23",
    ),
    (
        "lapses of 2**63",
        [f"{REVIEW}, lapses = {BIG}"],
        f"(card id 1): its lapses {BIG} is outside 0..1,000,000",
    ),
    (
        "lapses one over the bound",
        [f"{REVIEW}, lapses = 1000001"],
        "its lapses 1000001 is outside 0..1,000,000",
    ),
    (
        "an interval of 10**17 days",
        [f"{REVIEW}, ivl = 100000000000000000"],
        "its interval (ivl) 100000000000000000 is outside 0..36500 days",
    ),
    (
        "an ease factor of 2**63",
        [f"{REVIEW}, factor = {BIG}"],
        f"its ease factor {BIG} is outside 0..1000000 (thousandths)",
    ),
    (
        "due on day 2**63",
        [f"{REVIEW}, due = {BIG}"],
        "its due day is +",
    ),
    (
        "a learning card due in the year 292 million",
        [f"UPDATE cards SET type = 1, queue = 1, due = {BIG // 1000}"],
        f"its due time {BIG // 1000} (seconds since 1970) is outside 0001-01-02..9999-12-30",
    ),
    (
        "an interval of 1e308 (a real number)",
        [f"{REVIEW}, ivl = 1e308"],
        "(card id 1): its interval (ivl) 1e+308 is not an integer",
    ),
    (
        "an ease factor written as text",
        [f"{REVIEW}, factor = '2600x'"],
        "(card id 1): its ease factor '2600x' is not an integer",
    ),
    (
        "an ease factor written with two signs",
        [f"{REVIEW}, factor = '+-5'"],
        "(card id 1): its ease factor '+-5' is not an integer",
    ),
    (
        "a due day with a fraction",
        [f"{REVIEW}, due = 5000.5"],
        "(card id 1): its due 5000.5 is not an integer",
    ),
    (
        "a review log ease factor written as text",
        ["UPDATE revlog SET factor = 'x'"],
        ": its ease factor 'x' is not an integer",
    ),
    (
        "an answer time of -5 ms",
        ["UPDATE revlog SET time = -5"],
        "its answer time -5 is outside 0..86,400,000 milliseconds",
    ),
    (
        "a review log interval of 10**17 days",
        ["UPDATE revlog SET ivl = 100000000000000000"],
        "its interval (ivl) 100000000000000000 is outside ..36500 days",
    ),
    (
        "a review log time in the year 292 million",
        [f"UPDATE revlog SET id = {BIG}"],
        f"review log entry {BIG}: its time {BIG} (milliseconds since 1970) is outside "
        "0001-01-02..9999-12-30",
    ),
    (
        "a review log time before the year 1",
        [f"UPDATE revlog SET id = {-BIG}"],
        f"review log entry {-BIG}: its time {-BIG} (milliseconds since 1970) is outside",
    ),
]


@pytest.mark.parametrize(("label", "sql", "message"), CASES, ids=[c[0] for c in CASES])
def test_a_number_anki_cannot_write_is_one_line(
    tmp_path: Path, label: str, sql: list[str], message: str
) -> None:
    path = package_with(tmp_path, *sql)
    card_id = sqlite3.connect(tmp_path / "col.anki2").execute("SELECT id FROM cards").fetchone()[0]
    text = refused(path).replace(f"card id {card_id}", "card id 1")
    assert text.startswith(f"{path}, collection.anki2: "), text
    assert message in text, text


def test_a_card_names_its_note_and_card(tmp_path: Path) -> None:
    path = package_with(tmp_path, f"{REVIEW}, lapses = {BIG}")
    connection = sqlite3.connect(tmp_path / "col.anki2")
    note, card = connection.execute("SELECT nid, id FROM cards").fetchone()
    assert refused(path) == (
        f"{path}, collection.anki2: note {note} card 0 (card id {card}): "
        f"its lapses {BIG} is outside 0..1,000,000"
    )


def current_format(tmp_path: Path, config: dict[str, object]) -> Path:
    """A current-format package (zstd `collection.anki21b`) with these `config` rows."""
    database = tmp_path / "current.anki21b"
    database.write_bytes(
        zipfile.ZipFile(io.BytesIO(export_apkg([ExportDeck("D", (reviewed_card(),))]))).read(
            "collection.anki2"
        )
    )
    connection = sqlite3.connect(database)
    connection.executescript(
        "CREATE TABLE notetypes (id, name, config); CREATE TABLE fields (ntid, ord, name);"
        "CREATE TABLE templates (ntid, ord, name, config); CREATE TABLE decks (id, name);"
        "CREATE TABLE config (key, val);"
    )
    connection.executemany(
        "INSERT INTO config VALUES (?, ?)", [(k, json.dumps(v)) for k, v in config.items()]
    )
    connection.commit()
    connection.close()
    packed = zstandard.ZstdCompressor().compress(database.read_bytes())
    path = tmp_path / "current.apkg"
    path.write_bytes(zip_bytes({"meta": b"\x08\x03", "collection.anki21b": packed}))
    return path


def test_the_current_format_checks_its_config_table(tmp_path: Path) -> None:
    path = current_format(tmp_path, {"creationOffset": BIG})
    assert refused(path) == (
        f"{path}, collection.anki21b: its creationOffset {BIG} is outside -1439..1439 "
        "(minutes west of UTC)"
    )
    path = current_format(tmp_path, {"creationOffset": -60, "rollover": 24})
    assert refused(path) == f"{path}, collection.anki21b: its rollover hour 24 is outside 0..23"
    assert parse(current_format(tmp_path, {"creationOffset": -60, "rollover": 4})).cards == []


@pytest.mark.parametrize(
    "moments",
    [
        (datetime(1, 1, 2, tzinfo=UTC), datetime(1, 1, 9, 12, tzinfo=UTC)),
        (datetime(1969, 12, 31, 23, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC)),
        (datetime(1970, 6, 1, 10, tzinfo=UTC), datetime(1970, 6, 2, 10, tzinfo=UTC)),
    ],
    ids=["the year 1", "around 1970", "in 1970"],
)
def test_reviews_on_any_day_the_collection_keeps_come_back(
    tmp_path: Path, moments: tuple[datetime, ...]
) -> None:
    card = reviewed_card(*moments)
    path = tmp_path / "out.apkg"
    path.write_bytes(export_apkg([ExportDeck("D", (card,))]))
    result = parse(path)
    assert result.warnings == []
    (draft,) = result.cards
    assert [review.at for review in draft.reviews] == list(moments)
    assert all(date(1, 1, 2) <= review.study_day for review in draft.reviews)


def test_a_card_due_far_ahead_comes_back_due_that_day(tmp_path: Path) -> None:
    card = reviewed_card(datetime(2024, 5, 1, 10, tzinfo=UTC))
    card = card._replace(state=card.state.__class__(2.5, 2, 6, date(9999, 12, 30), 0))
    path = tmp_path / "out.apkg"
    path.write_bytes(export_apkg([ExportDeck("D", (card,))]))
    (draft,) = parse(path).cards
    assert draft.state is not None and draft.state.due == date(9999, 12, 30)


def test_an_evaluated_review_log_is_range_checked(tmp_path: Path) -> None:
    path = package_with(tmp_path, f"UPDATE revlog SET id = {BIG}")
    assert refused(path, lambda p: read_history(p, 4)).startswith(
        f"{path}, collection.anki2, review log entry {BIG}: its time {BIG} (milliseconds"
    )
    header = "card_id,review_rating,review_time,review_duration\n1,3,2024-01-01T10:00:00+00:00,1\n"
    for line, moment in enumerate(
        ["9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+14:00", "9999-12-31"], start=1
    ):
        log = tmp_path / f"log{line}.csv"
        log.write_text(f"{header}1,3,{moment},1000\n")
        assert refused(log, lambda p: read_history(p, 4)) == (
            f"{log}, line 3: review_time {moment} is outside 0001-01-02..9999-12-30 (in UTC)"
        )
    edge = tmp_path / "edge.csv"
    edge.write_text(f"{header}1,3,0001-01-02T00:00:00+00:00,1\n1,3,9999-12-30T23:59:59+00:00,1\n")
    assert len(read_history(edge, 4)["1"]) == 3


def test_a_review_on_the_last_day_kept_comes_in(tmp_path: Path) -> None:
    """A log entry dated ahead of the clock (a machine whose clock was wrong) is a day like
    any other, as long as the collection keeps it: what studyapp exports comes back."""
    last = int(datetime(9999, 12, 30, 12, tzinfo=UTC).timestamp() * 1000)
    path = package_with(tmp_path, f"UPDATE revlog SET id = {last}")
    assert len(parse(path).cards[0].reviews) == 1


@pytest.mark.parametrize("queue", [-1, -2, -3])  # suspended, buried by the user, buried
@pytest.mark.parametrize("card_type", [1, 3])  # learning, relearning
def test_a_learning_card_set_aside_is_due_when_it_was_in_anki(queue: int, card_type: int) -> None:
    """Anki keeps a learning card's due as a time when it suspends or buries it (and tells
    it from a day number by its size): it is due today here, not in a hundred years."""
    from datetime import UTC, date, datetime

    from studyapp.formats.anki_collection import AnkiCard
    from studyapp.formats.anki_schedule import card_schedule

    today = date(2026, 12, 7)
    in_ten_minutes = int(datetime(2026, 12, 7, 12, 10, tzinfo=UTC).timestamp())
    card = AnkiCard(0, 1, type=card_type, queue=queue, due=in_ten_minutes, factor=2500, interval=3)
    schedule = card_schedule(card, (), anki_today=400, today=today, day_start_hour=4)
    assert schedule.state is not None
    assert abs((schedule.state.due - today).days) <= 1
    assert schedule.suspended == (queue == -1)
    day_learning = AnkiCard(0, 1, type=card_type, queue=queue, due=402, factor=2500, interval=3)
    later = card_schedule(day_learning, (), anki_today=400, today=today, day_start_hour=4)
    assert later.state is not None and later.state.due == date(2026, 12, 9)
