"""Runs demos in a warm worker process and caches their results in the collection.

The app never imports torch: specs are plain data, and every run goes to one worker process
(studyapp.services.demo_worker) that is kept between runs so only the first pays for torch's
import. The worker is started with multiprocessing's "spawn" method because the TUI has
threads, and forking a threaded process is unsafe. A demo that raises, returns NaN, runs past
its time limit or is cancelled comes back as a `DemoResult` with that status; a worker that
had to be killed is replaced on the next run.

Results that finished ("ok") are cached in the collection's `demo_results` table, keyed by a
hash of the demo id, the resolved parameters, the seed and the demo's code version, so opening
a demo a second time is instant and a new seed, parameter or edit of the demo runs again. The
newest few results of each demo are kept, so trying many seeds does not grow the collection
without end.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stderr, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import resource_tracker
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from studyapp.db import Store
from studyapp.db.models import DemoResultRow
from studyapp.demo_api import DemoResult, DemoSpec, get_spec
from studyapp.demo_api.registry import DEMO_PACKAGE
from studyapp.demo_api.result import Status
from studyapp.errors import CollectionError
from studyapp.services import demo_worker

CANCEL_GRACE_S = 2.0  # a demo that has not stopped this long after a cancel is killed
WORKER_START_LIMIT_S = 120.0  # for the worker to start and import torch
POLL_S = 0.05
STOP_GRACE_S = 0.2  # for a worker told to stop to exit before it is killed
KEPT_PER_DEMO = 20  # cached results kept per demo, newest first
# What the warm worker imports before its first request. torch's optimizers import
# torch._dynamo the first time one is built (about 1.6 s here): paid while warming up, not
# by the first demo.
PRELOAD = ("torch", "torch._dynamo")


@dataclass(frozen=True)
class DemoProgress:
    """How far a running demo is; `series` holds its curves so far, when it sends them."""

    demo_id: str
    done: float
    message: str
    series: dict | None


def cache_key(spec: DemoSpec, params: Mapping[str, Any], seed: int) -> str:
    """The cache key of a run: demo id, resolved parameters, seed and the demo's code version."""
    blob = json.dumps(
        {"id": spec.id, "params": dict(params), "seed": seed, "code": spec.code_version},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode()).hexdigest()


