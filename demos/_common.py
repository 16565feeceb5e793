"""Helpers shared by the demos. Torch is imported inside the functions, never at module level."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any


def setup(seed: int, device: str = "cpu") -> tuple[Any, Any]:
    """Seed torch and pick the device; returns `(torch, device)`.

    `device` is "cpu", "cuda" or "auto" (cuda when available). Asking for cuda on a machine
    without it is an error the runner reports, not a silent fall-back.
    """
    import torch

    torch.manual_seed(seed)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device=cuda was asked for, but this machine has no CUDA device")
    return torch, torch.device(device)


DATA_STREAM = 0x5EED_DA7A


def generator(seed: int) -> Any:
    """A torch.Generator on the CPU for data made in code, seeded from `seed`.

    Its stream is derived from `seed` rather than equal to it: `torch.manual_seed(seed)` seeds
    the weights, and data drawn from the very same stream would repeat the weights' numbers.
    """
    import torch

    g = torch.Generator()
    g.manual_seed((seed * 1_000_003 + DATA_STREAM) % 2**63)
    return g


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one CPU thread for the block.

    The demos' tensors are small: a thread pool costs more than the math, and on a busy
    machine extra threads wait on each other far longer than the work takes.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def floats(values: Iterable[Any], digits: int = 6) -> list[float]:
    """Plain finite floats for series and tables (rounded to `digits` significant digits)."""
    out = []
    for v in values:
        x = float(v)
        out.append(float(f"{x:.{digits}g}") if math.isfinite(x) else x)
    return out


def fmt(x: float) -> str:
    """A number as a claim sentence shows it: 3 significant digits."""
    if x == 0:
        return "0"
    if abs(x) >= 1e4 or abs(x) < 1e-3:
        return f"{x:.2e}"
    return f"{x:.3g}"


def first_below(values: Sequence[float], target: float) -> int | None:
    """The first index at which `values` drops to or below `target`, or None."""
    for i, v in enumerate(values):
        if v <= target:
            return i
    return None


class Ticker:
    """Counts units of work and reports progress about `times` times over `total` units.

    `message` is a fixed text or a function of the units done; `series`, if given, returns
    the curves so far for a live plot.
    """

    def __init__(
        self,
        progress: Any,
        total: int,
        message: str | Callable[[int], str] = "",
        series: Callable[[], Any] | None = None,
        times: int = 50,
    ) -> None:
        self.progress = progress
        self.total = max(1, total)
        self.message = message
        self.series = series
        self.every = report_every(total, times)
        self.done = 0

    def __call__(self) -> None:
        self.done += 1
        if self.done % self.every == 0:
            text = self.message(self.done) if callable(self.message) else self.message
            partial = self.series() if self.series is not None else None
            self.progress(min(self.done / self.total, 1.0), text, partial)


def report_every(total: int, times: int = 50) -> int:
    """How many steps between progress reports so a run reports about `times` times."""
    return max(1, total // times)
