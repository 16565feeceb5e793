"""The study session: today's queue, the same-day drill, undo, suspend, bury, leeches."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from studyapp.db import Store
from studyapp.services.cards import CardService
from studyapp.services.decks import DeckService
from studyapp.services.study import QueueItem, StudySession, interleave
from tests.backends import dump as everything
from tests.backends import sql
from tests.services.conftest import FakeClock, add_cards, make_due

TODAY = date(2026, 3, 2)


def rate_all(session: StudySession, rating: int) -> int:
    n = 0
    while session.current is not None:
        session.answer(rating)
        n += 1
    return n


def review_log(store: Store) -> list[tuple]:
    return [
        (*row[:1], str(row[1]), *row[2:10], None if row[10] is None else str(row[10]))
        for row in sql(
            store.url,
            "SELECT card_id, study_day, rating, kind, ease_before, interval_before,"
            " repetitions_before, ease_after, interval_after, repetitions_after, due_after"
            " FROM reviews ORDER BY id",
        )
    ]


def test_queue_honours_both_daily_limits_and_puts_the_most_overdue_first(
    store: Store, clock: FakeClock
) -> None:
    new_ids = add_cards(store, "D", 30, "new")
    old = add_cards(store, "D", 250, "old")
    # Due dates spread over the last 250 days: card old[i] is i days overdue.
    for i, card_id in enumerate(old):
        make_due(store, [card_id], TODAY - timedelta(days=i))
    session = StudySession(store, "D", clock)
    queue = session._queue
    assert session.remaining.new == 20
    assert session.remaining.review == 200
    reviews = [item.card_id for item in queue if item.kind == "review"]
    assert reviews == old[::-1][:200]  # most overdue first
    news = [item.card_id for item in queue if item.kind == "new"]
    assert news == new_ids[:20]  # deck order
    # New cards are spread among the reviews, not bunched at either end.
    positions = [i for i, item in enumerate(queue) if item.kind == "new"]
    assert positions[0] < 15 and positions[-1] > len(queue) - 15


def test_new_cards_introduced_earlier_today_count_against_the_limit(
    store: Store, clock: FakeClock
) -> None:
    add_cards(store, "D", 40)
    first = StudySession(store, "D", clock)
    for _ in range(12):
        first.answer(5)
    second = StudySession(store, "D", clock)
    assert second.remaining.new == 8
    clock.advance(days=1)
    third = StudySession(store, "D", clock)
    assert third.remaining.new == 20
    assert third.remaining.review == 12


def test_limits_and_day_start_are_per_deck_settings(store: Store, clock: FakeClock) -> None:
    add_cards(store, "A", 10, "a")
    add_cards(store, "B", 10, "b")
    decks = DeckService(store, clock)
    decks.update_settings("A", new_per_day=3)
    assert StudySession(store, "A", clock).remaining.new == 3
    assert StudySession(store, "B", clock).remaining.new == 10
    assert StudySession(store, None, clock).remaining.new == 13
    decks.update_settings("A", day_start_hour=11)  # at 10:00 it is still yesterday for A
    session = StudySession(store, "A", clock)
    review = session.answer(5).review
    assert review.study_day == TODAY - timedelta(days=1)


def test_a_card_rated_2_comes_back_in_the_session_and_changes_state_only_once(
    store: Store, clock: FakeClock
) -> None:
    ids = add_cards(store, "D", 6)
    session = StudySession(store, "D", clock)
    first = session.current
    assert first is not None and first.id == ids[0]
    outcome = session.answer(2)
    assert outcome.changed_state and outcome.comes_back
    after_first = outcome.card.state
    assert (after_first.repetitions, after_first.interval) == (0, 1)
    seen = []
    while session.current is not None and session.current.id != first.id:
        seen.append(session.current.id)
        session.answer(5)
    assert len(seen) == 3  # back after a few other cards
    drill = session.answer(2)  # still shaky: logged, no state change, comes back again
    assert not drill.changed_state and drill.comes_back
    assert drill.card.state == after_first
    while session.current is not None and session.current.id != first.id:
        session.answer(5)
    final = session.answer(4)
    assert not final.changed_state and not final.comes_back
    assert final.card.state == after_first
    kinds = [row[3] for row in review_log(store) if row[0] == first.id]
    assert kinds == ["new", "drill", "drill"]
    assert session.current is None  # the other five were rated 5 on the way; the drill is done
    assert sorted(row[0] for row in review_log(store) if row[3] == "new") == ids


def test_drill_survives_quitting_the_session(store: Store, clock: FakeClock) -> None:
    add_cards(store, "D", 3)
    session = StudySession(store, "D", clock)
    failed = session.current
    session.answer(1)
    again = StudySession(store, "D", clock)
    assert again.remaining.drill == 1
    assert again.current is not None and again.current.id == failed.id
    assert DeckService(store, clock).counts()[0].learning == 1
    assert not again.answer(5).changed_state
    assert DeckService(store, clock).counts()[0].learning == 0


def test_a_clock_set_back_still_tells_which_days_changed_the_card(
    store: Store, clock: FakeClock
) -> None:
    """The day's first rating changes the card, later ones that day are repeats, even when
    the log holds a rating on a later day (the machine's clock was set back since)."""
    (card_id,) = add_cards(store, "D", 1)
    clock.set_day(TODAY + timedelta(days=3))
    StudySession(store, "D", clock).answer(1)  # a lapse, logged on a later day
    clock.set_day(TODAY)
    make_due(store, [card_id], TODAY)
    session = StudySession(store, "D", clock)
    first = session.answer(2)
    assert first.changed_state  # nothing on TODAY itself yet
    repeat = session.answer(4)
    assert not repeat.changed_state and repeat.review.kind == "drill"
    kinds = [(row[1], row[3]) for row in review_log(store)]
    assert kinds == [
        (str(TODAY + timedelta(days=3)), "new"),
        (str(TODAY), "review"),
        (str(TODAY), "drill"),
    ]


def test_only_the_first_rating_of_the_day_changes_state(store: Store, clock: FakeClock) -> None:
    add_cards(store, "D", 1)
    session = StudySession(store, "D", clock)
    card = session.current
    session.answer(5)
    # The card is not due again today, but a second rating (e.g. from another session)
    # must not move it.
    second = StudySession(store, "D", clock)
    assert second.current is None
    clock.advance(days=1)
    third = StudySession(store, "D", clock)
    assert third.current is not None and third.current.id == card.id
    outcome = third.answer(5)
    assert outcome.changed_state
    assert outcome.card.state.interval == 6


def test_undo_restores_the_collection_byte_for_byte(store: Store, clock: FakeClock) -> None:
    add_cards(store, "D", 5)
    session = StudySession(store, "D", clock)
    session.answer(4)

    def dump() -> list[object]:
        return everything(store.url)

    before = dump()
    shown = session.current
    for rating in (1, 3, 5):
        session.answer(rating)
        session.undo()
        assert dump() == before
        assert session.current is not None and session.current.id == shown.id
    session.bury()
    session.undo()
    session.suspend()
    session.undo()
    assert dump() == before
    assert session.remaining.new == 4


def test_undo_of_a_drill_rating_puts_the_queue_back(store: Store, clock: FakeClock) -> None:
    add_cards(store, "D", 2)
    session = StudySession(store, "D", clock)
    session.answer(2)
    remaining = session.remaining
    assert remaining.drill == 1
    session.undo()
    assert session.remaining.drill == 0 and session.remaining.new == 2
    assert review_log(store) == []


def test_suspend_and_bury(store: Store, clock: FakeClock) -> None:
    ids = add_cards(store, "D", 3)
    session = StudySession(store, "D", clock)
    assert session.suspend().suspended
    buried = session.bury()
    assert buried.buried_until == TODAY + timedelta(days=1)
    assert session.current is not None and session.current.id == ids[2]
    assert StudySession(store, "D", clock).remaining.new == 1
    clock.advance(days=1)
    tomorrow = StudySession(store, "D", clock)
    assert [i.card_id for i in tomorrow._queue] == [ids[1], ids[2]]
    CardService(store, clock).set_suspended(ids[0], False)
    assert StudySession(store, "D", clock).remaining.new == 3


def test_a_card_reaching_8_lapses_is_tagged_leech(store: Store, clock: FakeClock) -> None:
    add_cards(store, "D", 1)
    tags = []
    for _ in range(9):
        session = StudySession(store, "D", clock)
        session.answer(5)  # learn (or relearn) it
        clock.advance(days=1)
        session = StudySession(store, "D", clock)
        outcome = session.answer(1)
        tags.append(("leech" in outcome.card.tags, outcome.card.state.lapses))
        clock.advance(days=1)
    assert tags[6] == (False, 7)
    assert tags[7] == (True, 8)
    assert tags[8] == (True, 9)


def test_rating_at_night_counts_for_the_evening_before(store: Store, clock: FakeClock) -> None:
    add_cards(store, "D", 1)
    clock.set_day(TODAY, hour=3)
    review = StudySession(store, "D", clock).answer(5).review
    assert review.study_day == TODAY - timedelta(days=1)
    assert review.after.due == TODAY  # one day after the evening before


def test_summary_counts_the_sitting(store: Store, clock: FakeClock) -> None:
    add_cards(store, "D", 3)
    session = StudySession(store, "D", clock)
    for rating, seconds in ((5, 4), (2, 10), (4, 6)):
        clock.advance(seconds=0)
        session.answer(rating, duration_ms=seconds * 1000)
    summary = session.summary()
    assert summary.ratings == 3 and summary.cards == 3
    assert summary.by_rating == {2: 1, 4: 1, 5: 1}
    assert summary.seconds == 20
    assert summary.next_due == TODAY + timedelta(days=1)


def test_interleave_spreads_new_cards_evenly() -> None:
    reviews = [QueueItem(i, "review") for i in range(6)]
    news = [QueueItem(100 + i, "new") for i in range(2)]
    kinds = "".join(item.kind[0] for item in interleave(reviews, news))
    assert kinds == "rrnrrnrr"
    assert [i.card_id for i in interleave([], news)] == [100, 101]


def test_the_queue_and_cards_read_the_same_on_every_path(store: Store, clock: FakeClock) -> None:
    # The session reads in plain SQL: on the sqlite3 driver before SQLAlchemy is loaded,
    # inside a unit of work, and through SQLAlchemy for other databases. All must agree.
    from studyapp.db.reads import study_card
    from studyapp.db.store import rows_in, text_rows
    from studyapp.services.study import build_queue, decks_in_scope

    add_cards(store, "A", 12, "a")
    old = add_cards(store, "B", 8, "b")
    make_due(store, old[:5], TODAY - timedelta(days=2))
    make_due(store, old[5:], TODAY + timedelta(days=4))
    session = StudySession(store, None, clock)
    session.answer(2)  # one card in today's drill
    session.answer(5)
    session.bury()
    CardService(store, clock).set_suspended(old[6], True)

    def read(rows):  # type: ignore[no-untyped-def]
        decks = decks_in_scope(rows, None)
        queue = build_queue(rows, decks, clock)
        return queue, [study_card(rows, cid) for cid in [*old, *(i.card_id for i in queue)]]

    with store.reading() as rows:
        plain = read(rows)
    with store.read() as orm:
        in_unit = read(rows_in(orm))
        through_sqlalchemy = read(text_rows(orm.connection()))
    assert plain == in_unit == through_sqlalchemy
    queue, cards = plain
    assert [i.kind for i in queue][:1] == ["drill"] and len(queue) == StudySession(
        store, None, clock
    ).remaining.total
    assert next(c for c in cards if c.card.id == old[6]).card.suspended
    assert all(isinstance(c.card.state.due, date | None) for c in cards)


def test_a_rating_on_a_server_is_two_statements(store: Store, clock: FakeClock) -> None:
    """Each statement is a round trip to a server: the write lock goes with the collection's
    identity, the card rated and the next card; the card's update with its review."""
    if store.path is not None:
        pytest.skip("round trips are a server's")
    from sqlalchemy import event

    add_cards(store, "D", 3)
    session = StudySession(store, "D", clock)
    first = session.current
    assert first is not None
    statements: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", note)
    try:
        answered = session.answer(4)
        following = session.current
    finally:
        event.remove(store.engine, "before_cursor_execute", note)
    assert len(statements) == 2, statements
    assert answered.card.id == first.id and answered.changed_state
    assert following is not None and following.id != first.id
    assert [row[0] for row in review_log(store)] == [first.id]
