"""Any sequence of study actions keeps the collection consistent.

Hypothesis drives a study session through ratings 1-5, undo, suspend, bury, studying more
(extra new cards, reviewing ahead), a fresh session and the clock moving on, over a small
collection with new and due cards in two decks, each with a daily limit it reaches. After
every step: no card is lost, each card's review log chains up to its state, only the first
rating of a study day changes a state, undo puts back exactly the collection as it was before
the action it takes back, and the deck counts agree with the rows.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from studyapp.clock import today
from studyapp.db import Store, open_store
from studyapp.db.models import CardRow, ReviewRow
from studyapp.services.decks import DeckService
from studyapp.services.study import DRILL_PASS, StudySession
from tests.services.conftest import ZONE, FakeClock, add_cards, make_due

START = datetime(2026, 3, 2, 10, 0, tzinfo=ZONE)
DAY_START_HOUR = 4
NEW_STATE = (250, 0, 0, None, 0)  # ease (hundredths), repetitions, interval, due, lapses

Row = dict[str, Any]


def build_template(path: Path) -> sqlite3.Connection:
    """Two decks of new cards and cards already due (overdue, due today, due later)."""
    store = open_store(str(path))
    clock = FakeClock(START)
    first = add_cards(store, "Alpha", 5, "alpha", clock)
    add_cards(store, "Beta", 3, "beta", clock)
    start_day = today(clock, DAY_START_HOUR)
    make_due(store, first[:2], start_day - timedelta(days=3))
    make_due(store, first[2:3], start_day)
    make_due(store, first[3:4], start_day + timedelta(days=1), interval=6)
    DeckService(store, clock).update_settings("Alpha", reviews_per_day=2)
    DeckService(store, clock).update_settings("Beta", new_per_day=2)
    store.dispose()
    template = sqlite3.connect(":memory:", check_same_thread=False)
    with sqlite3.connect(path) as source:
        source.backup(template)
    return template


def fresh_store(template: sqlite3.Connection) -> Store:
    """A private in-memory copy of the template collection."""
    store = Store("sqlite://")
    raw = store.engine.raw_connection()
    try:
        template.backup(raw.driver_connection)  # type: ignore[arg-type]
    finally:
        raw.close()
    return store


def dump(store: Store) -> tuple[list[Row], list[Row]]:
    """Every column of every card and review."""
    with store.read() as session:
        cards = session.execute(CardRow.__table__.select().order_by(CardRow.id)).mappings()
        card_rows = [dict(r) for r in cards]
        reviews = session.execute(ReviewRow.__table__.select().order_by(ReviewRow.id)).mappings()
        return card_rows, [dict(r) for r in reviews]


def state(row: Row, side: str = "") -> tuple[Any, ...]:
    suffix = f"_{side}" if side else ""
    ease = "ease_cents" if not side else f"ease{suffix}"
    return tuple(
        row[name]
        for name in (
            ease,
            f"repetitions{suffix}",
            f"interval{suffix}",
            f"due{suffix}",
            f"lapses{suffix}",
        )
    )


def available(card: Row, day: date) -> bool:
    return not card["suspended"] and (card["buried_until"] is None or card["buried_until"] <= day)


class StudyMachine(RuleBasedStateMachine):
    template: sqlite3.Connection

    @initialize()
    def open_collection(self) -> None:
        self.clock = FakeClock(START)
        self.store = fresh_store(self.template)
        self.initial_cards, _ = dump(self.store)
        self.decks = [(d.id, d.name, d.settings) for d in DeckService(self.store).list()]
        self.session = StudySession(self.store, None, self.clock)
        self.before_actions: list[tuple[list[Row], list[Row]]] = []  # for undo, newest last

    def teardown(self) -> None:
        self.store.dispose()

    # --- actions -----------------------------------------------------------------------------

    @precondition(lambda self: self.session.current is not None)
    @rule(rating=st.integers(1, 5))
    def rate(self, rating: int) -> None:
        before = dump(self.store)
        card = self.session.current
        assert card is not None
        answered = self.session.answer(rating, duration_ms=1000)
        assert answered.review.rating == rating and answered.card.id == card.id
        assert answered.comes_back == (rating < DRILL_PASS)
        self.before_actions.append(before)

    @precondition(lambda self: self.session.current is not None)
    @rule(suspend=st.booleans())
    def set_aside(self, suspend: bool) -> None:
        before = dump(self.store)
        card = self.session.current
        assert card is not None
        if suspend:
            self.session.suspend()
        else:
            self.session.bury()
        self.before_actions.append(before)
        shown = self.session.current
        assert shown is None or shown.id != card.id

    @rule(new=st.integers(0, 3), days=st.integers(0, 8))
    def study_more(self, new: int, days: int) -> None:
        """Extra new cards beyond the limit, and cards due within some days (no write)."""
        before = dump(self.store)
        queued = len(self.session._queue)
        added = self.session.add_new(new) + self.session.review_ahead(days)
        assert len(self.session._queue) == queued + added
        assert dump(self.store) == before

    @rule()
    def undo(self) -> None:
        if not self.before_actions:
            assert not self.session.can_undo
            assert self.session.undo() is None
            return
        self.session.undo()
        assert dump(self.store) == self.before_actions.pop()

    @rule(what=st.sampled_from(["new session", 1, 18, 24, 72]))
    def meanwhile(self, what: str | int) -> None:
        """The learner starts a new session, or the clock moves on by some hours."""
        if what == "new session":
            self.session = StudySession(self.store, None, self.clock)
            self.before_actions.clear()
        else:
            self.clock.advance(hours=int(what))

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def consistent(self) -> None:
        cards, reviews = dump(self.store)
        self.nothing_is_lost_and_the_log_agrees_with_the_states(cards, reviews)
        self.the_card_on_screen_can_be_studied(cards)
        self.deck_counts_match_the_rows(cards, reviews)

    def nothing_is_lost_and_the_log_agrees_with_the_states(
        self, cards: list[Row], reviews: list[Row]
    ) -> None:
        initial = {c["id"]: c for c in self.initial_cards}
        assert [c["id"] for c in cards] == list(initial)
        for card in cards:
            assert (card["front"], card["back"]) == (
                initial[card["id"]]["front"],
                initial[card["id"]]["back"],
            )
            expected = state(initial[card["id"]])  # walk the log from the card's first state
            changed_days: set[date] = set()
            for review in (r for r in reviews if r["card_id"] == card["id"]):
                assert state(review, "before") == expected, review
                if review["kind"] == "drill":
                    assert state(review, "after") == expected, review
                    continue
                if expected[3] is None:
                    kind = "new"
                else:
                    kind = "early" if review["study_day"] < expected[3] else "review"
                assert review["kind"] == kind, review
                if kind == "early" and review["rating"] >= 3:
                    assert review["due_after"] >= expected[3], "reviewed ahead, due sooner"
                assert review["study_day"] not in changed_days, "two state changes in one day"
                changed_days.add(review["study_day"])
                expected = state(review, "after")
            assert state(card) == expected, card

    def the_card_on_screen_can_be_studied(self, cards: list[Row]) -> None:
        card = self.session.current
        if card is None:
            return
        row = next(c for c in cards if c["id"] == card.id)
        assert not row["suspended"]
        assert state(row) == (
            card.state.ease_cents,
            card.state.repetitions,
            card.state.interval,
            card.state.due,
            card.state.lapses,
        )

    def deck_counts_match_the_rows(self, cards: list[Row], reviews: list[Row]) -> None:
        day = today(self.clock, DAY_START_HOUR)
        latest_today: dict[int, Row] = {}
        for review in reviews:
            if review["study_day"] == day:
                latest_today[review["card_id"]] = review
        expected = []
        for deck_id, name, limits in self.decks:
            mine = [c for c in cards if c["deck_id"] == deck_id]
            done = [
                r["kind"]
                for r in reviews
                if r["study_day"] == day and any(c["id"] == r["card_id"] for c in mine)
            ]
            open_now = [c for c in mine if available(c, day)]
            learning = [
                c
                for c in open_now
                if c["id"] in latest_today and latest_today[c["id"]]["rating"] < DRILL_PASS
            ]
            unseen = sum(c["due"] is None for c in open_now)
            due = sum(c["due"] is not None and c["due"] <= day for c in open_now)
            new_room = max(0, limits.new_per_day - done.count("new"))
            review_room = max(0, limits.reviews_per_day - done.count("review"))
            expected.append(
                (
                    name,
                    len(mine),
                    min(unseen, new_room),
                    min(due, review_room),
                    len(learning),
                    sum(bool(c["suspended"]) for c in mine),
                    unseen,
                )
            )
        counts = DeckService(self.store, self.clock).counts()
        assert [
            (c.name, c.total, c.new, c.due, c.learning, c.suspended, c.unseen) for c in counts
        ] == expected


def test_any_sequence_of_study_actions_keeps_the_collection_consistent(tmp_path: Path) -> None:
    StudyMachine.template = build_template(tmp_path / "template.db")
    try:
        run_state_machine_as_test(
            StudyMachine,
            settings=settings(
                max_examples=40,
                stateful_step_count=30,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    finally:
        StudyMachine.template.close()