class DemoRunner:
    """Runs demos for the TUI and the command line; one run at a time.

    `store` holds the result cache (None: no cache). `timeout_s` overrides every demo's own
    time limit; `threads` is torch's thread count (default: every core). `package` is the
    catalogue to run from and `preload` what the worker imports before its first request.
    """

    def __init__(
        self,
        store: Store | None,
        timeout_s: float | None = None,
        threads: int | None = None,
        *,
        package: str = DEMO_PACKAGE,
        preload: Sequence[str] = PRELOAD,
    ) -> None:
        self.store = store
        self.timeout_s = timeout_s
        self.threads = threads
        self.package = package
        self.preload = tuple(preload)
        self._context = multiprocessing.get_context("spawn")
        self._run_lock = threading.Lock()
        self._worker_lock = threading.Lock()
        self._worker: _Worker | None = None
        self._cancel = threading.Event()

    def __enter__(self) -> DemoRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def cached(self, demo_id: str, params: Mapping[str, Any], seed: int) -> DemoResult | None:
        """The cached result of this run, if there is one; never starts a worker."""
        spec = get_spec(demo_id, self.package)
        return self._lookup(cache_key(spec, spec.resolve(params), seed))

    def run(
        self,
        demo_id: str,
        params: Mapping[str, Any],
        seed: int,
        on_progress: Callable[[DemoProgress], None] | None = None,
        use_cache: bool = True,
    ) -> DemoResult:
        """Run a demo (or fetch it from the cache) and wait for its result.

        Blocking: call it from a thread. Bad parameters raise `ParamError` and an unknown id
        `UnknownDemoError` before any work; every failure of the demo itself is a result.
        With `use_cache` false the demo runs again and its result replaces the cached one.
        """
        spec = get_spec(demo_id, self.package)
        resolved = spec.resolve(params)
        key = cache_key(spec, resolved, seed)
        if use_cache and (hit := self._lookup(key)) is not None:
            return hit
        with self._run_lock:
            self._cancel.clear()
            result = self._run_in_worker(spec, resolved, seed, on_progress or _ignore)
        if result.ok:
            self._save(key, result)
        return result

    def cancel(self) -> None:
        """Stop the running demo soon; its `run` returns a "cancelled" result. Any thread.

        A demo that does not stop within CANCEL_GRACE_S, or a worker still starting up, is
        killed; the next run (or `warm_up`) starts a new one.
        """
        self._cancel.set()

    def warm_up(self) -> None:
        """Start the worker (and its torch import) in the background; returns at once."""
        self._ensure_worker()

    def close(self) -> None:
        """Stop the worker process; a running demo is cancelled. The runner stays usable."""
        self.cancel()
        with self._worker_lock:
            worker, self._worker = self._worker, None
        if worker is None:
            return
        if self._run_lock.acquire(blocking=False):
            try:
                worker.stop()
            finally:
                self._run_lock.release()
        else:
            worker.kill()  # the running `run` sees the worker end and returns "cancelled"

    def _run_in_worker(
        self,
        spec: DemoSpec,
        params: dict[str, Any],
        seed: int,
        on_progress: Callable[[DemoProgress], None],
    ) -> DemoResult:
        begun = time.monotonic()
        request = (spec.module, spec.id, params, seed)
        worker = self._ensure_worker()
        try:
            worker.cancel.clear()
            try:
                worker.conn.send(request)
            except OSError:  # it died while idle: start a fresh one
                self._discard(worker)
                worker = self._ensure_worker()
                worker.conn.send(request)
            outcome = self._follow(worker, spec, self.timeout_s or spec.timeout_s, on_progress)
        except BaseException:
            self._discard(worker)
            raise
        if isinstance(outcome, DemoResult):
            return outcome
        self._discard(worker)
        if outcome.status == "error" and self._cancel.is_set():  # closed while running
            outcome = _Stop("cancelled", "the run was cancelled")
        elapsed = time.monotonic() - begun
        return DemoResult.failure(spec.id, params, seed, elapsed, outcome.status, outcome.message)

    def _follow(
        self,
        worker: _Worker,
        spec: DemoSpec,
        limit: float,
        on_progress: Callable[[DemoProgress], None],
    ) -> DemoResult | _Stop:
        """Relay the worker's messages until its result arrives or the worker must go."""
        start_by = time.monotonic() + WORKER_START_LIMIT_S
        started: float | None = None
        stop_by: float | None = None
        while True:
            now = time.monotonic()
            if self._cancel.is_set():
                if started is None:  # still importing torch: nothing to wait for
                    return _Stop("cancelled", "the run was cancelled")
                if stop_by is None:
                    worker.cancel.set()
                    stop_by = now + CANCEL_GRACE_S
                elif now > stop_by:
                    return _Stop("cancelled", "the run was cancelled")
            if started is not None and now - started > limit:
                return _Stop(
                    "timeout", f"the demo ran past its {limit:g} s time limit and was stopped"
                )
            if started is None and now > start_by:
                return _Stop(
                    "error", f"the demo worker did not start within {WORKER_START_LIMIT_S:g} s"
                )
            if not worker.conn.poll(POLL_S):
                continue
            try:
                message = worker.conn.recv()
            except (EOFError, OSError):
                worker.kill()
                return _Stop("error", f"the demo worker stopped unexpectedly ({worker.ended()})")
            kind = message[0]
            if kind == "started":
                started = time.monotonic()
            elif kind == "progress":
                _, done, text, series = message
                on_progress(DemoProgress(spec.id, done, text, series))
            elif kind == "result":
                return DemoResult.from_dict(json.loads(message[1]))

    def _ensure_worker(self) -> _Worker:
        with self._worker_lock:
            if self._worker is None or not self._worker.process.is_alive():
                if self._worker is not None:
                    self._worker.kill()
                    self._worker.conn.close()
                _start_resource_tracker()
                self._worker = _Worker(self._context, self.threads, self.preload)
            return self._worker

    def _discard(self, worker: _Worker) -> None:
        with self._worker_lock:
            if self._worker is worker:
                self._worker = None
        worker.kill()
        worker.conn.close()

    def _lookup(self, key: str) -> DemoResult | None:
        if self.store is None:
            return None
        with self.store.read() as session:
            payload = session.scalar(
                select(DemoResultRow.payload).where(DemoResultRow.cache_key == key)
            )
        if payload is None:
            return None
        try:
            result = DemoResult.from_dict(json.loads(payload))
        except (ValueError, KeyError, TypeError):
            return None  # written by an older studyapp: run again
        result.cached = True
        return result

    def _save(self, key: str, result: DemoResult) -> None:
        if self.store is None:
            return
        payload = json.dumps(result.to_dict())
        now = datetime.now(UTC).replace(tzinfo=None)
        try:
            with self.store.write() as session:
                row = session.scalar(select(DemoResultRow).where(DemoResultRow.cache_key == key))
                if row is None:
                    session.add(
                        DemoResultRow(
                            cache_key=key, demo_id=result.id, payload=payload, created_at=now
                        )
                    )
                else:
                    row.payload, row.created_at = payload, now
                session.flush()
                _prune(session, result.id)
        except CollectionError:
            pass  # a read-only or busy collection: the result is shown, just not kept


