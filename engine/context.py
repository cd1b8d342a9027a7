"""What a running step sees: its params and inputs, and the ways to speak.

A step never touches the event bus, the run folder layout or the thread
machinery directly; it calls the helpers here.  That keeps steps short and
lets the runner change how things are delivered without touching them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import events as ev
from engine.errors import RunStopped, UserInputError


def path_in_run(run_dir: Path, *parts: str) -> Path:
    """``run_dir/parts...``, refused unless it stays inside the run folder.

    The one gate for paths a step writes: a node id or file name that is
    absolute, climbs with ``..`` or leads through a symlink out of the run
    folder raises instead of writing elsewhere (a run folder is sacred, and
    so is everything outside it).
    """
    root = Path(run_dir).resolve()
    path = Path(run_dir).joinpath(*parts)
    resolved = path.resolve()
    inside = root in resolved.parents or (resolved == root and not any(parts))
    if not inside:
        raise UserInputError(
            f"refused to write {path}: it is outside the run folder {run_dir} — node ids and file names "
            "must be plain names"
        )
    return path


USER_STOP = "stopped by the user"


class RunControl:
    """Cooperative pause/stop shared by the runner, its caller and the steps.

    Steps call :meth:`check` between batches.  Stop is answered at the next
    check (well under a second for any sane batch); pause blocks there until
    resumed or stopped.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self.stop_reason = USER_STOP

    def stop(self, reason: str = "") -> None:
        """Stop at the next check; *reason* (e.g. a sweep's pruning) replaces "stopped by the user" in the record."""
        if not self._stop.is_set():
            self.stop_reason = reason or USER_STOP
        self._stop.set()
        self._running.set()  # wake a paused step so it can see the stop

    def pause(self) -> None:
        if not self._stop.is_set():
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def check(self) -> None:
        """Raise :class:`RunStopped` if stop was asked; block while paused."""
        if self._stop.is_set():
            raise RunStopped(self.stop_reason)
        while not self._running.wait(0.1):
            pass
        if self._stop.is_set():
            raise RunStopped(self.stop_reason)


@dataclass
class StepContext:
    """Everything one step execution needs; built by the runner per node."""

    node_id: str
    params: dict[str, Any]
    inputs: dict[str, Any]
    device: str  # "cpu" | "cuda" | "cuda:1" | "mps"
    run_dir: Path
    bus: ev.EventBus
    control: RunControl
    resume_dir: Path | None = None  # a previous run folder to continue from
    _last_progress: float = field(default=0.0, repr=False)

    # -- files -------------------------------------------------------------
    @property
    def node_dir(self) -> Path:
        """This node's folder inside the run folder (created on first use; never outside it)."""
        path = path_in_run(self.run_dir, self.node_id)
        path.mkdir(parents=True, exist_ok=True)
        return path

    # -- control -----------------------------------------------------------
    def check(self) -> None:
        self.control.check()

    @property
    def stop_requested(self) -> bool:
        return self.control.stop_requested

    # -- speaking ------------------------------------------------------------
    def log(self, message: str, level: str = "info") -> None:
        self.bus.emit(ev.LogLine(level=level, message=message, node_id=self.node_id))

    def metric(self, name: str, value: float, step: int, epoch: int = 0) -> None:
        self.bus.emit(
            ev.MetricPoint(node_id=self.node_id, name=name, step=step, epoch=epoch, value=float(value))
        )

    def progress(self, fraction: float, *, force: bool = False, **details: Any) -> None:
        """Report progress, at most ~10 times a second unless ``force``."""
        now = time.monotonic()
        if not force and now - self._last_progress < 0.1 and fraction < 1.0:
            return
        self._last_progress = now
        self.bus.emit(ev.Progress(node_id=self.node_id, fraction=min(max(fraction, 0.0), 1.0), **details))

    def image(self, name: str, pixels: Any, step: int = 0, path: Path | None = None) -> None:
        """Show an HxWxC uint8 array; ``path`` is the PNG already saved, if any."""
        self.bus.emit(
            ev.ImageReady(node_id=self.node_id, name=name, step=step, pixels=pixels, path=str(path or ""))
        )
        if path is not None:
            self.artifact(name, path)

    def text(self, name: str, text: str, step: int = 0, path: Path | None = None) -> None:
        """Show text (a language model's samples); ``path`` is the file already saved, if any."""
        self.bus.emit(ev.TextReady(node_id=self.node_id, name=name, step=step, text=text, path=str(path or "")))
        if path is not None:
            self.artifact(name, path)

    def artifact(self, kind: str, path: Path) -> None:
        self.bus.emit(ev.ArtifactSaved(node_id=self.node_id, kind=kind, path=str(path)))

    def report(self, **facts: Any) -> None:
        """Keep structured facts (counts, metrics) in this node's run.json entry."""
        self.bus.emit(ev.NodeReport(node_id=self.node_id, report=facts))

    def rewind(self, step: int) -> None:
        """This node continues from ``step`` (a resumed checkpoint): its curve points after it are dropped."""
        self.bus.emit(ev.Rewind(node_id=self.node_id, step=step))
