"""Running a sweep from the app: ``run_sweep`` in the background, its trials and events back on the GUI thread.

The sweep is one blocking call of the engine (each trial an ordinary run in
its own folder and the run index), so it runs in the shared executor
(:func:`gui.tasks.run_blocking`).  What it reports crosses to the GUI thread
two ways: each finished trial through the event loop (the panel refreshes the
table), and the trials' engine events through an :class:`EventBridge` of its
own, coalesced like any run's, for the dashboard.  *Pause* sets the stop
event: the engine stops the current trial cleanly (its folder says
*stopped*) and returns; *Continue* is the same call again on the same study,
which repeats no finished trial.  The stop event is also set when the panel
goes away or the app quits, so closing never waits on a whole study.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication

from gui import tasks
from gui.bridge import EventBridge
from gui.experiments.sweep_api import api


def sweep_blocking(config: Any, on_trial: Callable[[Any], None], on_event: Callable[[Any], None],
                   stop: threading.Event) -> Any:
    """The engine's ``run_sweep`` (in the executor), leaving a core for the window as any GUI run does."""
    from gui.run_control import leave_a_core_for_the_ui

    leave_a_core_for_the_ui()
    return api().run_sweep(config, on_trial=on_trial, on_event=on_event, stop=stop)


class SweepRunner(QObject):
    """One sweep at a time: :meth:`start`, :meth:`pause`; ``trial`` per finished trial, ``ended`` at the end."""

    trial = Signal(object)  # the contract's TrialRow, on the GUI thread
    events = Signal(list)  # the trials' engine events, coalesced, on the GUI thread
    ended = Signal(object, str)  # the StudyView (None when it could not run), and what went wrong ('' when fine)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bridge = EventBridge(self)
        self.bridge.batch.connect(self.events.emit)
        self.config: Any = None  # the last sweep started (Continue runs it again)
        self.stop_event: threading.Event | None = None
        self.task: asyncio.Task | None = None
        self.running = False  # from start until just before ``ended`` (the task itself ends a moment later)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.pause)

    @property
    def active(self) -> bool:
        return self.running

    @property
    def pausing(self) -> bool:
        return self.active and self.stop_event is not None and self.stop_event.is_set()

    def start(self, config: Any) -> asyncio.Task | None:
        """Run ``config``'s study until it has its trials (or Pause); None when a sweep is already running."""
        if self.active:
            return None
        self.config = config
        self.stop_event = threading.Event()
        self.running = True
        self.task = tasks.launch(self._run(config, self.stop_event), owner=self, on_error=self._failed)
        return self.task

    def _failed(self, exc: BaseException) -> None:
        """A bug, not bad input: the panel still learns the sweep is over, and the crash report shows it."""
        self.ended.emit(None, f"The sweep stopped on an unexpected error ({type(exc).__name__}: {exc}).")
        tasks.report(exc)

    def pause(self) -> None:
        """Stop after the current trial has stopped cleanly (the study keeps every finished trial)."""
        if self.stop_event is not None:
            self.stop_event.set()

    async def _run(self, config: Any, stop: threading.Event) -> Any:
        from engine.errors import UserInputError
        from engine.sweep import SweepFailed

        loop = tasks.loop()

        def on_trial(row: Any) -> None:  # the sweep's thread
            with contextlib.suppress(RuntimeError):  # the loop is closing: the app quits
                loop.call_soon_threadsafe(self._trial, row)

        self.bridge.start()
        view, message = None, ""
        try:
            view = await tasks.run_blocking(sweep_blocking, config, on_trial, self.bridge.post, stop, cancel=stop)
        except (UserInputError, SweepFailed) as exc:  # bad input, or trials that keep failing: in words
            message = str(exc)
        finally:
            self.bridge.stop()
            self.running = False
        self.ended.emit(view, message)
        return view

    def _trial(self, row: Any) -> None:
        with contextlib.suppress(RuntimeError):  # this object is gone: nobody to tell
            self.trial.emit(row)