def _prune(session: Session, demo_id: str) -> None:
    """Keep the newest `KEPT_PER_DEMO` results of a demo; older runs would only run again."""
    newest_first = (
        select(DemoResultRow.id)
        .where(DemoResultRow.demo_id == demo_id)
        .order_by(DemoResultRow.created_at.desc(), DemoResultRow.id.desc())
        .offset(KEPT_PER_DEMO)
    )
    session.execute(delete(DemoResultRow).where(DemoResultRow.id.in_(newest_first)))


@dataclass(frozen=True)
class _Stop:
    """Why a run ended without a result from the worker."""

    status: Status
    message: str


class _Worker:
    """One worker process, its pipe and its cancel flag (a fresh flag for every process: a
    killed process may die holding the old one's lock)."""

    def __init__(self, context: Any, threads: int | None, preload: tuple[str, ...]) -> None:
        with _sigint_ignored():  # inherited, so Ctrl-C never reaches a starting worker
            self.cancel = context.Event()
            self.conn, child = context.Pipe()
            self.process = context.Process(
                target=demo_worker.serve,
                args=(child, self.cancel, threads, preload, os.getpid()),
                name="studyapp-demo-worker",
                daemon=True,
            )
            self.process.start()
        child.close()

    def stop(self) -> None:
        """Ask the worker to end; it holds no state, so one slow to exit is killed at once."""
        with suppress(OSError):
            self.conn.send(None)
        self.process.join(STOP_GRACE_S)
        self.kill()
        self.conn.close()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(2.0)

    def ended(self) -> str:
        code = self.process.exitcode
        if code is None:
            return "it is not answering"
        if code < 0:
            try:
                return f"killed by signal {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit status {code}"


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker, which spawned workers need.

    It is started with this process's stderr; inside a TUI, sys.stderr is an object without
    a file descriptor, so the tracker gets the process's real stderr instead.
    """
    real = sys.__stderr__
    if real is None or sys.stderr is real:
        resource_tracker.ensure_running()
        return
    with redirect_stderr(real):
        resource_tracker.ensure_running()


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    previous = signal.getsignal(signal.SIGINT)
    if previous is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _ignore(progress: DemoProgress) -> None:
    pass
