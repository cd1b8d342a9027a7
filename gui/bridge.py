"""The one place where engine events cross into the GUI thread.

The engine calls :meth:`EventBridge.post` on its worker thread; ``post`` only
appends to a deque (no Qt call, no allocation beyond the event), so training
never waits for the GUI.  A timer on the GUI thread drains the deque at most
``rate_hz`` times a second and emits one ``batch`` signal with the events,
coalesced: only the newest Progress per node survives, while metric points,
images and log lines are all kept (curves need every point).  So the GUI
redraws at most ~20 times a second whatever the event rate.
"""

from __future__ import annotations

import threading
from collections import deque

from PySide6.QtCore import QObject, QTimer, Signal

from engine import events as ev

DEFAULT_RATE_HZ = 20


class EventBridge(QObject):
    batch = Signal(list)  # list[engine.events.Event], in arrival order, coalesced

    def __init__(self, parent: QObject | None = None, rate_hz: int = DEFAULT_RATE_HZ) -> None:
        super().__init__(parent)
        self._queue: deque[ev.Event] = deque()
        self._lock = threading.Lock()
        self.timer = QTimer(self)
        self.timer.setInterval(max(1, int(1000 / rate_hz)))
        self.timer.timeout.connect(self.flush)
        self.batches_emitted = 0
        self.events_received = 0

    def post(self, event: ev.Event) -> None:
        """Any thread: queue an event for the next GUI frame (the engine's subscriber)."""
        with self._lock:
            self._queue.append(event)

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        """Deliver what is left and stop ticking."""
        self.flush()
        self.timer.stop()

    def flush(self) -> None:
        with self._lock:
            if not self._queue:
                return
            pending = list(self._queue)
            self._queue.clear()
        self.events_received += len(pending)
        self.batches_emitted += 1
        self.batch.emit(coalesce(pending))


def coalesce(events: list[ev.Event]) -> list[ev.Event]:
    """Drop superseded Progress events (keep the newest per node); keep everything else in order."""
    last_progress: dict[str, int] = {}
    for i, event in enumerate(events):
        if isinstance(event, ev.Progress):
            last_progress[event.node_id] = i
    return [
        e for i, e in enumerate(events)
        if not isinstance(e, ev.Progress) or last_progress.get(e.node_id) == i
    ]
