"""Schedules and review logs come in from Anki and go back out, checked against Anki itself."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from studyapp.db import open_store
from studyapp.scheduling import study_day
from studyapp.services.cards import CardService
from studyapp.services.library import LibraryService
from studyapp.services.scheduler import SchedulerService

collection_module = pytest.importorskip("anki.collection")
DECK = "History"
DAY_MS = 86_400_000


def today() -> Any:
    return study_day(datetime.now(), 4)


def anki_history(folder: Path) -> Any:
    """An Anki collection whose cards have been studied, some by Anki's own scheduler:

    - "studied": a review card due in 12 days (interval 20, ease 2.30, one lapse), with a log
      over three days (Good, Again then Good again the same day, Good) and a reschedule by
      hand (a log entry without a button);
    - "answered": a new card answered Easy by Anki's scheduler now;
    - "untouched": new; "paused": a suspended review card due in 3 days.
    """
    col = collection_module.Collection(str(folder / "source.anki2"))
    deck = col.decks.id(DECK)
    ids = {}
    for front in ("studied", "answered", "untouched", "paused"):
        note = col.new_note(col.models.by_name("Basic"))
        note["Front"], note["Back"] = front, f"{front} back"
        col.add_note(note, deck)
        ids[front] = note.cards()[0].id
    now_ms = int(datetime.now().timestamp() * 1000)
    log = [  # days ago, button, interval after, type
        (30, 3, 1, 0),
        (20, 1, -600, 1),
        (20, 3, 1, 2),  # the same day: a relearning step
        (8, 3, 20, 1),
    ]
    for index, (days_ago, button, interval, kind) in enumerate(log):
        col.db.execute(
            "INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type)"
            " VALUES (?, ?, -1, ?, ?, 0, 2300, 8000, ?)",
            now_ms - days_ago * DAY_MS + index,
            ids["studied"],
            button,
            interval,
            kind,
        )
    col.db.execute(
        "INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type)"
        " VALUES (?, ?, -1, 0, 20, 20, 2300, 0, 4)",
        now_ms - 7 * DAY_MS,
        ids["studied"],
    )
    for front, due_in, interval, lapses, queue in (
        ("studied", 12, 20, 1, 2),
        ("paused", 3, 9, 0, -1),
    ):
        card = col.get_card(ids[front])
        card.type, card.queue, card.due = 2, queue, col.sched.today + due_in
        card.ivl, card.factor, card.lapses, card.reps = interval, 2300, lapses, 4
        col.update_card(card)
    col.decks.select(deck)
    while (card := col.sched.getCard()) is not None:
        if card.id == ids["answered"]:
            col.sched.answerCard(card, 4)
            break
        col.sched.buryCards([card.id])
    return col, ids


def export(col: Any, path: Path, legacy: bool) -> Path:
    options = collection_module.ExportAnkiPackageOptions(
        with_scheduling=True, with_deck_configs=False, with_media=False, legacy=legacy
    )
    col.export_anki_package(out_path=str(path), options=options, limit=None)
    return path


def in_new_anki(folder: Path, package: Path) -> Any:
    """A new Anki collection in `folder` holding `package`, imported with its scheduling."""
    folder.mkdir()
    col = collection_module.Collection(str(folder / "collection.anki2"))
    options = collection_module.ImportAnkiPackageOptions(with_scheduling=True)
    col.import_anki_package(
        collection_module.ImportAnkiPackageRequest(package_path=str(package), options=options)
    )
    return col


def in_anki(col: Any) -> dict[str, tuple[int, int, int, int, int, int]]:
    """Each card by front: type, queue, days until due, interval, ease, lapses."""
    out = {}
    for card_id in col.find_cards(""):
        card = col.get_card(card_id)
        due = card.due - col.sched.today if card.type == 2 else 0
        out[card.note().fields[0]] = (
            card.type,
            card.queue,
            due,
            card.ivl,
            card.factor,
            card.lapses,
        )
    return out


@pytest.mark.parametrize("legacy", [False, True], ids=["current", "legacy"])
def test_anki_schedules_and_logs_come_in_and_go_back(tmp_path: Path, legacy: bool) -> None:
    col, ids = anki_history(tmp_path)
    try:
        expected = in_anki(col)
        package = export(col, tmp_path / "history.apkg", legacy)
    finally:
        col.close()
    assert expected["answered"][:3] == (2, 2, expected["answered"][2])  # Anki graduated it

    store = open_store(str(tmp_path / "c.db"))
    report = LibraryService(store).import_files([package])
    assert report.added == 4
    assert any("without a rating" in w for w in report.warnings)
    cards = {c.front: c for c in CardService(store).search(deck=DECK)}
    day = today()
    for front, (kind, queue, due_in, interval, factor, lapses) in expected.items():
        card = cards[front]
        if kind == 0:
            assert card.state.due is None, front  # new stays new
            continue
        assert card.state.due is not None
        assert (card.state.due - day).days == due_in, front
        assert (card.state.interval, card.state.ease_cents * 10, card.state.lapses) == (
            interval,
            factor,
            lapses,
        )
        assert card.suspended == (queue == -1)
        assert card.state.repetitions >= 2  # SM-2 goes on from the interval

    history = CardService(store).detail(cards["studied"].id).history
    assert [(r.rating, r.kind, r.imported) for r in history] == [
        (4, "new", True),
        (1, "review", True),
        (4, "drill", True),
        (4, "review", True),
    ]
    assert [(r.study_day - day).days for r in history][::2] == [-30, -20]
    answered = CardService(store).detail(cards["answered"].id).history
    assert [(r.rating, r.kind) for r in answered] == [(5, "new")]

    # Importing the package again changes nothing.
    again = LibraryService(store).import_files([package])
    assert (again.added, again.updated, again.unchanged) == (0, 0, 4)
    assert len(CardService(store).detail(cards["studied"].id).history) == 4

    # The history is there to switch to FSRS with.
    switched = SchedulerService(store).set_scheduler(DECK, "fsrs")
    assert (switched.from_log, switched.from_schedule) == (2, 1)

    # Exported back, the schedule is Anki's again.
    out = tmp_path / "back.apkg"
    out.write_bytes(LibraryService(store).export("apkg", DECK))
    target = in_new_anki(tmp_path / "anki2", out)
    try:
        assert in_anki(target) == expected
        card_id = next(
            c for c in target.find_cards("") if target.get_card(c).note().fields[0] == "studied"
        )
        buttons = target.db.list("SELECT ease FROM revlog WHERE cid = ? ORDER BY id", card_id)
        assert buttons == [3, 1, 3, 3]
        assert target.get_card(card_id).memory_state is not None  # FSRS's memory went along
    finally:
        target.close()


def test_a_card_due_in_twelve_days_here_is_due_in_twelve_days_in_anki(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "c.db"))
    service = CardService(store)
    card = service.add("Mine", "twelve", "days")
    service.add("Mine", "fresh", "card")
    from sqlalchemy import update

    from studyapp.db.models import CardRow

    with store.write() as session:
        session.execute(
            update(CardRow)
            .where(CardRow.id == card.id)
            .values(due=today() + timedelta(days=12), interval=15, repetitions=3, ease_cents=260)
        )
    out = tmp_path / "mine.apkg"
    out.write_bytes(LibraryService(store).export("apkg", "Mine"))
    col = in_new_anki(tmp_path / "anki", out)
    try:
        assert in_anki(col) == {"twelve": (2, 2, 12, 15, 2600, 0), "fresh": (0, 0, 0, 0, 0, 0)}
    finally:
        col.close()


def test_an_anki_package_is_a_review_log_to_evaluate(tmp_path: Path) -> None:
    from studyapp.formats.revlog import read_history

    col, ids = anki_history(tmp_path)
    try:
        package = export(col, tmp_path / "history.apkg", legacy=False)
    finally:
        col.close()
    history = read_history(package, 4)
    # The first rating of each study day, buttons as ratings; the reschedule by hand is
    # not a rating, and the relearning step the same day changes nothing.
    studied = history[str(ids["studied"])]
    assert [(day - today()).days for day, _ in studied] == [-30, -20, -8]
    assert [rating for _, rating in studied] == [4, 1, 4]
    assert [rating for _, rating in history[str(ids["answered"])]] == [5]


def test_cards_studied_in_anki_since_they_were_exported_come_back_up_to_date(
    tmp_path: Path,
) -> None:
    """studyapp -> Anki -> studied there -> back: the reviews made in Anki join each card's
    log, the card takes the schedule they led to, a card not studied there is unchanged (its
    tags, which Anki sorted, keep their order), and importing again changes nothing."""
    from studyapp.services.study import StudySession

    store = open_store(str(tmp_path / "c.db"))
    service = CardService(store)
    for front in ("rated here", "left alone", "new everywhere"):
        service.add("Round", front, f"{front} back", tags=("zeta", "alpha"))  # Anki sorts them
    yesterday = datetime.now().astimezone() - timedelta(days=1)
    session = StudySession(store, "Round", lambda: yesterday)
    assert session.current is not None and session.current.front == "rated here"
    session.answer(4)
    out = tmp_path / "round.apkg"
    out.write_bytes(LibraryService(store).export("apkg", "Round"))

    col = in_new_anki(tmp_path / "anki", out)
    try:
        fronts = {col.get_card(c).note().fields[0]: c for c in col.find_cards("")}
        card = col.get_card(fronts["rated here"])
        card.due = col.sched.today  # due today in Anki, to be studied there
        col.update_card(card)
        col.decks.select(col.decks.id("Round"))
        answered = set()
        while (card := col.sched.getCard()) is not None:
            front = card.note().fields[0]
            if front == "new everywhere" or front in answered:
                col.sched.buryCards([card.id])
                continue
            col.sched.answerCard(card, 3 if front == "rated here" else 4)
            answered.add(front)
        expected = in_anki(col)
        package = export(col, tmp_path / "studied.apkg", legacy=False)
    finally:
        col.close()
    assert answered == {"rated here", "left alone"}

    report = LibraryService(store).import_files([package])
    assert (report.added, report.updated, report.unchanged) == (0, 2, 1)
    assert report.reviews_added == 2
    assert report.history_note(dry_run=False).startswith("2 newer reviews from the file's log")
    cards = {c.front: c for c in service.search(deck="Round")}
    day = today()
    for front in ("rated here", "left alone"):
        kind, _, due_in, interval, factor, lapses = expected[front]
        state = cards[front].state
        assert kind == 2 and state.due is not None
        assert ((state.due - day).days, state.interval, state.ease_cents * 10, state.lapses) == (
            due_in,
            interval,
            factor,
            lapses,
        )
    history = service.detail(cards["rated here"].id).history
    assert [(r.rating, r.imported) for r in history] == [(4, False), (4, True)]
    assert [(r.rating, r.imported) for r in service.detail(cards["left alone"].id).history] == [
        (5, True)
    ]
    assert cards["new everywhere"].state.due is None
    assert {c.tags for c in cards.values()} == {("zeta", "alpha")}
    assert service.detail(cards["new everywhere"].id).history == []

    again = LibraryService(store).import_files([package])
    assert (again.added, again.updated, again.unchanged, again.reviews_added) == (0, 0, 3, 0)
    assert len(service.detail(cards["rated here"].id).history) == 2


def test_failed_learning_and_once_passed_cards_keep_their_sm2_state_through_a_package(
    tmp_path: Path,
) -> None:
    """Every studied card used to go out as an Anki review card, and come back with at least
    two repetitions and a one-day interval: a failed card (0 repetitions) or one passed once
    then came back due 3 days later instead of 1 or 6. Our import of our export gives the
    same state; Anki takes the failed card as relearning, the never-passed one as learning,
    both due on their day, and keeps the passes in a row in the card's custom data."""
    from sqlalchemy import update

    from studyapp.db.models import CardRow

    states = {  # front: interval, repetitions, lapses, ease (cents), days until due
        "failed": (1, 0, 1, 260, 1),
        "never passed": (0, 0, 0, 250, 0),
        "passed once": (1, 1, 0, 250, 1),
        "passed thrice": (16, 3, 0, 270, 9),
    }
    store = open_store(str(tmp_path / "c.db"))
    service = CardService(store)
    for front, (interval, repetitions, lapses, ease, due_in) in states.items():
        card = service.add("States", front, f"{front} back")
        with store.write() as session:
            session.execute(
                update(CardRow)
                .where(CardRow.id == card.id)
                .values(
                    interval=interval,
                    repetitions=repetitions,
                    lapses=lapses,
                    ease_cents=ease,
                    due=today() + timedelta(days=due_in),
                )
            )
    out = tmp_path / "states.apkg"
    out.write_bytes(LibraryService(store).export("apkg", "States"))

    again = open_store(str(tmp_path / "again.db"))
    LibraryService(again).import_files([out])
    for card in CardService(again).search(deck="States"):
        interval, repetitions, lapses, ease, due_in = states[card.front]
        state = card.state
        assert (state.interval, state.repetitions, state.lapses, state.ease_cents) == (
            interval,
            repetitions,
            lapses,
            ease,
        ), card.front
        assert state.due == today() + timedelta(days=due_in), card.front

    col = in_new_anki(tmp_path / "anki", out)
    try:
        kinds = {
            col.get_card(c).note().fields[0]: (col.get_card(c).type, col.get_card(c).queue)
            for c in col.find_cards("")
        }
        assert kinds == {
            "failed": (3, 3),
            "never passed": (1, 3),
            "passed once": (2, 2),
            "passed thrice": (2, 2),
        }
        once = next(
            c for c in col.find_cards("") if col.get_card(c).note().fields[0] == "passed once"
        )
        assert '"sm2reps":1' in col.get_card(once).custom_data.replace(" ", "")
        col.decks.select(col.decks.id("States"))
        for card_id in col.find_cards(""):  # each can be answered in Anki
            card = col.get_card(card_id)
            card.due = col.sched.today if card.queue in (2, 3) else card.due
            col.update_card(card)
        answered = set()
        while (card := col.sched.getCard()) is not None:
            answered.add(card.note().fields[0])
            col.sched.answerCard(card, 3)
        assert "passed once" in answered
        back = export(col, tmp_path / "from-anki.apkg", legacy=False)
    finally:
        col.close()
    # Studied in Anki since: the custom data Anki kept no longer holds; the card's log does
    # (one Good there: one pass in a row, read as at least two, as for any Anki card).
    after = open_store(str(tmp_path / "after.db"))
    LibraryService(after).import_files([back])
    (once_after,) = [
        c for c in CardService(after).search(deck="States") if c.front == "passed once"
    ]
    assert once_after.state.repetitions == 2
