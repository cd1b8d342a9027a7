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


class RunHandle:
    """A started run: steer it and wait for it. Safe to call from any thread."""

    def __init__(self, run_id: str, run_dir: Path, control: RunControl) -> None:
        self.run_id = run_id
        self.run_dir = run_dir
        self.control = control
        self.result: RunResult | None = None
        self.moved_aside: Path | None = None  # where --force moved an earlier folder at this path
        self.changes: list[str] = []  # params changed on resume (the allowed ones)
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def stop(self, reason: str = "") -> None:
        self.control.stop(reason)

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    def wait(self, timeout: float | None = None) -> RunResult | None:
        """Block until the run ends (or ``timeout``); never call this on a GUI thread."""
        self._done.wait(timeout)
        return self.result
