"""Following, in the app, a run that another process is writing: *File > Follow Run Folder…*, ``loom RUN_DIR``,
and the Runs panel's *Open dashboard* on a run still *running*.

The reading is the engine's (:class:`engine.follow.RunFolderFollower`): it
turns the folder's new files into the events a live run emits.
:class:`RunFollower` polls it on a timer, every poll in the background
(:func:`gui.tasks.run_blocking`), and posts the events into an
:class:`~gui.bridge.EventBridge`, whose coalesced batches the dashboard
draws through :meth:`Dashboard.handle <gui.dashboard.panel.Dashboard.handle>`,
the method that draws the app's own runs.  So the GUI thread never reads a
file of unknown size, and a followed run looks exactly like a live one.

Following stops at the final status in run.json (after the last rows), when
the dashboard shows something else (``Dashboard.reset``), or when the window
closes.  A folder that is not a run folder is refused in a dialog naming it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog

from engine import events as ev
from engine.names import NodeStatus
from gui import tasks
from gui.bridge import EventBridge
from gui.paths import runs_root

if TYPE_CHECKING:
    from gui.main_window import MainWindow

POLL_MS = 500
CANNOT_FOLLOW = "Cannot follow this run"


class RunFollower(QObject):
    """Polls one run folder in the background and emits what appeared as coalesced event batches."""

    batch = Signal(list)  # list[engine.events.Event], coalesced like a live run's
    ended = Signal(str)  # the run's final status ('' when the folder went away)

    def __init__(self, run_dir: str | Path, parent: QObject | None = None, poll_ms: int = POLL_MS) -> None:
        super().__init__(parent)
        from engine.follow import RunFolderFollower

        self.run_dir = Path(run_dir)
        self.reader = RunFolderFollower(self.run_dir)
        self.bridge = EventBridge(self)
        self.bridge.batch.connect(self.batch)
        self.timer = QTimer(self, interval=poll_ms)
        self.timer.timeout.connect(self._tick)
        self._task: asyncio.Task | None = None

    @property
    def following(self) -> bool:
        return self.timer.isActive()

    def start(self) -> None:
        """Read what is there now (in the background), then what appears, every ``poll_ms``."""
        self.bridge.start()
        self.timer.start()
        self._tick()

    def stop(self) -> None:
        """Stop polling; events not yet drawn are dropped (the dashboard shows something else now)."""
        self.timer.stop()
        self.bridge.timer.stop()
        if self._task is not None:
            self._task.cancel()

    def _tick(self) -> None:
        if self._task is None or self._task.done():  # one poll at a time: a slow disk skips ticks, not rows
            self._task = tasks.launch(self._poll(), owner=self)

    async def _poll(self) -> None:
        events = await tasks.run_blocking(self.reader.poll)
        if not self.timer.isActive():
            return  # stopped while reading
        for event in events:
            self.bridge.post(event)
        if self.reader.ended:
            self.timer.stop()
            self.bridge.stop()  # the last batch, RunFinished last, before saying it ended
            self.ended.emit(self.reader.status)


def paint_states(window: MainWindow, events: list[ev.Event]) -> None:
    """Node states and progress of a followed run on the canvas (which shows that run's workflow)."""
    for e in events:
        if isinstance(e, ev.NodeState):
            window.scene.set_node_state(e.node_id, e.state, e.message, 0.0 if e.state == NodeStatus.RUNNING else None)
        elif isinstance(e, ev.Progress):
            item = window.scene.nodes.get(e.node_id)
            if item is not None and item.state == NodeStatus.RUNNING:
                item.set_state(NodeStatus.RUNNING, item.state_message, e.fraction)


def attach(window: MainWindow, follower: RunFollower, paint: bool) -> None:
    """Wire a followed run into ``window``: its node states on the canvas (when ``paint``), its end said."""
    if paint:
        follower.batch.connect(lambda events: paint_states(window, events))
    name = follower.run_dir.name
    following = f"Following {name}"
    window.state_label.setText(following)  # the status bar says whose run the dashboard shows
    window.state_label.setToolTip(f"The dashboard follows {follower.run_dir}, written by another process")
    follower.ended.connect(lambda status: ended(window, name, status))

    def gone() -> None:  # the dashboard shows something else now
        if window.state_label.text() == following:
            window.state_label.setText("Idle")
        window.state_label.setToolTip("")

    follower.destroyed.connect(gone)


def ended(window: MainWindow, name: str, status: str) -> None:
    said = f"Followed run {name}: {status}" if status else f"Followed run {name}: its folder is gone"
    window.statusBar().showMessage(said, 10000)
    window.state_label.setText(f"Idle · followed run {status or 'gone'}")
    window.past_runs.refresh()  # its entry in the Runs panel says how it ended


def follow_dialog(window: MainWindow) -> None:
    """*File > Follow Run Folder…*: pick the folder another process is writing."""
    path = QFileDialog.getExistingDirectory(window, "Follow a run folder (a run another process is writing)",
                                            str(runs_root()))
    if path:
        follow_folder(window, path)


def follow_folder(window: MainWindow, run_dir: str | Path) -> asyncio.Task:
    """Check ``run_dir`` in the background, then show it on the dashboard, following it while it runs.

    The task's result is True when it is shown; False when it is not a run
    folder (a dialog says why and what to pick instead).
    """
    return tasks.launch(_follow(window, Path(run_dir)), owner=window)


async def _follow(window: MainWindow, run_dir: Path) -> bool:
    from engine.errors import UserInputError
    from engine.follow import check_run_folder

    if window.runs.active:  # the dashboard draws the app's own run: two runs on one dashboard would mislead
        window.show_error(CANNOT_FOLLOW, f"{run_dir}: a run of this window is in progress and the dashboard shows it "
                          "— follow the other run once it has ended (or stop it)")
        return False
    try:
        await tasks.run_blocking(check_run_folder, run_dir)
    except UserInputError as exc:
        window.show_error(CANNOT_FOLLOW, str(exc))
        return False
    if not window.catalog.is_ready:  # the run's workflow goes on the canvas: wait for the steps without blocking
        window.statusBar().showMessage(f"Opening run {run_dir.name}…", 5000)
        loaded = tasks.next_emission(window.catalog.ready)
        window.catalog.start()
        await loaded
    return window.past_runs.open(run_dir)  # the Runs panel's Open dashboard: it follows a run still running
