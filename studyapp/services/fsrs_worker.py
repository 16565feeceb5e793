"""Fit FSRS parameters to a review history in a separate process, the one that imports torch.

The `fsrs` package's optimizer is built on torch (and pandas). The app and the command line
never import either: `fit_parameters` starts a fresh interpreter ("spawn", as the demo
worker does, since the TUI has threads), hands it the history as plain values, and gets the
21 parameters back. `fit` is what runs inside it.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from studyapp.errors import UserError

POLL_S = 0.1
# The history as it crosses the pipe: each card's (ISO study day, rating 1-5), oldest first.
Payload = list[list[tuple[str, int]]]


class FitCancelled(Exception):
    """The fit was stopped before it finished (the worker process was ended)."""


def fit(payload: Payload) -> list[float]:
    """The optimizer's parameters for this history (runs in the worker process)."""
    import torch
    from fsrs import Optimizer, Rating, ReviewLog
    from tqdm import tqdm

    # The optimizer's progress bar is off, but tqdm still makes a multiprocessing lock for
    # it, which the process would leave behind as a leaked semaphore.
    tqdm.set_lock(threading.RLock())

    from studyapp.scheduling.fsrs import FSRS_RATING, moment

    torch.set_num_threads(1)  # a sequence of scalar steps: more threads only add overhead
    logs = [
        ReviewLog(
            card_id=card,
            rating=Rating(FSRS_RATING[rating]),
            review_datetime=moment(date.fromisoformat(day)),
            review_duration=None,
        )
        for card, reviews in enumerate(payload)
        for day, rating in reviews
    ]
    return [float(value) for value in Optimizer(logs).compute_optimal_parameters()]


def _serve(conn: Any, payload: Payload, parent: int) -> None:
    from studyapp.services.orphans import stop_when_orphaned

    stop_when_orphaned(parent)
    try:
        conn.send(("ok", fit(payload)))
    except Exception as exc:  # reported to the app as one line
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def fit_parameters(
    history: Mapping[Any, Sequence[tuple[date, int]]],
    cancelled: Callable[[], bool] | None = None,
) -> tuple[float, ...]:
    """Fit FSRS to `history` (each card's state-changing ratings) in a worker process.

    Raises FitCancelled when `cancelled()` turns true first, UserError when the fit fails.
    """
    payload: Payload = [
        [(day.isoformat(), rating) for day, rating in reviews] for reviews in history.values()
    ]
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_serve, args=(sender, payload, os.getpid()), daemon=True)
    process.start()
    sender.close()
    try:
        while not receiver.poll(POLL_S):
            if cancelled is not None and cancelled():
                raise FitCancelled
        try:
            status, value = receiver.recv()
        except EOFError:  # the worker ended without an answer
            process.join(timeout=5)
            raise UserError(
                f"fitting FSRS failed: its worker process ended ({process.exitcode})"
            ) from None
    finally:
        if process.is_alive():
            process.terminate()
        process.join(timeout=5)
        receiver.close()
    if status != "ok":
        raise UserError(f"fitting FSRS failed: {value}")
    return tuple(value)
