"""Running the queue without a window: one entry at a time, each an ordinary run through ``Engine.start``.

The app has its own runner (gui/queue_runner.py) that starts entries through
the window's run controls; this one is for scripts, tests and the command
line.  Both follow the same steps, from :mod:`engine.queue.store`: recover
interrupted entries, take the next one atomically, start it (resuming its run
folder when it has one), record its folder, and when it ends record the state
its result means.  A cancel asked for elsewhere (another window) is seen while
the run is under way and stops it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from engine import events as ev
from engine.queue.owners import drop_owner, new_owner
from engine.queue.store import QueueEntry, QueueState, RunQueue, start_kwargs, state_after
from engine.refusal import WorkflowInvalid
from engine.run_handle import RunResult

POLL_S = 1.0  # how often a waiting runner looks for a cancel (a hang guard, not a race: the run goes on meanwhile)


class QueueRunner:
    """Start queued entries with ``engine`` one after another; ``close()`` when done with it."""

    def __init__(self, queue: RunQueue, engine: Any, runs_root: str | Path = "runs",
                 on_event: ev.Subscriber | None = None) -> None:
        self.queue = queue
        self.engine = engine
        self.runs_root = runs_root
        self.on_event = on_event
        self.owner = new_owner()
        self.current: QueueEntry | None = None

    def run_next(self) -> RunResult | None:
        """Run the next runnable entry to its end; None when there is nothing to run."""
        self.queue.recover()
        entry = self.queue.take_next(self.owner)
        if entry is None:
            return None
        self.current = entry
        try:
            return self._run(entry)
        finally:
            self.current = None

    def run_all(self, stop: threading.Event | None = None) -> list[RunResult]:
        """Run entries until none is left to run (or ``stop`` is set between two runs)."""
        results = []
        while stop is None or not stop.is_set():
            result = self.run_next()
            if result is None:
                break
            results.append(result)
        return results

    def close(self) -> None:
        """This runner is gone: what it still had running counts as interrupted (see RunQueue.recover)."""
        drop_owner(self.owner)

    def _run(self, entry: QueueEntry) -> RunResult | None:
        try:
            handle = self.engine.start(**start_kwargs(entry), runs_root=self.runs_root, on_event=self.on_event,
                                       tags={"queue": {"entry": entry.id, "label": entry.label}})
        except WorkflowInvalid as exc:  # the files it reads are gone, its folder is in use...: said in its row
            self.queue.finish(entry.id, QueueState.FAILED, str(exc))
            return RunResult(run_id="", run_dir=Path(entry.run_dir or "."), status="failed", message=str(exc),
                             input_error=True)
        self.queue.started(entry.id, handle.run_dir)
        cancelled = False
        try:
            while handle.wait(POLL_S) is None:
                if not cancelled and self.queue.stop_requested(entry.id):
                    cancelled = True
                    handle.stop("cancelled in the queue")
        except KeyboardInterrupt:  # Ctrl-C: stop at a checkpoint; the entry waits to resume next time
            handle.stop("interrupted")
            result = handle.wait()
            self.queue.finish(entry.id, state_after(result.status, cancelled, closing=True), result.message)
            raise
        result = handle.result
        self.queue.finish(entry.id, state_after(result.status, cancelled), result.message)
        return result
