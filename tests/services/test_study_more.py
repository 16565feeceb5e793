"""The rating preview, decks mixed in one session, and studying more when nothing is due."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from studyapp.db import Store, open_store
from studyapp.services.cards import CardService
from studyapp.services.decks import DeckService
from studyapp.services.library import LibraryService
from studyapp.services.study import StudySession, spread
from tests.backends import sql
from tests.services.conftest import FakeClock, add_cards, make_due

TODAY = date(2026, 3, 2)


def kinds_of(store: Store) -> list[tuple[int, str]]:
    return sql(store.url, "SELECT card_id, kind FROM reviews ORDER BY id")


def deck_of(store: Store, ids: dict[str, list[int]], card_id: int) -> str:
    return next(name for name, cards in ids.items() if card_id in cards)


def queue_decks(session: StudySession, ids: dict[str, list[int]]) -> str:
    return "".join(deck_of(session.store, ids, item.card_id) for item in session._queue)


# --- the preview ----------------------------------------------------------------------------


def test_the_preview_of_a_new_card(store: Store, clock: FakeClock) -> None:
    add_cards(store, "D", 2)
    preview = StudySession(store, "D", clock).preview()
    assert {r: (o.days, o.again_today, o.changes_state) for r, o in preview.items()} == {
        1: (1, True, True),
        2: (1, True, True),
        3: (1, True, True),  # passes, yet comes back later today
        4: (1, False, True),
        5: (1, False, True),
    }
    assert all(o.due == TODAY + timedelta(days=1) for o in preview.values())


def test_the_preview_of_a_review_card(store: Store, clock: FakeClock) -> None:
    [card] = add_cards(store, "D", 1)
    with store.write() as session:
        from sqlalchemy import update

        from studyapp.db.models import CardRow

        session.execute(
            update(CardRow)
            .where(CardRow.id == card)
            .values(due=TODAY, interval=6, repetitions=2, ease_cents=250)
        )
    preview = StudySession(store, "D", clock).preview()
    # 1-2 lapse: tomorrow, after the drill; 3 passes at ease 2.36 (ceil(6 x 2.36) = 15) and
    # comes back today; 4 keeps ease 2.5 (15 days); 5 raises it to 2.6 (ceil(15.6) = 16).
    assert {r: (o.days, o.again_today) for r, o in preview.items()} == {
        1: (1, True),
        2: (1, True),
        3: (15, True),
        4: (15, False),
        5: (16, False),
    }


@pytest.mark.parametrize("rating", [1, 2, 3, 4, 5])
def test_the_preview_is_what_the_rating_does(store: Store, clock: FakeClock, rating: int) -> None:
    ids = add_cards(store, "D", 3)
    make_due(store, ids[:1], TODAY - timedelta(days=2), interval=10)
    session = StudySession(store, "D", clock)
    for _ in range(2):  # a review card, then the new card after it
        preview = session.preview()[rating]
        answered = session.answer(rating)
        assert answered.card.state.due == preview.due
        assert answered.comes_back == preview.again_today
        assert answered.changed_state == preview.changes_state


def test_the_preview_of_a_card_in_the_drill(store: Store, clock: FakeClock) -> None:
    ids = add_cards(store, "D", 1)
    session = StudySession(store, "D", clock)
    session.answer(2)
    assert session.current is not None and session.current.id == ids[0]
    assert session.current_kind == "drill"
    preview = session.preview()
    assert not any(o.changes_state for o in preview.values())
    assert {r: (o.days, o.again_today) for r, o in preview.items()} == {
        1: (1, True),
        2: (1, True),
        3: (1, True),
        4: (1, False),  # leaves the drill; due tomorrow as the first rating set it
        5: (1, False),
    }
    assert session.answer(4).card.state.due == preview[4].due


def test_no_preview_when_the_session_is_done(store: Store, clock: FakeClock) -> None:
    assert StudySession(store, None, clock).preview() == {}


# --- several decks in one session -----------------------------------------------------------


def test_spread_keeps_each_groups_order_and_spaces_it_evenly() -> None:
    assert spread([["a1", "a2"], ["b1", "b2"]]) == ["a1", "b1", "a2", "b2"]
    mixed = spread([list(range(8)), ["x", "y"]])
    assert [i for i in mixed if isinstance(i, int)] == list(range(8))
    assert [mixed.index("x"), mixed.index("y")] == [2, 7]
    assert spread([[], [1, 2]]) == [1, 2]


def test_review_all_decks_mixes_the_decks_new_cards(store: Store, clock: FakeClock) -> None:
    ids = {"A": add_cards(store, "A", 30, "a"), "B": add_cards(store, "B", 4, "b")}
    session = StudySession(store, None, clock)
    order = queue_decks(session, ids)
    assert order.count("A") == 20 and order.count("B") == 4  # each deck's own limit
    assert "AAAAAAAA" not in order  # B comes up every five or so, from the start
    assert order.index("B") <= 3
    news = [item.card_id for item in session._queue]
    assert [c for c in news if c in ids["A"]] == ids["A"][:20]  # each deck in its own order


def test_review_all_decks_mixes_reviews_within_each_due_date(
    store: Store, clock: FakeClock
) -> None:
    a = add_cards(store, "A", 8, "a")
    b = add_cards(store, "B", 8, "b")
    make_due(store, a[:2], TODAY - timedelta(days=3))  # most overdue: first, whatever the deck
    make_due(store, a[2:8], TODAY)
    make_due(store, b[:6], TODAY)
    DeckService(store, clock).update_settings("B", reviews_per_day=4)
    session = StudySession(store, None, clock)
    reviews = [i.card_id for i in session._queue if i.kind == "review"]
    assert reviews[:2] == a[:2]
    due_today = "".join("A" if c in a else "B" for c in reviews[2:])
    assert due_today == "ABABAABABA"  # B within its limit of 4, spread over the six of A


# --- studying more --------------------------------------------------------------------------


def finish(session: StudySession, rating: int = 5) -> None:
    while session.current is not None:
        session.answer(rating)


def test_extra_new_cards_today(store: Store, clock: FakeClock) -> None:
    ids = {"A": add_cards(store, "A", 25, "a"), "B": add_cards(store, "B", 22, "b")}
    session = StudySession(store, None, clock)
    finish(session)
    assert session.more(7).new == 7
    assert session.add_new(4) == 4
    assert queue_decks(session, ids) == "ABAA"  # in proportion to what is left: 5 and 2
    finish(session)
    assert session.more(7).new == 3
    assert session.add_new(10) == 3
    finish(session)
    assert session.add_new(10) == 0
    assert [k for _, k in kinds_of(store)] == ["new"] * 47
    assert StudySession(store, None, clock).remaining.new == 0  # above the limit already


def test_review_ahead_takes_cards_due_within_the_days_asked(store: Store, clock: FakeClock) -> None:
    ids = add_cards(store, "D", 4)
    make_due(store, ids[:1], TODAY + timedelta(days=2), interval=10)
    make_due(store, ids[1:2], TODAY + timedelta(days=5), interval=10)
    make_due(store, ids[2:3], TODAY + timedelta(days=9), interval=10)
    DeckService(store, clock).update_settings("D", new_per_day=0)
    session = StudySession(store, "D", clock)
    assert session.current is None
    assert session.more(5) == type(session.more(5))(new=1, ahead=2, days=5)
    assert session.review_ahead(5) == 2
    assert [i.card_id for i in session._queue] == ids[:2]  # soonest first
    assert session.current_kind == "early"
    preview = session.preview()[4]
    answered = session.answer(4)
    assert answered.review.kind == "early"
    # 8 of 10 days passed: on time a 4 earns ceil(10 x 2.5) = 25 days, so 20 from today.
    assert answered.card.state.interval == 20 == preview.days
    assert answered.card.state.due == TODAY + timedelta(days=20)
    answered = session.answer(3)  # 5 of 10 days passed: ceil(10 x 2.36 / 2) = 12
    assert answered.card.state.due == TODAY + timedelta(days=12)
    assert answered.comes_back  # a 3 is drilled today, as any other
    finish(session)
    assert session.review_ahead(5) == 0  # each card changes once a day; not offered again
    assert [k for _, k in kinds_of(store)] == ["early", "early", "drill"]


def test_review_ahead_spans_the_decks_and_leaves_suspended_cards(
    store: Store, clock: FakeClock
) -> None:
    a = add_cards(store, "A", 2, "a")
    b = add_cards(store, "B", 2, "b")
    make_due(store, [*a, *b], TODAY + timedelta(days=1))
    CardService(store, clock).set_suspended(b[1], True)
    session = StudySession(store, None, clock)
    assert session.review_ahead(1) == 3
    assert [i.card_id for i in session._queue] == [a[0], b[0], a[1]]


def test_an_early_review_survives_a_backup_and_restore(
    store: Store, clock: FakeClock, tmp_path
) -> None:
    ids = add_cards(store, "D", 1)
    make_due(store, ids, TODAY + timedelta(days=3), interval=6)
    session = StudySession(store, "D", clock)
    session.add_new(0)
    session.review_ahead(3)
    session.answer(5)
    backup = tmp_path / "backup.json"
    backup.write_bytes(LibraryService(store, clock).export("json"))
    restored = open_store(str(tmp_path / "restored.db"))
    LibraryService(restored, clock).import_files([backup])
    assert kinds_of(restored) == [(1, "early")]
    [deck] = json.loads(backup.read_text())["decks"]
    assert deck["cards"][0]["reviews"][0]["kind"] == "early"
    restored.dispose()


def test_a_buried_card_stays_buried_through_the_json_backup(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    add_cards(store, "D", 2)
    session = StudySession(store, "D", clock)
    session.suspend()
    buried = session.bury()
    backup = tmp_path / "backup.json"
    backup.write_bytes(LibraryService(store, clock).export("json"))
    restored = open_store(str(tmp_path / "restored.db"))
    LibraryService(restored, clock).import_files([backup])
    held = sql(restored.url, "SELECT suspended, buried_until FROM cards ORDER BY position")
    assert [(bool(s), b and str(b)) for s, b in held] == [
        (True, None),
        (False, buried.buried_until.isoformat()),
    ]
    # Tomorrow it is back in the queue, as it would have been in the collection backed up.
    assert StudySession(restored, "D", clock).current is None
    clock.advance(days=1)
    assert StudySession(restored, "D", clock).remaining.new == 1
    restored.dispose()
