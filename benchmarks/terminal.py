"""A program on a pseudo-terminal of a fixed size, driven and watched as a user would.

`Terminal` starts a program on a pty (as tmux would), sends keys and waits for patterns in
what it paints; the hardening tests drive the app with it. `first_paint` times a program
from its start to a marker on screen, and reads its peak memory, for the benchmarks.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType


class Terminal:
    def __init__(
        self,
        argv: Sequence[str],
        columns: int = 100,
        lines: int = 30,
        env: dict[str, str] | None = None,
    ) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        environ = {**(env if env is not None else os.environ), "TERM": "xterm-256color"}
        self.process = subprocess.Popen(
            list(argv), stdin=slave, stdout=slave, stderr=slave, env=environ, start_new_session=True
        )
        os.close(slave)
        self._master = master
        self._pending = b""
        self.seen = b""  # everything painted so far, for failure messages

    def send(self, keys: str) -> None:
        os.write(self._master, keys.encode())

    def wait_for(
        self,
        pattern: bytes,
        accept: Callable[[re.Match[bytes]], bool] = lambda _match: True,
        timeout_s: float = 30.0,
    ) -> re.Match[bytes]:
        """The first match of `pattern` in output not yet consumed that `accept` takes.

        Output up to the end of that match is consumed, so the next wait sees only what the
        program painted after it.
        """
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout_s
        while True:
            for match in regex.finditer(self._pending):
                if accept(match):
                    self._pending = self._pending[match.end() :]
                    return match
            if time.monotonic() > deadline:
                raise TimeoutError(f"{pattern!r} did not show; last output: {self.seen[-1500:]!r}")
            if self.process.poll() is not None and not self._readable(0):
                raise RuntimeError(
                    f"the program ended ({self.process.returncode}): {self.seen[-1500:]!r}"
                )
            if self._readable(0.1):
                try:
                    chunk = os.read(self._master, 1 << 16)
                except OSError:
                    chunk = b""
                self._pending += chunk
                self.seen = (self.seen + chunk)[-(1 << 20) :]

    def _readable(self, timeout_s: float) -> bool:
        ready, _, _ = select.select([self._master], [], [], timeout_s)
        return bool(ready)

    def kill(self) -> int:
        """SIGKILL, as `kill -9` would; returns the exit status."""
        self.process.send_signal(signal.SIGKILL)
        return self.process.wait(timeout=10)

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        os.close(self._master)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()


@dataclass(frozen=True)
class Paint:
    seconds: float
    peak_rss_mb: float | None


def peak_rss_mb(pid: int) -> float | None:
    """A process's peak resident memory so far (VmHWM), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def first_paint(
    argv: Sequence[str],
    marker: bytes,
    columns: int = 100,
    lines: int = 30,
    timeout_s: float = 120.0,
    settle_s: float = 0.5,
) -> Paint:
    """Seconds from starting `argv` on a pty until `marker` shows, and its peak memory."""
    start = time.perf_counter()
    with Terminal(argv, columns, lines) as terminal:
        terminal.wait_for(re.escape(marker), timeout_s=timeout_s)
        elapsed = time.perf_counter() - start
        with contextlib.suppress(TimeoutError, RuntimeError):
            terminal.wait_for(b"(?!)", timeout_s=settle_s)  # let it finish the frame
        return Paint(elapsed, peak_rss_mb(terminal.process.pid))
