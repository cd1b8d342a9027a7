"""Starting and steering runs from the GUI: the engine on its worker thread, events via the bridge.

The engine is created lazily on the first Run (importing it is cheap, but its
steps pull in torch), and kept for the session so repeated runs reuse cached
nodes.  Everything the engine says arrives as coalesced batches on the GUI
thread; the controller tracks the run state for menus and the status bar.
Nothing here waits for the worker: the end of a run is the ``finished``
signal (closing the window awaits it, see ``MainWindow.closeEvent``).

The controller learns that a run ended from the engine itself (its handle:
the worker is done, its folder lock released, run.json written), not from
whatever the next coalesced batch happens to hold: every bridge tick asks the
handle, and :meth:`RunController.settle` asks it at once for callers that must
know this instant (closing the window right after ``handle.wait()``).  So once
``finished`` has been emitted the phase is IDLE, a Continue can lock the
folder, and closing the window asks nothing.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from engine.names import RunStatus, TextEnum
from gui.bridge import EventBridge
from gui.paths import runs_root


class RunPhase(TextEnum):
    """What the window's run controller is doing (not a node's or a run's status: see engine.names)."""

    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"


_threads_set = False


def leave_a_core_for_the_ui() -> None:
    """Cap torch's intra-op threads at (cores - 1), once per process (the engine's policy: engine.threads).

    With every core busy in torch's thread pool, the GUI thread competes with
    spinning workers: redraws stall, and on a loaded machine training itself
    slows down several-fold.  One core for the window keeps both smooth.
    """
    global _threads_set
    if _threads_set:
        return
    _threads_set = True
    from engine import threads  # imports torch only when it acts: never at start-up

    threads.apply(threads.for_the_app())


class RunController(QObject):
    state_changed = Signal(str)  # a RunPhase value
    events = Signal(list)  # coalesced engine events, on the GUI thread
    finished = Signal(str, str)  # status, message
    started = Signal(str)  # the run folder, as soon as the engine accepted the run

    def __init__(self, parent: QObject | None = None, rate_hz: int = 20) -> None:
        super().__init__(parent)
        self.bridge = EventBridge(self, rate_hz)
        self.bridge.batch.connect(self._on_batch)
        self.bridge.timer.timeout.connect(self.settle)  # after the bridge's own flush on each tick
        self._engine = None
        self.handle = None
        self.state = RunPhase.IDLE
        self.run_dir: Path | None = None
        self.last_status: RunStatus | str = ""

    @property
    def engine(self):
        if self._engine is None:
            from engine.run_index import RunIndex
            from engine.runner import Engine

            self._engine = Engine(index=RunIndex())
        return self._engine

    @property
    def active(self) -> bool:
        return self.state != RunPhase.IDLE

    def start(self, workflow, out_dir: str | Path | None = None, device: str = "auto",
              resume_from: str | Path | None = None, processes: int = 1):
        """Validate and start (``resume_from``: continue that run folder from its checkpoints).

        ``processes`` > 1 trains on that many processes (``loom run --nproc``), followed through the run folder.

        Raises ``engine.runner.WorkflowInvalid`` (``RunRefused`` for a folder
        that cannot be continued) before anything starts.
        """
        self.settle()
        if self.active:
            raise RuntimeError("a run is already in progress")
        leave_a_core_for_the_ui()
        handle = self.engine.start(workflow, out_dir=out_dir, runs_root=runs_root(), device=device,
                                   on_event=self.bridge.post, resume_from=resume_from, processes=processes)
        self.handle = handle
        self.run_dir = handle.run_dir
        self.last_status = ""
        self.bridge.start()
        self._set_state(RunPhase.RUNNING)
        self.started.emit(str(handle.run_dir))
        return handle

    def settle(self) -> None:
        """Finish now if the engine's worker is done: nobody then sees as active a run that is over."""
        if self.state != RunPhase.IDLE and self.handle is not None and not self.handle.running:
            self._finish(self.handle)

    def pause(self) -> None:
        if self.state == RunPhase.RUNNING and self.handle is not None:
            self.handle.pause()  # a run on several processes says in the log that it cannot
            if self.handle.can_pause:
                self._set_state(RunPhase.PAUSED)

    def resume(self) -> None:
        if self.state == RunPhase.PAUSED and self.handle is not None:
            self.handle.resume()
            self._set_state(RunPhase.RUNNING)

    def stop(self) -> None:
        if self.state in (RunPhase.RUNNING, RunPhase.PAUSED) and self.handle is not None:
            self.handle.stop()
            self._set_state(RunPhase.STOPPING)

    def _on_batch(self, batch: list) -> None:
        self.events.emit(batch)

    def _finish(self, handle) -> None:  # noqa: ANN001 - engine.run_handle.RunHandle
        """The worker is done: deliver its last events, go IDLE, then say how it ended."""
        if handle is not self.handle or self.state == RunPhase.IDLE:
            return
        self.bridge.stop()  # the remaining events, RunFinished among them, before the phase changes
        result = handle.result
        status = str(result.status) if result is not None else RunStatus.FAILED
        message = result.message if result is not None else "the run ended without a result"
        self.last_status = status
        self._set_state(RunPhase.IDLE)
        self.finished.emit(status, message)

    def _set_state(self, state: RunPhase) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)
