"""Content keys worked out on a second thread while the cards they belong to are written.

A file of 100,000 new cards spends about a sixth of its import working out their content
keys (`repository.content_key`), and about a quarter in SQLite inserting the cards, which
runs with Python's lock released. So the keys of a file taken as all new cards are worked
out by a thread of their own, started as soon as the file is taken so, and the insert
takes them as they come: each statement of a thousand rows waits for its own rows' keys.

A file is taken as all new cards before its keys are known when its fronts all differ,
and none is a front its deck holds. Two of its cards whose text differs only in spacing
or letter case, or one whose text its deck holds under another spelling, still share a
key: the keys tell so as they are worked out (`KeysCollide`), and the import starts over
from a savepoint, with every key worked out first, and goes as it always did.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import overload

from studyapp.db import repository as repo

# Keys handed to the insert at a time: a quarter of one statement's rows.
_BLOCK = 250
# How long a thread may keep Python's lock while another waits for it, while keys are
# worked out. Python's own 5 ms is longer than a statement of a thousand rows runs: the
# insert, back from SQLite, would wait up to that long for the lock after each statement
# (it took 1.6 times as long, and 100,000 cards 0.82 s to import instead of 0.75 s).
_SWITCH_INTERVAL_S = 0.0002
_switching_lock = threading.Lock()
_switching: list[float] = []  # Python's interval, once per thread working out keys


@contextmanager
def _quick_switching() -> Iterator[None]:
    """Hand Python's lock between threads every _SWITCH_INTERVAL_S while in the block (of
    any thread: the interval is the interpreter's), then back as it was."""
    with _switching_lock:
        _switching.append(sys.getswitchinterval())
        sys.setswitchinterval(min(_SWITCH_INTERVAL_S, _switching[0]))
    try:
        yield
    finally:
        with _switching_lock:
            was = _switching.pop()
            if not _switching:
                sys.setswitchinterval(was)


class KeysCollide(Exception):
    """Two cards of a file taken as all new cards (or one of them and a card its deck
    holds) turned out to share a content key."""


class LaterKeys(Sequence[str]):
    """The content keys of `fronts` and `backs`, pair by pair, worked out by a thread.

    Reading a key waits until it is worked out; reading any raises KeysCollide once two
    keys turn out alike, or one is among `held` (the keys of the cards the deck holds).
    """

    def __init__(self, fronts: Sequence[str], backs: Sequence[str], held: set[str]) -> None:
        self._count = len(fronts)
        self._keys: list[str] = []
        self._collided = False
        self._failed: BaseException | None = None
        self._stopped = False
        self._ready = threading.Condition()
        work = (fronts, backs, held)
        self.thread = threading.Thread(
            target=self._work, args=work, name="content keys", daemon=True
        )
        self.thread.start()

    def _work(self, fronts: Sequence[str], backs: Sequence[str], held: set[str]) -> None:
        seen: set[str] = set()
        content_key = repo.content_key
        try:
            with _quick_switching():
                for start in range(0, self._count, _BLOCK):
                    if self._stopped:
                        return
                    stop = start + _BLOCK
                    keys = list(map(content_key, fronts[start:stop], backs[start:stop]))
                    seen.update(keys)
                    collided = len(seen) < start + len(keys) or not held.isdisjoint(keys)
                    with self._ready:
                        self._keys += keys
                        self._collided = collided
                        self._ready.notify_all()
                    if collided:
                        return
        except BaseException as exc:  # handed to whoever reads the keys
            with self._ready:
                self._failed = exc
                self._ready.notify_all()

    def _wait_for(self, count: int) -> None:
        with self._ready:
            self._ready.wait_for(
                lambda: len(self._keys) >= count or self._collided or self._failed is not None
            )
            if self._failed is not None:
                raise RuntimeError("working out the content keys failed") from self._failed
            if self._collided:
                raise KeysCollide

    def stop(self) -> None:
        """Stop working out keys no one will read (the import failed): the thread ends
        within a block, and Python's switch interval is back as it was."""
        self._stopped = True

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._count)
            if step < 0:
                return self.all()[index]
            self._wait_for(stop)
            return self._keys[start:stop:step]
        at = index + self._count if index < 0 else index
        if not 0 <= at < self._count:
            raise IndexError("content key index out of range")
        self._wait_for(at + 1)
        return self._keys[at]

    def __iter__(self) -> Iterator[str]:
        return iter(self.all())

    def all(self) -> list[str]:
        """Every key, once all are worked out."""
        self._wait_for(self._count)
        return self._keys
