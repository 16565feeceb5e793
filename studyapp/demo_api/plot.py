"""A demo result's series on a plotext chart, drawn alike in the app and on the command line.

Takes the plotext module or figure to draw on, so this module imports no plotting library.
Labels can come from a cached result stored in the collection, so they are drawn visible
(`studyapp.terminal`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from studyapp.demo_api.result import PlotSpec
from studyapp.terminal import one_line

_MAX_LOG_TICKS = 6  # a log axis over more decades than this labels every few, 6 or 7 in all
# Curve markers where there is no colour (NO_COLOR, a pipe): a shape each, in the plot and in
# its legend.
PLAIN_MARKERS = ("•", "x", "+", "o", "*", "#", "@", "%")


def curve_points(value: Any) -> tuple[list[float], list[float]]:
    """A series is its y values (x = 0, 1, ...) or a mapping with "x" and "y"."""
    if isinstance(value, Mapping):
        ys = [float(y) for y in value.get("y", [])]
        xs = [float(x) for x in value.get("x", range(len(ys)))]
        return xs[: len(ys)], ys[: len(xs)]
    ys = [float(y) for y in value]
    return [float(x) for x in range(len(ys))], ys


def log_ticks(low: float, high: float, max_ticks: int = _MAX_LOG_TICKS + 1) -> list[float]:
    """Tick positions in log10 units for data from `low` to `high`: the whole decades within
    it (or a little beyond: a twentieth of its span, at most half a decade), or a few even
    steps if there are fewer than two; at most `max_ticks` of them (at least 2).

    A tick further outside the data would be drawn outside the plot, over its title. Over
    many decades every few of them, counted from the top one, so the labels stay apart on a
    short axis: two labels on one row of a short plot would run together ("0.011.0").
    """
    max_ticks = max(2, max_ticks)
    slack = min((high - low) / 20, 0.5)
    decades = list(range(math.ceil(low - slack), math.floor(high + slack) + 1))
    if len(decades) >= 2:
        every = max(1, math.ceil((len(decades) - 1) / min(_MAX_LOG_TICKS, max_ticks - 1)))
        return [float(d) for d in decades[::-every][::-1]]
    steps = min(4, max_ticks - 1)
    step = (high - low) / steps or 1.0
    return [low + i * step for i in range(steps + 1)]


def tick_label(log_value: float) -> str:
    """The value at a log10 tick, short: 0.01, 1e-20, 3.16e+05."""
    value = 10**log_value
    return f"{value:.3g}" if 1e-3 <= value < 1e5 else f"{value:.2g}"


def plot_series(
    plt: Any,
    series: Mapping[str, Any],
    spec: PlotSpec | None,
    marker: Callable[[int], str | None] = lambda _: None,
    max_ticks: int = _MAX_LOG_TICKS + 1,
    color: Any = None,
) -> bool:
    """Draw every curve of `series` on `plt`; False if there was nothing to draw.

    `max_ticks` bounds the ticks of a log y axis: about one every two rows of the plot.
    `color`, when given, draws every curve in it (without colour they differ by marker, and
    each stays as visible as the text).

    A log y axis is drawn as log10 of the values with ticks labelled in the values themselves
    (plotext's own log scale labels ticks with every digit, and re-applies itself on each
    redraw); points at or below zero, which a log axis cannot show, are left out.
    """
    log_y = spec is not None and spec.log_y
    drawn: list[float] = []
    for i, (label, value) in enumerate(series.items()):
        xs, ys = curve_points(value)
        if log_y:
            kept = [(x, math.log10(y)) for x, y in zip(xs, ys, strict=True) if y > 0]
            xs, ys = [x for x, _ in kept], [y for _, y in kept]
        if ys:
            style = {} if color is None else {"color": color}
            plt.plot(xs, ys, label=one_line(str(label)), marker=marker(i), **style)
            drawn += ys
    if not drawn:
        return False
    if spec is not None:
        if spec.title:
            plt.title(one_line(spec.title))
        plt.xlabel(one_line(spec.x_label))
        plt.ylabel(one_line(f"{spec.y_label} (log scale)" if log_y else spec.y_label))
    if log_y:
        ticks = log_ticks(min(drawn), max(drawn), max_ticks)
        plt.yticks(ticks, [tick_label(t) for t in ticks])
    return True
