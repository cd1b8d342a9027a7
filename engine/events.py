"""The engine's event stream.

Events are small immutable dataclasses.  The engine emits them from its
worker thread; subscribers are plain callables and the engine never knows who
listens (the CLI's progress bar, the run store, the GUI bridge, a test).
A subscriber must be quick: anything slow belongs behind a queue.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.names import NodeStatus, RunStatus

log = logging.getLogger(__name__)


def _now() -> float:
    return time.time()


@dataclass(frozen=True)
class Event:
    time: float = field(default_factory=_now, kw_only=True)


@dataclass(frozen=True)
class RunStarted(Event):
    run_id: str
    run_dir: str
    device: str
    device_reason: str
    workflow_name: str


@dataclass(frozen=True)
class RunFinished(Event):
    run_id: str
    status: RunStatus
    message: str = ""


@dataclass(frozen=True)
class NodeState(Event):
    node_id: str
    state: NodeStatus
    message: str = ""


@dataclass(frozen=True)
class Progress(Event):
    """Where a long step is: drives progress bars, ETA and samples/s."""

    node_id: str
    fraction: float  # 0..1
    step: int = 0
    total_steps: int = 0
    epoch: int = 0
    total_epochs: int = 0
    samples_per_s: float = 0.0
    eta_s: float | None = None
    memory_mb: float | None = None  # accelerator memory in use, where known


@dataclass(frozen=True)
class MetricPoint(Event):
    node_id: str
    name: str
    step: int
    epoch: int
    value: float


@dataclass(frozen=True)
class ImageReady(Event):
    """A picture to show: a sample grid, a preview, a confusion matrix.

    ``pixels`` is an HxWxC uint8 numpy array ready to display; ``path`` is the
    PNG in the run folder when one was written.
    """

    node_id: str
    name: str
    step: int
    pixels: Any
    path: str = ""


@dataclass(frozen=True)
class TextReady(Event):
    """Text to show: a language model's samples at ``step``; ``path`` is the file in the run folder, if any."""

    node_id: str
    name: str
    step: int
    text: str
    path: str = ""


@dataclass(frozen=True)
class LogLine(Event):
    level: str  # "debug" | "info" | "warning" | "error"
    message: str
    node_id: str = ""


@dataclass(frozen=True)
class ArtifactSaved(Event):
    node_id: str
    kind: str  # "checkpoint" | "samples" | "confusion_matrix" | "weights" | ...
    path: str


@dataclass(frozen=True)
class NodeReport(Event):
    """Structured facts a node wants kept in run.json (counts, metrics, skipped files)."""

    node_id: str
    report: dict[str, Any]


@dataclass(frozen=True)
class SpeedChosen(Event):
    """How a training node goes fast (engine.training.speed), each choice with its reason; kept in run.json
    under the node, as ``speed``."""

    node_id: str
    choices: dict[str, Any]


@dataclass(frozen=True)
class Rewind(Event):
    """A resumed node continues from ``step``: drop its points after that step.

    Emitted by a training loop that restores a checkpoint, so curves (in
    metrics.csv and on screen) continue without a repeat or a gap.
    """

    node_id: str
    step: int


Subscriber = Callable[[Event], None]


class EventBus:
    """Fan-out of events to subscribers; a failing subscriber never breaks a run."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(fn)

        def unsubscribe() -> None:
            with self._lock:
                if fn in self._subscribers:
                    self._subscribers.remove(fn)

        return unsubscribe

    def emit(self, event: Event) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for fn in subscribers:
            try:
                fn(event)
            except Exception:  # a broken listener must not kill training
                log.exception("event subscriber %r failed on %s", fn, type(event).__name__)
