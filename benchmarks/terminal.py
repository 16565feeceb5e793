"""Time a terminal program to its first paint of a given text, in a real pseudo-terminal.

The program gets a pty of a fixed size, as it would in tmux; the clock runs from just before
the process is started until the marker text appears in what it wrote to the terminal. Its
peak resident memory is read from /proc just before it is stopped.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Paint:
    seconds: float
    peak_rss_mb: float | None


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def first_paint(
    argv: list[str],
    marker: bytes,
    columns: int = 100,
    lines: int = 30,
    timeout_s: float = 120.0,
    settle_s: float = 0.5,
) -> Paint:
    """Start `argv` on a pty and return the time until `marker` shows, and its peak RSS."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(lines)}
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    seen = b""
    elapsed: float | None = None
    try:
        while elapsed is None:
            if time.perf_counter() - start > timeout_s:
                raise TimeoutError(f"{argv[0]} did not show {marker!r} in {timeout_s} s")
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                if proc.poll() is not None:
                    raise RuntimeError(f"{argv} ended before painting: {seen[-2000:]!r}")
                continue
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:
                chunk = b""
            seen = (seen + chunk)[-(1 << 20) :]
            if marker in seen:
                elapsed = time.perf_counter() - start
        # Let it finish the frame and settle, then read its peak memory.
        deadline = time.perf_counter() + settle_s
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    os.read(master, 1 << 16)
                except OSError:
                    break
        rss = _peak_rss_mb(proc.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)
    return Paint(elapsed, rss)
