"""A database server that goes away mid-session: the rating in flight is stored or reported
not stored, in one line, and the session goes on when the server is back.

The connection is cut at chosen moments by a relay between the app and the server, or the
server itself is stopped and started again.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from benchmarks import postgres
from studyapp.db import Store, open_store
from studyapp.errors import CollectionError, UserError
from studyapp.model import Card
from studyapp.services.study import StudySession
from tests.backends import shown, sql
from tests.conftest import start_server
from tests.hardening.conftest import make_collection, one_line, studyapp

UNREACHABLE = "cannot reach the database server"
COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"  # the driver's COMMIT, as a simple query message


class Relay:
    """Passes bytes between the app and the server; can cut a connection as a COMMIT goes
    by ("before" it reaches the server, "after" it did but before the answer came back, or
    "late": the app loses the connection at once, and its COMMIT reaches the server a
    second later) and can refuse new connections, as a server out of reach would."""

    def __init__(self, server_port: int) -> None:
        self.server_port = server_port
        self.cut_at_commit: str | None = None
        self.refusing = False
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, url: str) -> str:
        return make_url(url).set(port=self.port).render_as_string(hide_password=False)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refusing:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.server_port))
            self._sockets += [client, upstream]
            answers = threading.Event()  # set: the server's answers no longer get through
            for ends in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(*ends, answers), daemon=True).start()

    def _pump(
        self, source: socket.socket, target: socket.socket, to_server: bool, muted: threading.Event
    ) -> None:
        try:
            while data := source.recv(65536):
                cut = self.cut_at_commit if to_server and COMMIT in data else None
                if cut is not None:
                    self.cut_at_commit = None
                    if cut == "late":
                        muted.set()
                        _close(source)
                        time.sleep(1.0)
                        target.sendall(data)
                        time.sleep(0.5)
                        _close(target)
                        return
                    if cut == "after":
                        muted.set()
                        target.sendall(data)
                        time.sleep(0.5)  # the server commits; its answer never comes back
                    _close(source, target)
                    return
                if not muted.is_set():
                    target.sendall(data)
        except OSError:
            pass
        _close(source, target)

    def close(self) -> None:
        self.listener.close()
        _close(*self._sockets)


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


@pytest.fixture
def relayed(pg_server: postgres.Server) -> Iterator[tuple[str, Relay]]:
    """A collection of three new cards, and the relay the app reaches it through."""
    db = pg_server.create_database()
    make_collection(db, {"D": 3})
    relay = Relay(pg_server.port)
    yield relay.url(db), relay
    relay.close()


Studying = tuple[str, Relay, StudySession, Card]


@pytest.fixture
def studying(relayed: tuple[str, Relay]) -> Iterator[Studying]:
    """A study session through the relay, on the first of its three new cards."""
    db, relay = relayed
    store = open_store(db)
    session = StudySession(store, "D")
    card = session.current
    assert card is not None
    yield db, relay, session, card
    store.dispose()


@pytest.fixture
def own_server() -> Iterator[postgres.Server]:
    """A server of this test's own, to stop and start again."""
    server = start_server()
    yield server
    server.stop()


def ratings(db: str) -> list[tuple[Any, ...]]:
    return sql(db, "SELECT card_id, rating FROM reviews ORDER BY id")


def test_a_server_stopped_between_ratings_is_one_line_and_the_session_goes_on(
    own_server: postgres.Server,
) -> None:
    db = own_server.create_database()
    make_collection(db, {"D": 3})
    store = open_store(db)
    session = StudySession(store, "D")
    first = session.current
    assert first is not None
    session.answer(5)
    second = session.current
    assert second is not None
    own_server.pause()
    try:
        with pytest.raises(CollectionError) as lost:
            session.answer(4)
        message = lost.value.message
        assert message.startswith(f"{shown(db)}: {UNREACHABLE}") and "nothing was saved" in message
        assert "\n" not in message and own_server.password not in message
        assert session.current == second and session.done == 1  # still on screen
        down = studyapp("decks", "--db", db)
        assert down.returncode == 2 and UNREACHABLE in one_line(down.stderr)
        assert own_server.password not in down.stderr
    finally:
        own_server.resume()
    session.answer(4)
    assert ratings(db) == [(first.id, 5), (second.id, 4)]
    store.dispose()


