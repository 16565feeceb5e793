"""Numbers read from files and typed by users."""

from __future__ import annotations

import math


def is_finite(value: int | float) -> bool:
    """Whether `value` is a finite number: a whole number always is, however long it is
    (and `math.isfinite` cannot take one beyond the largest float)."""
    return isinstance(value, int) or math.isfinite(value)
