"""The range test's arithmetic: the learning-rate ramp, the smoothed loss, divergence and the suggestion.

Pure functions of plain lists, kept apart from torch so the rules can be
tested (and read) on their own.  They follow the range test of Leslie Smith
("Cyclical Learning Rates for Training Neural Networks", 2017) as fastai and
Lightning run it: the rate grows geometrically, the loss is smoothed by an
exponential moving average with bias correction (an EMA started at zero
reads too low for its first steps without it), the test stops when the
smoothed loss passes ``DIVERGE_FACTOR`` times the best seen, and the
suggestion is the rate where the smoothed loss falls fastest, looked for
only before the loss's minimum: beyond it the loss is already climbing, and
a rate there trains unstably.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

DIVERGE_FACTOR = 4.0
DEFAULT_BETA = 0.98


def lr_ramp(start_lr: float, end_lr: float, steps: int) -> list[float]:
    """``steps`` rates from ``start_lr`` to ``end_lr``, each the previous times a constant factor."""
    if steps < 2:
        return [float(start_lr)]
    ratio = (end_lr / start_lr) ** (1.0 / (steps - 1))
    return [float(start_lr * ratio**i) for i in range(steps)]


class Smoother:
    """An exponential moving average with bias correction, fed one raw loss at a time."""

    def __init__(self, beta: float = DEFAULT_BETA) -> None:
        self.beta = beta
        self.average = 0.0
        self.count = 0

    def add(self, value: float) -> float:
        """Take ``value``; the smoothed loss so far."""
        self.count += 1
        self.average = self.beta * self.average + (1.0 - self.beta) * value
        return self.average / (1.0 - self.beta**self.count)


def smooth(values: Sequence[float], beta: float = DEFAULT_BETA) -> list[float]:
    smoother = Smoother(beta)
    return [smoother.add(v) for v in values]


def has_diverged(smoothed: float, best: float, factor: float = DIVERGE_FACTOR) -> bool:
    """The smoothed loss is no number any more, or it has grown past ``factor`` times the best so far."""
    return not math.isfinite(smoothed) or smoothed > factor * best


def suggest(lrs: Sequence[float], smoothed: Sequence[float]) -> tuple[float, str]:
    """The suggested rate and how it was chosen: ``"steepest"`` or ``"minimum/10"``.

    The steepest descent is measured against log10(lr) (the ramp is even
    there) by central differences, from the tenth of the curve on (the first
    steps barely train, and their slopes are noise) up to the minimum of the
    smoothed loss.  When that stretch is too short or never falls, the rate
    of the lowest loss divided by ten is the classic rule of thumb.
    """
    if not lrs:
        raise ValueError("no points on the curve")
    lowest = min(range(len(smoothed)), key=smoothed.__getitem__)
    fallback = lrs[lowest] / 10.0
    start = max(1, len(lrs) // 10)
    if lowest - start < 2:
        return fallback, "minimum/10"
    logs = [math.log10(lr) for lr in lrs]
    best_i, best_slope = -1, 0.0
    for i in range(start, lowest):
        slope = (smoothed[i + 1] - smoothed[i - 1]) / (logs[i + 1] - logs[i - 1])
        if slope < best_slope:
            best_i, best_slope = i, slope
    if best_i < 0:
        return fallback, "minimum/10"
    return lrs[best_i], "steepest"


def round_lr(lr: float) -> float:
    """Two significant digits: what a person would type, and all the test's precision supports."""
    return float(f"{lr:.2g}")
