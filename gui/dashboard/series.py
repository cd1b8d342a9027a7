"""One metric curve's data: the points as they arrive, and their smoothed twin.

Kept free of Qt and pyqtgraph so the numbers a plot shows (appends, the EMA,
rewinds) can be reasoned about and tested alone; :mod:`gui.dashboard.curves`
only hands a :class:`Series`' arrays to its pyqtgraph item.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class Series:
    """One curve: growing numpy buffers (amortised O(1) appends) and an incremental EMA."""

    def __init__(self, node_id: str, name: str, item: Any) -> None:
        import numpy as np

        self.node_id, self.name, self.item = node_id, name, item
        self.label = name  # as the plot's legend names it
        self._x = np.empty(256)
        self._y = np.empty(256)
        self._s = np.empty(256)
        self.n = 0
        self.alpha = 0.0
        self._acc = self._weight = 0.0
        self.dirty = False

    @property
    def steps(self) -> Any:
        return self._x[: self.n]

    @property
    def values(self) -> Any:
        return self._y[: self.n]

    def append(self, step: float, value: float) -> None:
        import numpy as np

        if self.n == len(self._x):
            self._x, self._y, self._s = (np.resize(a, 2 * len(a)) for a in (self._x, self._y, self._s))
        self._x[self.n], self._y[self.n] = step, value
        self._acc = self.alpha * self._acc + (1 - self.alpha) * value
        self._weight = self.alpha * self._weight + (1 - self.alpha)
        self._s[self.n] = self._acc / self._weight  # debiased, as TensorBoard does
        self.n += 1
        self.dirty = True

    def extend(self, steps: Any, values: Any) -> None:
        """Load a whole finished series at once (a previous run's overlay)."""
        for step, value in zip(steps, values, strict=True):
            self.append(step, value)

    def truncate(self, keep: int) -> None:
        self.n = min(self.n, keep)
        self.set_smoothing(self.alpha)

    def set_smoothing(self, alpha: float) -> None:
        """Recompute the smoothed curve for a new slider value (O(n), once)."""
        self.alpha = alpha
        values = self.values.copy()
        self.n, self._acc, self._weight = 0, 0.0, 0.0
        for i, v in enumerate(values):
            self.append(self._x[i], v)

    def arrays(self, smoothing: float | None = None) -> tuple[Any, Any]:
        x = self._x[: self.n].copy()
        y = (self._s if self.alpha > 0 else self._y)[: self.n].copy()
        return x, y


def reading(series: Iterable[Series], step: float) -> str:
    """Each curve's point nearest ``step``, as the hover readout above the plots shows it."""
    import numpy as np

    parts = []
    for one in series:
        if not one.n:
            continue
        x, y = one.arrays()
        i = int(np.clip(np.searchsorted(x, step), 0, len(x) - 1))
        parts.append(f"{one.name} {y[i]:.4g} @ step {int(x[i])}")
    return " · ".join(parts)
