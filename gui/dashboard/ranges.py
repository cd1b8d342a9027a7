"""Axis ranges that follow the data in steps, so axes (and their text) are not redrawn every frame.

A plot's view widens, with headroom, only when data leaves it: x to the next
1, 2 or 5 times a power of ten past 1.3x the last step, y with 15 % margins.
It is fitted tightly only when asked (Auto-range, switching log y).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from gui.dashboard.groups import SCORES_GROUP
from gui.dashboard.series import Series


def y_is_log(group: str, log_y: bool) -> bool:
    """Whether ``group``'s plot draws y on a log scale while the "log y" box is ``log_y``."""
    return log_y and group != SCORES_GROUP


def nice_ceiling(value: float) -> float:
    """The next 1, 2 or 5 times a power of ten at or above ``value``."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= value)


def data_bounds(series: Iterable[Series], log: bool) -> tuple[float, float, float, float] | None:
    """(x0, x1, y0, y1) that hold every finite point of ``series`` (y as log10 on a log plot); None if none."""
    import numpy as np

    xs, lows, highs = [], [], []
    for one in series:
        if not one.n:
            continue
        x, y = one.arrays()
        y = y[np.isfinite(y)]
        if log:
            y = np.log10(y[y > 0])
        if len(y):
            xs.append(x[-1])
            lows.append(float(y.min()))
            highs.append(float(y.max()))
    if not xs:
        return None
    return float(min(0.0, min(xs))), float(max(xs)), min(lows), max(highs)


def follow(plot: Any, bounds: tuple[float, float, float, float] | None, tight: bool = False) -> None:
    """Keep ``bounds`` in ``plot``'s view, widening the range with headroom only when data leaves it."""
    if bounds is None:
        return
    x0, x1, y0, y1 = bounds
    (vx0, vx1), (vy0, vy1) = plot.vb.viewRange()
    span = max(y1 - y0, abs(y1) * 0.05, 1e-6)
    if tight or x1 > vx1 or vx1 > 4 * max(x1, 10):
        plot.setXRange(x0, nice_ceiling(max(x1, 10) * 1.3), padding=0)
    if tight or y0 < vy0 or y1 > vy1:
        plot.setYRange(y0 - 0.15 * span, y1 + 0.15 * span, padding=0)
