"""The demo worker: the loop of the one process that imports torch.

`DemoRunner` (studyapp.services.demos) starts `serve` in a separate process and keeps it warm,
so torch is imported once per session and never in the app itself. The worker answers one
request at a time and turns everything a demo can do wrong (raise, return NaN, return
something that is not plain data) into a failed `DemoResult`, so the app only ever receives
results, never exceptions. This module imports torch only inside the worker process.

Messages on the pipe are tuples:
  app -> worker   (module, demo_id, params, seed) to run a demo; None to stop
  worker -> app   ("started",)  the demo is starting: its time limit runs from here
                  ("progress", done, message, series)  at most 1 / PROGRESS_INTERVAL_S a second
                  ("result", json_text)  the `DemoResult.to_dict()` of the run, as JSON
"""

from __future__ import annotations

import importlib
import json
import math
import os
import platform
import signal
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from importlib import metadata
from pathlib import Path
from typing import Any

from studyapp import __version__
from studyapp.demo_api import (
    Cancelled,
    DemoOutput,
    DemoResult,
    DemoSpec,
    answer_problems,
    claim_problems,
    non_finite_fields,
)
from studyapp.services.orphans import stop_when_orphaned

PROGRESS_INTERVAL_S = 0.05
Request = tuple[str, str, dict[str, Any], int]
Send = Callable[[tuple[Any, ...]], None]


def serve(conn: Any, cancel: Any, threads: int | None, preload: Sequence[str], parent: int) -> None:
    """The worker's main loop: run requests from `conn` until told to stop or the app goes.

    `cancel` is a multiprocessing Event the app sets to cancel the running demo; `preload`
    names modules to import before the first request (torch), so the first run does not pay
    for them; `parent` is the app's pid, with which the worker ends.
    """
    # Ctrl-C in the terminal reaches the whole process group; the app decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop_when_orphaned(parent)
    _silence_output()
    # Idle OpenMP threads sleep instead of spinning: with the app (or anything else) busy on
    # the same cores, spinning threads made a 3 s demo take 25 s.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    for name in preload:
        with suppress(ImportError):  # a demo that needs it reports the error as its result
            importlib.import_module(name)
    _limit_threads(threads)
    versions = library_versions()
    while True:
        try:
            request: Request | None = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        conn.send(("started",))
        module, demo_id, params, seed = request
        text = run_request(module, demo_id, params, seed, cancel.is_set, conn.send, versions)
        _limit_threads(threads)  # a demo that imported torch itself gets the same limit
        conn.send(("result", text))


def run_request(
    module_name: str,
    demo_id: str,
    params: dict[str, Any],
    seed: int,
    cancelled: Callable[[], bool],
    send: Send,
    versions: dict[str, str],
) -> str:
    """Run one demo and return its result as JSON; never raises for the demo's failures."""
    started = time.perf_counter()
    reporter = _Reporter(cancelled, send)

    def failure(status: Any, error: str) -> DemoResult:
        return DemoResult.failure(
            demo_id, params, seed, time.perf_counter() - started, status, error
        )

    try:
        if cancelled():
            raise Cancelled
        module = importlib.import_module(module_name)
        output = module.run(dict(params), seed, reporter)
        elapsed = time.perf_counter() - started
        if not isinstance(output, DemoOutput):
            result = failure(
                "error", f"the demo returned {type(output).__name__}, not a DemoOutput"
            )
        elif bad := non_finite_fields(output):
            result = failure("error", f"the demo produced NaN or infinity in {', '.join(bad)}")
        elif wrong := claim_problems(output):
            result = failure("error", f"the demo's claims are incomplete: {'; '.join(wrong)}")
        elif wrong := answer_problems(output, questions := _questions(module)):
            result = failure("error", f"the demo's answers are wrong: {'; '.join(wrong)}")
        else:
            result = DemoResult.from_output(
                demo_id, params, seed, elapsed, output, versions, questions
            )
    except Cancelled:
        result = failure("cancelled", "the run was cancelled")
    except Exception as exc:
        result = failure("error", describe(exc, module_name))
    result.versions = versions
    try:
        return json.dumps(result.to_dict(), allow_nan=False, default=_plain)
    except ValueError:
        bad_result = failure("error", "the demo produced NaN or infinity")
    except TypeError as exc:
        bad_result = failure("error", f"the demo returned values that are not plain data ({exc})")
    bad_result.versions = versions
    return json.dumps(bad_result.to_dict())


def _questions(module: Any) -> tuple[Any, ...]:
    """The prediction questions of the demo's spec, which every run must answer."""
    spec = getattr(module, "SPEC", None)
    return spec.questions if isinstance(spec, DemoSpec) else ()


def describe(exc: BaseException, module_name: str) -> str:
    """One line for a demo's exception: its type, message and the demo line that raised it."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    module = sys.modules.get(module_name)
    folder = Path(module.__file__).parent if module is not None and module.__file__ else None
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename)
        if folder is not None and path.parent == folder:
            return f"{text} (at {path.name} line {frame.lineno})"
    return text


def library_versions() -> dict[str, str]:
    """The versions that produced a result, read without importing the libraries."""
    versions = {"python": platform.python_version(), "studyapp": __version__}
    for name in ("torch", "numpy"):
        module = sys.modules.get(name)
        version = getattr(module, "__version__", None)
        if version is None:
            try:
                version = metadata.version(name)
            except metadata.PackageNotFoundError:
                version = "not installed"
        versions[name] = str(version)
    return versions


class _Reporter:
    """The `progress` a demo calls: raises `Cancelled` on cancel, streams progress at a
    bounded rate."""

    def __init__(self, cancelled: Callable[[], bool], send: Send) -> None:
        self._cancelled = cancelled
        self._send = send
        self._last = -math.inf

    def __call__(
        self, done: float, message: str = "", series: Mapping[str, Any] | None = None
    ) -> None:
        if self._cancelled():
            raise Cancelled
        now = time.monotonic()
        if now - self._last < PROGRESS_INTERVAL_S:
            return
        self._last = now
        self._send(("progress", float(done), str(message), _plain_series(series)))


def _plain_series(series: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Progress curves as plain floats, so the app can unpickle them without torch."""
    if series is None:
        return None
    try:
        return json.loads(json.dumps(dict(series), default=_plain))
    except (TypeError, ValueError):
        return None


def _plain(value: Any) -> Any:
    """JSON for the numbers demos tend to leave in their output (numpy and torch scalars)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "__float__"):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not a number, text or list")


def _limit_threads(threads: int | None) -> None:
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads or os.cpu_count() or 1)


def _silence_output() -> None:
    """Send the worker's own stdout and stderr (library warnings) nowhere: the app owns the
    terminal, and every failure reaches it as a result."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        with suppress(OSError):
            os.dup2(devnull, fd)
    os.close(devnull)
