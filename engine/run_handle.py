"""What a caller holds of a started run: a handle to steer and wait, and the result.

Kept apart from the runner so the GUI, the CLI and scripts depend only on
these two small types, not on how a run is executed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from engine.context import RunControl
from engine.names import NodeStatus, RunStatus


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    status: RunStatus
    message: str = ""
    input_error: bool = False  # the failure was bad input (CLI exit 2), not a crash (exit 1)
    node_states: dict[str, NodeStatus] | None = None
    warnings: list[str] = field(default_factory=list)  # worth telling, not failures (index not updated...)
    record_error: str = ""  # run.json could not be written at the end: the folder does not show this result


class StartedRun:
    """What every started run offers its caller, wherever it trains: whether it still runs, waiting, its result.

    :class:`RunHandle` (the engine's worker thread) and
    :class:`engine.external_run.ExternalRun` (other processes, followed through
    their folder) both are one; whoever runs the run calls :meth:`finish` once.
    """

    can_pause = True

    def __init__(self, run_id: str, run_dir: Path) -> None:
        self.run_id = run_id
        self.run_dir = run_dir
        self.result: RunResult | None = None
        self._done = threading.Event()

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    def wait(self, timeout: float | None = None) -> RunResult | None:
        """Block until the run ends (or ``timeout``); never call this on a GUI thread."""
        self._done.wait(timeout)
        return self.result

    def finish(self, result: RunResult) -> None:
        """The run is over: keep its result and wake every waiter."""
        self.result = result
        self._done.set()


class RunHandle(StartedRun):
    """A run on the engine's worker thread: steer it and wait for it. Safe to call from any thread."""

    def __init__(self, run_id: str, run_dir: Path, control: RunControl) -> None:
        super().__init__(run_id, run_dir)
        self.control = control
        self.moved_aside: Path | None = None  # where --force moved an earlier folder at this path
        self.changes: list[str] = []  # params changed on resume (the allowed ones)
        self._thread: threading.Thread | None = None

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def stop(self, reason: str = "") -> None:
        self.control.stop(reason)
