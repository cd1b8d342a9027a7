"""The run queue in a window: add to it, show it in the Queue panel, and start its entries when the window is idle.

A queued entry runs through the window's own run controls (its
:class:`~gui.run_control.RunController`), so the dashboard, Pause and Stop
show and steer it like any run, and the window's one-thing-at-a-time guard
covers it: nothing starts while the window runs something of its own or the
Experiments panel sweeps.  Which entry is next is decided by the engine's
queue (:mod:`engine.queue`) in one SQLite transaction, so two windows never
start the same entry, and never two entries on one device.

Every read and write of the queue runs in the background (:mod:`gui.tasks`).
A slow poll picks up what other windows changed, a cancel asked for there,
and entries left *running* by an app that crashed (resumed from their
checkpoint, see ``RunQueue.recover``).  When the run of an entry ends, the
entry takes the state its result means: done, failed, cancelled (Cancel),
paused with the queue held (the analyst pressed Stop: they want the machine
back), or queued again (the window was closing: it resumes next time).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from engine.queue import QueueEntry, QueueState, RunQueue, drop_owner, new_owner, state_after
from engine.run_index import RunIndex
from gui import tasks
from gui.queue_panel import QueuePanel

if TYPE_CHECKING:
    from gui.main_window import MainWindow

POLL_MS = 2000  # how often the queue is looked at for other windows' changes (never a race: only a cadence)


def queue_snapshot(queue: RunQueue) -> tuple[list[QueueEntry], bool, list[str]]:
    """(entries, held, warnings) in the executor; no file is created when there is no index yet."""
    if not queue.index.path.exists():
        return [], False, []
    return queue.list(), queue.paused, list(queue.warnings)


def take_next(queue: RunQueue, owner: str) -> QueueEntry | None:
    """Recover interrupted entries, then take the next runnable one (in the executor)."""
    if not queue.index.path.exists():
        return None
    queue.recover()
    return queue.take_next(owner)


class QueueController(QObject):
    """The window's side of the queue: the panel's buttons, Add to Queue, and starting entries when idle."""

    changed = Signal(list)  # the entries as last read, in line order

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.queue = RunQueue(RunIndex())  # its file is fixed now: $LOOM_HOME as this window opened
        self.owner = new_owner()
        self.panel = QueuePanel()
        self.current: QueueEntry | None = None  # the entry this window is running
        self.cancelling = False  # Cancel was pressed for the current entry
        self.entries: list[QueueEntry] = []
        self.held = False
        self._polling: asyncio.Task | None = None
        self._again = False
        self._reading: asyncio.Task | None = None
        self._told: set[str] = set()
        self.timer = QTimer(self, interval=POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.timer.start()
        p = self.panel
        p.move_requested.connect(lambda i, to: self._change(self.queue.move, i, to))
        p.reorder_requested.connect(lambda ids: self._change(self.queue.reorder, ids))
        p.pause_requested.connect(lambda i: self._change(self.queue.pause, i))
        p.continue_requested.connect(self._continue)
        p.cancel_requested.connect(self.cancel)
        p.remove_requested.connect(lambda i: self._change(self.queue.remove, i))
        p.hold_requested.connect(self.hold)
        p.open_requested.connect(lambda run_dir: window.past_runs.open(run_dir))
        window.runs.finished.connect(self._run_finished)
        window.experiments.runner.ended.connect(lambda *_a: self.poll())
        window.destroyed.connect(lambda *_a: drop_owner(self.owner))
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(lambda: drop_owner(self.owner))

    # -- adding ------------------------------------------------------------------------------------------------
    def add_current(self) -> asyncio.Task:
        """*Run > Add to Queue*: the canvas's workflow as it is now, with the window's device."""
        w = self.window
        label = Path(w.doc.path).stem if w.doc.path else w.doc.workflow.name
        return self.add(w.doc.workflow.copy(), label or "workflow", canvas=True)

    def add_run(self, run_dir: str | Path) -> asyncio.Task:
        """The Runs panel's *Add to Queue*: the workflow a past run ran, as it ran."""
        from gui.past_runs import workflow_of

        async def read_and_add() -> QueueEntry | None:
            workflow = await tasks.run_blocking(workflow_of, Path(run_dir))
            if workflow is None:
                self.window.show_error("Cannot add to the queue", f"{Path(run_dir) / 'workflow.json'}: cannot be "
                                       "read — open the run to see what is wrong, or queue its workflow from a file")
                return None
            return await self._add(workflow, workflow.name or Path(run_dir).name, canvas=False)

        return tasks.launch(read_and_add(), owner=self)

    def add(self, workflow: Any, label: str, device: str = "", canvas: bool = False) -> asyncio.Task:
        return tasks.launch(self._add(workflow, label, device, canvas), owner=self)

    async def _add(self, workflow: Any, label: str, device: str = "", canvas: bool = False) -> QueueEntry | None:
        from engine.refusal import WorkflowInvalid

        w = self.window
        device = device or getattr(w, "run_device", "auto")
        seen = len(self.queue.warnings)
        try:
            entry = await tasks.run_blocking(self.queue.add, workflow, label, device)
        except WorkflowInvalid as exc:
            if canvas:
                w.validate_now(exc.problems)  # the canvas's own problems get their badges
            for problem in exc.problems:
                w.console.append("error", f"not queued: {problem}", problem.node_id if canvas else "")
            w.log_dock.raise_()
            w.statusBar().showMessage(f"Not queued: {len(exc.problems)} problem(s) — see the log", 8000)
            return None
        if entry is None:
            w.show_error("Cannot add to the queue", "\n".join(self.queue.warnings[seen:]) or "the queue is unavailable")
            return None
        w.statusBar().showMessage(f"Queued #{entry.id} {entry.label} on {entry.device}", 6000)
        w.console.append("info", f"queued #{entry.id} {entry.label} (device {entry.device})")
        self.refresh()
        self.poll()
        return entry

    # -- the panel's buttons --------------------------------------------------------------------------------------
    def _change(self, op: Any, *args: Any) -> asyncio.Task:
        """Run one queue operation in the background, then show the queue as it is now."""
        async def change() -> Any:
            result = await tasks.run_blocking(op, *args)
            await self._read()
            return result

        return tasks.launch(change(), owner=self)

    def _continue(self, entry_id: int) -> asyncio.Task:
        entry = self.panel.entry(entry_id)
        retry = entry is not None and entry.state in (QueueState.FAILED, QueueState.CANCELLED)
        return self._change(self.queue.retry if retry else self.queue.unpause, entry_id)

    def hold(self, held: bool) -> asyncio.Task:
        """Hold the whole queue or let it go on (the running entry is not touched)."""
        task = self._change(self.queue.set_paused, held)
        if not held:
            task.add_done_callback(lambda _t: self.poll())
        return task

    def cancel(self, entry_id: int) -> asyncio.Task:
        """Drop a waiting entry; the running entry of this window is stopped (and ends *cancelled*)."""
        if self.current is not None and self.current.id == entry_id:
            self.cancelling = True
            self.window.runs.stop()
            return self._change(self.queue.cancel, entry_id)
        return self._change(self.queue.cancel, entry_id)

    # -- reading ------------------------------------------------------------------------------------------------------
    def refresh(self) -> asyncio.Task:
        """Re-read the queue in the background (the newest request wins)."""
        if self._reading is not None and not self._reading.done():
            self._reading.cancel()
        self._reading = tasks.launch(self._read(), owner=self)
        return self._reading

    async def _read(self) -> list[QueueEntry]:
        entries, held, warnings = await tasks.run_blocking(queue_snapshot, self.queue)
        self.entries, self.held = entries, held
        self.panel.show_entries(entries, held)
        for warning in warnings:
            if warning not in self._told:  # a skipped row or a locked index: said once, in the log
                self._told.add(warning)
                self.window.console.append("warning", warning)
        self.changed.emit(entries)
        return entries

    # -- running -------------------------------------------------------------------------------------------------------
    @property
    def window_busy(self) -> bool:
        """The window runs something (its own run, a queued one, a sweep) or is closing: nothing else starts."""
        w = self.window
        w.runs.settle()
        closing = getattr(w, "_closing", None) is not None  # the window quits once its run has stopped
        return w.runs.active or w.experiments.runner.active or self.current is not None or closing

    def poll(self) -> asyncio.Task | None:
        """Look at the queue in the background: show it, pass on a cancel asked for elsewhere, and start the next
        entry when the window is idle.  One look at a time; one asked for meanwhile follows it."""
        if not self.window.isVisible():
            return None
        if self._polling is not None and not self._polling.done():
            self._again = True
            return self._polling
        self._polling = tasks.launch(self._poll(), owner=self)
        return self._polling

    async def _poll(self) -> QueueEntry | None:
        try:
            entries = await self._read()
            mine = self.current
            if mine is not None and not self.cancelling and any(e.id == mine.id and e.stop for e in entries):
                self.cancelling = True
                self.window.console.append("warning", f"queued run #{mine.id} was cancelled in another window")
                self.window.runs.stop()
            waiting = any(e.state == QueueState.QUEUED for e in entries) and not self.held
            orphans = any(e.state == QueueState.RUNNING and e.owner != self.owner for e in entries)
            if self.window_busy or not (waiting or orphans):
                return None
            return await self._take_and_start()
        finally:
            if self._again:
                self._again = False
                QTimer.singleShot(0, self.poll)

    async def _take_and_start(self) -> QueueEntry | None:
        entry = await tasks.run_blocking(take_next, self.queue, self.owner)
        if entry is None:
            await self._read()  # a recovered entry shows its new state
            return None
        if self.window_busy or not self.window.isVisible():  # the analyst started something meanwhile
            await tasks.run_blocking(self.queue.give_back, entry.id)
            return None
        handle, why = self._start(entry)
        if handle is None:
            await tasks.run_blocking(self.queue.finish, entry.id, QueueState.FAILED, why)
            self.window.console.append("error", f"queued run #{entry.id} {entry.label} could not start: {why}")
            self._again = True  # the next one may well start
            await self._read()
            return None
        await tasks.run_blocking(self.queue.started, entry.id, handle.run_dir)
        await self._read()
        return entry

    def _start(self, entry: QueueEntry) -> tuple[Any, str]:
        """Start ``entry`` through the window's run controls: (handle, '') or (None, why not)."""
        from engine.errors import UserInputError
        from engine.queue import start_kwargs
        from engine.refusal import WorkflowInvalid
        from gui.past_runs import same_nodes

        w = self.window
        try:
            kwargs = start_kwargs(entry)
        except UserInputError as exc:
            return None, str(exc)
        workflow = kwargs.pop("workflow")
        shows = same_nodes(workflow) == same_nodes(w.doc.workflow) and _settings(workflow) == _settings(w.doc.workflow)
        w.canvas_follows_run = shows  # node badges only on the canvas that shows this workflow
        if shows:
            w.scene.clear_run_states()
        resume = kwargs.get("resume_from")
        try:
            if resume and (Path(resume) / "run.json").exists():
                w.dashboard.load_run(resume, follow=False)  # the points it had, then the live ones from its checkpoint on
            else:
                w.dashboard.reset()
            self.current, self.cancelling = entry, False
            from gui.run_settings import saved_processes

            kwargs.setdefault("processes", saved_processes(w.settings))  # Run Settings apply to queued runs too
            handle = w.runs.start(workflow, **kwargs)
        except (WorkflowInvalid, UserInputError) as exc:
            self.current = None
            w.canvas_follows_run = True
            return None, str(exc)
        what = "resumed from its checkpoint" if resume else "started"
        w.console.append("info", f"queued run #{entry.id} {entry.label} {what}: {handle.run_dir}")
        w.statusBar().showMessage(f"Queue: #{entry.id} {entry.label} {what}", 8000)
        return handle, ""

    def _run_finished(self, status: str, message: str) -> None:
        """The window's run ended: a queued one takes its state; either way the queue may go on."""
        entry, self.current = self.current, None
        if entry is None:
            QTimer.singleShot(0, self.poll)
            return
        self.window.canvas_follows_run = True
        closing = getattr(self.window, "_closing", None) is not None
        state = state_after(status, self.cancelling, closing)
        hold = state == QueueState.PAUSED  # the analyst pressed Stop: they want the machine back
        self.cancelling = False
        tasks.launch(self._record_end(entry, state, message, hold), owner=self)

    async def _record_end(self, entry: QueueEntry, state: QueueState, message: str, hold: bool) -> None:
        await tasks.run_blocking(self.queue.finish, entry.id, state, message)
        if hold:
            await tasks.run_blocking(self.queue.set_paused, True)
            self.window.statusBar().showMessage(
                f"Queue held: #{entry.id} {entry.label} was stopped (it resumes when you Continue it); "
                "press Start queue in the Queue panel to go on", 10000)
        await self._read()
        self.poll()  # the next entry, unless the window is busy or closing


def _settings(workflow: Any) -> list[tuple[str, str, dict]]:
    """What a workflow runs (node ids, types, params; not where the boxes are drawn)."""
    return sorted((n.id, n.type, n.params) for n in workflow.nodes)
