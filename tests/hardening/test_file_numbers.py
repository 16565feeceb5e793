"""Every number and date a file gives is range-checked where the file is read.

A backup with a review in the year 10000 (once in UTC), a duration of 10**20 ms, a daily limit
of 10**20 or a count beyond 64 bits is refused with one line that names the file and the
entry, exit status 2, and the collection as it was. And the other way round: whatever the
app itself stores, at the very edge of those bounds, exports and imports again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from studyapp.db import open_store
from studyapp.scheduling import MAX_COUNT, MAX_EASE_CENTS, MAX_INTERVAL, SM2State, sm2_review
from studyapp.services.cards import CardService
from studyapp.services.library import LibraryService
from tests.hardening.conftest import one_line, run_cli

STATE = {"ease": 2.6, "interval": 6, "repetitions": 2, "lapses": 0, "due": "2026-03-09"}
NEW = {"ease": 2.5, "interval": 0, "repetitions": 0, "lapses": 0, "due": None}


def backup() -> dict[str, Any]:
    review = {
        "at": "2026-03-03T08:30:00+00:00",
        "study_day": "2026-03-03",
        "rating": 4,
        "duration_ms": 4200,
        "kind": "new",
        "before": dict(NEW),
        "after": dict(STATE),
    }
    card = {"id": "n-1", "front": "q", "back": "a", "state": dict(STATE), "reviews": [review]}
    settings = {"new_per_day": 20, "reviews_per_day": 200, "day_start_hour": 4}
    return {"version": 1, "decks": [{"name": "Numbers", "settings": settings, "cards": [card]}]}


def _card(data: dict[str, Any]) -> dict[str, Any]:
    return data["decks"][0]["cards"][0]


def _review(data: dict[str, Any]) -> dict[str, Any]:
    return _card(data)["reviews"][0]


def _settings(data: dict[str, Any]) -> dict[str, Any]:
    return data["decks"][0]["settings"]


Mutation = Callable[[dict[str, Any]], Any]
CASES: list[tuple[str, Mutation, str]] = [
    (
        "review in the year 10000 in UTC",
        lambda d: _review(d).update(at="9999-12-31T23:59:59-14:00"),
        "entry 1, review 1: 'at' 9999-12-31T23:59:59-14:00 is outside 0001-01-02..9999-12-30",
    ),
    (
        "review before the year 1 in UTC",
        lambda d: _review(d).update(at="0001-01-01T00:00:00+14:00"),
        "entry 1, review 1: 'at' 0001-01-01T00:00:00+14:00 is outside 0001-01-02..9999-12-30",
    ),
    (
        "review on the calendar's last day",
        lambda d: _review(d).update(at="9999-12-31T00:00:00+00:00"),
        "entry 1, review 1: 'at' 9999-12-31T00:00:00+00:00 is outside 0001-01-02..9999-12-30",
    ),
    (
        "review on the calendar's first day",
        lambda d: _review(d).update(at="0001-01-01T23:59:59+00:00"),
        "entry 1, review 1: 'at' 0001-01-01T23:59:59+00:00 is outside 0001-01-02..9999-12-30",
    ),
    (
        "due on the calendar's last day",
        lambda d: _card(d)["state"].update(due="9999-12-31"),
        "entry 1, state: 'due' 9999-12-31 is outside 0001-01-02..9999-12-30",
    ),
    (
        "due on the calendar's first day, in a review's state",
        lambda d: _review(d)["after"].update(due="0001-01-01"),
        "entry 1, review 1, after: 'due' 0001-01-01 is outside 0001-01-02..9999-12-30",
    ),
    (
        "study day on the calendar's first day",
        lambda d: _review(d).update(study_day="0001-01-01"),
        "entry 1, review 1: 'study_day' 0001-01-01 is outside 0001-01-02..9999-12-30",
    ),
    (
        "duration of 10**20 ms",
        lambda d: _review(d).update(duration_ms=10**20),
        "entry 1, review 1: 'duration_ms' must be from 0 to 86,400,000 (a day)",
    ),
    (
        "new cards a day 10**20",
        lambda d: _settings(d).update(new_per_day=10**20),
        "deck 'Numbers', settings: new_per_day must be from 0 to 100,000",
    ),
    (
        "new cards a day beyond any float",
        lambda d: _settings(d).update(new_per_day=10**400),
        "deck 'Numbers', settings: new_per_day must be from 0 to 100,000",
    ),
    (
        "desired retention beyond any float",
        lambda d: _settings(d).update(desired_retention=10**400),
        "deck 'Numbers', settings: desired retention is a probability from 0.70 to 0.97",
    ),
    (
        "an FSRS parameter beyond any float",
        lambda d: _settings(d).update(fsrs_params=[10**400] * 21),
        "deck 'Numbers', settings: FSRS parameter 0 is 1000",
    ),
    (
        "reviews a day one over the bound",
        lambda d: _settings(d).update(reviews_per_day=100_001),
        "deck 'Numbers', settings: reviews_per_day must be from 0 to 100,000, not 100001",
    ),
    (
        "day starting at hour 24",
        lambda d: _settings(d).update(day_start_hour=24),
        "deck 'Numbers', settings: the day starts at an hour from 0 to 23, not 24",
    ),
    (
        "repetitions beyond 64 bits",
        lambda d: _card(d)["state"].update(repetitions=2**64),
        "entry 1, state: repetitions 18446744073709551616 is outside 0..1,000,000",
    ),
    (
        "lapses beyond the bound in a review's state",
        lambda d: _review(d)["before"].update(lapses=MAX_COUNT + 1),
        "entry 1, review 1, before: lapses 1000001 is outside 0..1,000,000",
    ),
    (
        "ease beyond 64 bits",
        lambda d: _card(d)["state"].update(ease=2**70),
        "entry 1, state: ease",
    ),
    (
        "ease as a huge float",
        lambda d: _card(d)["state"].update(ease=1e300),
        "entry 1, state: ease 1e+300 is outside 1.3..1000",
    ),
    (
        "an interval of 10**20 days",
        lambda d: _review(d)["after"].update(interval=10**20),
        "entry 1, review 1, after: interval 100000000000000000000 is outside 0..36500 days",
    ),
    (
        "a demo parameter of 1e400 (infinity)",
        lambda d: _card(d).update(demo={"id": "adam_vs_sgd", "params": {"lr": "X"}}),
        "entry 1, demo: demo parameter 'lr' is inf, not a finite number",
    ),
]


@pytest.mark.parametrize(("label", "mutate", "message"), CASES, ids=[c[0] for c in CASES])
def test_an_out_of_range_number_is_one_line_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], label: str, mutate: Mutation, message: str
) -> None:
    db = tmp_path / "c.db"
    store = open_store(str(db))
    CardService(store).add("Mine", "kept", "as it was")
    before = LibraryService(store).export("json")
    data = backup()
    mutate(data)
    source = tmp_path / "hostile.json"
    # 1e400 is valid JSON that Python reads as infinity; json.dumps cannot write it.
    source.write_text(json.dumps(data).replace('"X"', "1e400"))

    status, out, err = run_cli(capsys, "import", source, "--db", db)

    assert status == 2 and out == ""
    line = one_line(err)
    assert line.startswith(f"studyapp: {source}, {message}"), line
    assert LibraryService(store).export("json") == before
    store.dispose()


def test_a_csv_column_number_beyond_any_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "deck.csv"
    source.write_text("#separator:comma\n#tags column:" + "9" * 5000 + "\nfront,back,tags\n")
    status, _, err = run_cli(capsys, "import", source, "--db", tmp_path / "c.db")
    assert status == 2
    assert one_line(err) == (
        f"studyapp: {source}, line 2: #tags column takes a column number from 1 to 9999, "
        f"not '99999999999999999999...'"
    )


def test_the_scheduler_stays_within_the_bounds_a_file_is_held_to() -> None:
    day = date(2026, 1, 1)
    top = SM2State(MAX_EASE_CENTS / 100, MAX_COUNT, MAX_INTERVAL, day, MAX_COUNT)
    after_pass = sm2_review(top, 5, day)
    after_lapse = sm2_review(top, 1, day)
    after_pass.check()
    after_lapse.check()
    assert after_pass.ease_cents == MAX_EASE_CENTS and after_pass.repetitions == MAX_COUNT
    assert after_lapse.lapses == MAX_COUNT


def test_a_collection_at_every_bound_exports_and_imports_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = backup()
    edge = {"ease": 1000.0, "interval": 36_500, "repetitions": MAX_COUNT, "lapses": MAX_COUNT}
    _card(data)["state"].update(edge, due="9999-12-30")
    # The last moment the collection keeps, written in the westernmost time zone.
    _review(data).update(
        at="9999-12-30T09:59:59-14:00", study_day="9999-12-30", duration_ms=86_400_000
    )
    _review(data)["after"].update(edge, due="9999-12-30")
    _settings(data).update(new_per_day=100_000, reviews_per_day=100_000, day_start_hour=23)
    source = tmp_path / "edge.json"
    source.write_text(json.dumps(data))
    first, second = tmp_path / "first.db", tmp_path / "second.db"
    assert run_cli(capsys, "import", source, "--db", first)[0] == 0
    exported = tmp_path / "exported.json"
    export = ("export", "--format", "json", "--output")
    assert run_cli(capsys, *export, exported, "--db", first)[0] == 0
    status, _, err = run_cli(capsys, "import", exported, "--db", second)
    assert status == 0, err
    again = tmp_path / "again.json"
    assert run_cli(capsys, *export, again, "--db", second)[0] == 0
    assert again.read_bytes() == exported.read_bytes()
    # ... and its backup restores.
    assert run_cli(capsys, "backup", "--output", tmp_path / "bk.db", "--db", first)[0] == 0
    status, _, err = run_cli(capsys, "restore", tmp_path / "bk.db", "--db", tmp_path / "r.db")
    assert status == 0, err
    assert json.loads(exported.read_text())["decks"][0]["cards"][0]["state"]["repetitions"] == (
        MAX_COUNT
    )


def test_an_anki_number_out_of_range_is_one_line_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.formats.test_apkg_bounds import BIG, REVIEW, package_with

    db = tmp_path / "c.db"
    store = open_store(str(db))
    CardService(store).add("Mine", "kept", "as it was")
    before = LibraryService(store).export("json")
    for sql, message in [
        (f"UPDATE col SET crt = {BIG}", "its creation time (col.crt)"),
        ("UPDATE col SET conf = json_set(conf, '$.rollover', 99)", "its rollover hour 99"),
        (f"{REVIEW}, lapses = {BIG}", f"its lapses {BIG} is outside 0..1,000,000"),
    ]:
        package = package_with(tmp_path, sql)
        for dry_run in ((), ("--dry-run",)):
            status, out, err = run_cli(capsys, "import", package, *dry_run, "--db", db)
            assert status == 2 and out == ""
            line = one_line(err)
            assert line.startswith(f"studyapp: {package}, collection.anki2: "), line
            assert message in line, line
    assert LibraryService(store).export("json") == before
    store.dispose()


def test_a_review_log_to_evaluate_is_range_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "late.csv"
    log.write_text(
        "card_id,review_rating,review_time,review_duration\n"
        "1,3,2024-01-01T10:00:00+00:00,1000\n1,3,9999-12-31T23:59:59+00:00,1000\n"
    )
    status, _, err = run_cli(
        capsys, "scheduler", "evaluate", "--revlog", log, "--db", tmp_path / "c.db"
    )
    assert status == 2
    assert one_line(err) == (
        f"studyapp: {log}, line 3: review_time 9999-12-31T23:59:59+00:00 is outside "
        "0001-01-02..9999-12-30 (in UTC)"
    )