def test_a_connection_lost_before_the_commit_arrives_stores_nothing_and_says_so(
    studying: Studying, pg_server: postgres.Server
) -> None:
    db, relay, session, card = studying
    relay.cut_at_commit = "before"
    with pytest.raises(CollectionError, match="the rating was not stored; rate the card again"):
        session.answer(5)
    assert ratings(db) == [] and session.current == card and session.done == 0
    assert session.answer(3).review.rating == 3
    assert ratings(db) == [(card.id, 3)]


def test_a_connection_lost_after_the_commit_arrives_keeps_the_rating_once(
    studying: Studying,
) -> None:
    db, relay, session, card = studying
    relay.cut_at_commit = "after"
    answered = session.answer(5)
    assert answered.recovered and answered.review.rating == 5 and answered.changed_state
    assert ratings(db) == [(card.id, 5)]
    assert session.current is not None and session.current.id != card.id
    assert session.done == 1
    session.undo()  # the recovered rating is undone like any other
    assert ratings(db) == [] and session.current == card


def test_a_commit_that_reaches_the_server_after_the_connection_was_lost_counts_once(
    studying: Studying,
) -> None:
    """The app finds out whether its rating was stored while the lost connection's COMMIT
    is still on its way: it waits for that transaction (it holds the write lock) instead of
    reading too early, calling the rating lost, and having it given twice."""
    db, relay, session, card = studying
    relay.cut_at_commit = "late"
    answered = session.answer(5)
    assert answered.recovered and answered.review.rating == 5
    assert ratings(db) == [(card.id, 5)]
    assert session.current is not None and session.current.id != card.id


def test_suspend_after_an_unconfirmed_rating_acts_on_no_card_the_learner_did_not_see(
    studying: Studying,
) -> None:
    """The rating of the card on screen could not be confirmed; once the server is back, `s`
    finds it was stored: the session moves on, saying so, and suspends nothing."""
    db, relay, session, card = studying
    relay.cut_at_commit = "after"
    relay.refusing = True
    with pytest.raises(CollectionError, match="whether it was stored is checked"):
        session.answer(5)
    relay.refusing = False
    with pytest.raises(UserError, match="rating 5 of this card reached the server"):
        session.suspend()
    assert sql(db, "SELECT count(*) FROM cards WHERE suspended") == [(0,)]
    assert ratings(db) == [(card.id, 5)]
    assert session.current is not None and session.current.id != card.id


def test_a_rating_the_server_could_not_confirm_is_settled_once_it_is_back(
    studying: Studying,
) -> None:
    db, relay, session, card = studying
    relay.cut_at_commit = "after"
    relay.refusing = True  # and then the server is out of reach
    with pytest.raises(CollectionError, match="whether it was stored is checked when the server"):
        session.answer(5)
    assert session.current == card
    with pytest.raises(CollectionError, match=UNREACHABLE):
        session.answer(4)  # still out of reach: nothing is decided yet
    relay.refusing = False
    again = session.answer(4)  # pressed again once the server is back
    assert again.recovered and again.review.rating == 5
    assert ratings(db) == [(card.id, 5)]  # once, with the rating that reached the server
    nxt = session.current
    assert nxt is not None and nxt.id != card.id
    session.answer(4)
    assert len(ratings(db)) == 2


async def test_the_app_says_the_server_is_gone_in_one_line_and_goes_on_when_it_is_back(
    own_server: postgres.Server,
) -> None:
    from studyapp.tui.app import create_app
    from tests.tui.conftest import FakeRunner, settle, text_of

    db = own_server.create_database()
    make_collection(db, {"D": 2})
    store: Store = open_store(db)
    app = create_app(store, runner=FakeRunner(), start="review", deck="D")
    said: list[str] = []
    notify = app.notify

    def record(message: str, *args: Any, **kwargs: Any) -> None:
        said.append(message)
        notify(message, *args, **kwargs)

    app.notify = record  # type: ignore[method-assign]
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("space")
        own_server.pause()
        try:
            await pilot.press("4")
            await settle(pilot)
            assert len(said) == 1 and UNREACHABLE in said[0] and "\n" not in said[0]
            assert text_of(app, "#card-front") == "D-Q00" and app.screen.revealed
            await pilot.press("q")  # home, whose counts cannot be read now
            await settle(pilot)
            assert len(said) == 2 and UNREACHABLE in said[1], said
        finally:
            own_server.resume()
        for _ in range(100):  # home reads its counts again on its own
            await pilot.pause(0.1)
            if app.screen.query_one("#home-decks").row_count:
                break
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("space", "4")
        await settle(pilot)
    assert [r for _, r in ratings(db)] == [4]
    store.dispose()
