"""Python's cycle collector runs on the GUI thread only, while the app runs.

Automatic garbage collection runs in whichever thread happens to allocate when
a threshold is crossed.  When that is the engine's worker thread and the
garbage holds Qt wrappers (plot items of a cleared dashboard, a closed
dialog's widgets), their destructors reach into Qt from the wrong thread while
the GUI thread, inside a Qt call, waits for the GIL: the window freezes for
good.  The test suite caught exactly that: the runner stuck in
``json.dumps`` of run.json (a collection mid-way) and the GUI thread stuck in
pyqtgraph's ``AxisItem`` building a new plot.

So the app turns automatic collection off and collects on a GUI-thread timer,
the generation the usual thresholds call for, a few times a second.  Reference
counting still frees almost everything at once (tensors, batches); only cycles
wait for the timer.  ``loom run`` and other headless uses keep Python's default.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 250  # how long cyclic garbage may wait: short enough that memory never piles up


class GuiThreadCollector(QObject):
    """Collect cyclic garbage from a timer on the thread that owns this object (the GUI thread)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.collect_due)
        self.timer.start(interval_ms)
        self.destroyed.connect(gc.enable)  # an app torn down (tests) leaves Python as it found it

    def collect_due(self) -> int:
        """Collect the oldest generation whose count passed its threshold (as the automatic collector would)."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self.thresholds[generation]:
                return gc.collect(generation)
        return 0


def install(app: QObject) -> GuiThreadCollector:
    """Give ``app`` its collector once (calling again returns the same one)."""
    existing = app.findChild(GuiThreadCollector)
    return existing if existing is not None else GuiThreadCollector(app)
