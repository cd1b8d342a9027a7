"""Runs in the main window: start, continue from a checkpoint, pause, stop, and what the window shows of them.

A mixin (like :mod:`gui.window_files`) so the window class stays about layout
and wiring; it relies on the window's ``runs`` (the RunController), ``doc``,
``scene``, ``dashboard``, ``console``, ``past_runs`` and ``act``.

*Continue from checkpoint* is the app's ``loom run --resume RUN_DIR``: the run
goes on in its own folder with the engine's own checks (same workflow, folder
not damaged, not in use).  The dashboard first shows what the run recorded,
then the engine's Rewind and new points carry the curves on at the same step.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog

from engine import events as ev
from engine.names import NodeStatus, RunStatus
from gui.crash import present, report_for_failed_run
from gui.past_runs import same_nodes, workflow_of
from gui.paths import runs_root
from gui.run_control import RunPhase

CANNOT_CONTINUE = "Cannot continue this run"


def finished_already(run_dir: Path) -> str:
    """Why ``run_dir`` is not worth continuing ('' when it may be): a run that succeeded has nothing left to do.

    Anything else (no folder, damaged files, another workflow, in use) is the engine's to say.
    """
    from engine.errors import UserInputError
    from engine.run_files import read_run

    try:
        status = read_run(run_dir).get("status")
    except UserInputError:
        return ""  # the engine names the damaged file when it refuses
    if status == RunStatus.SUCCEEDED:
        return (f"{run_dir}: this run finished — there is nothing to continue.\nTo train longer, select it in the "
                "Runs panel, press Reuse, raise the epochs and run it as a new run.")
    return ""


class RunsMixin:
    # -- start ------------------------------------------------------------------------------------------------
    def start_run(self, out_dir: str | Path | None = None, device: str = "auto"):
        """Validate, then start the engine on its worker thread; returns the RunHandle or None."""
        self.runs.settle()
        if self.runs.active or self._sweeping():
            return None
        self.catalog.wait()
        self.validate_now()
        handle = self._start(self.doc.workflow.copy(), out_dir=out_dir, device=device)
        if handle is None:
            return None
        self.scene.clear_run_states()
        self.dashboard.reset()
        self.console.append("info", f"run started: {handle.run_dir}")
        self.show_page("canvas")  # a full page (welcome, results) gives way to the canvas and its dashboard
        self.dashboard_dock.raise_()
        return handle

    def _start(self, workflow, **kwargs):  # noqa: ANN001, ANN202 - Workflow -> RunHandle | None
        """Start through the controller; a refusal is listed in the log (or, for a folder, said in a dialog)."""
        from engine.runner import RunRefused, WorkflowInvalid
        from gui.run_settings import saved_processes

        kwargs.setdefault("processes", saved_processes(self.settings))  # Run Settings: processes on this computer
        try:
            return self.runs.start(workflow, **kwargs)
        except WorkflowInvalid as exc:
            if isinstance(exc, RunRefused) and kwargs.get("resume_from") is not None:
                self.show_error(CANNOT_CONTINUE, str(exc))  # the engine's words: damaged, in use, another workflow
                return None
            self.validate_now(exc.problems)  # the files' problems get their badges too
            for problem in exc.problems:
                self.console.append("error", str(problem), problem.node_id)
            self.log_dock.raise_()
            self.statusBar().showMessage(f"Cannot run: {len(exc.problems)} problem(s) — see the red badges and the log", 8000)
        return None

    def _sweeping(self) -> bool:
        """A sweep of the Experiments panel has the device (one thing at a time): say so, and refuse."""
        if not self.experiments.runner.active:
            return False
        self.statusBar().showMessage("A sweep is running: pause it in the Experiments panel before starting a run", 8000)
        return True

    # -- continue ----------------------------------------------------------------------------------------------
    def continue_run(self, run_dir: str | Path, device: str = "auto"):
        """Continue a stopped or crashed run from its last checkpoints, in its own folder; the RunHandle or None.

        The canvas gets the run's workflow unless it already shows it (then the
        canvas's version runs, so more epochs may be asked for; any other change
        is refused by the engine, in its words).  The dashboard shows what the run
        recorded, and the continued run's curves go on from the checkpoint's step.
        """
        from engine.errors import UserInputError

        self.runs.settle()
        if self.runs.active:
            self.statusBar().showMessage("A run is in progress: stop it before continuing another", 8000)
            return None
        if self._sweeping():
            return None
        run_dir = Path(run_dir)
        self.catalog.wait()
        why = finished_already(run_dir)
        if why:
            self.show_error(CANNOT_CONTINUE, why)
            return None
        workflow = self._workflow_to_continue(run_dir)
        if workflow is None:
            return None
        self.scene.clear_run_states()
        if (run_dir / "run.json").exists():
            try:
                self.dashboard.load_run(run_dir, follow=False)  # before the engine writes: the earlier points, once each
            except UserInputError as exc:
                self.show_error(CANNOT_CONTINUE, str(exc))
                return None
        handle = self._start(workflow, device=device, resume_from=run_dir)
        if handle is None:
            return None
        self.console.append("info", f"continuing run {handle.run_dir} from its last checkpoint")
        self.show_page("canvas")
        self.dashboard_dock.raise_()
        return handle

    def _workflow_to_continue(self, run_dir: Path):  # noqa: ANN202 - Workflow | None
        """The workflow to resume with: the canvas's when it shows the run's, else the run's, put on the canvas."""
        ran = workflow_of(run_dir)
        if ran is None or same_nodes(ran) == same_nodes(self.doc.workflow):
            return self.doc.workflow.copy()  # a damaged workflow.json: the engine says which file and what to do
        if not self.maybe_save():
            return None
        self.load_workflow(ran)
        self.doc.path = None  # Save must not write into the run folder
        self.doc.path_changed.emit()
        return ran.copy()

    def continue_dialog(self) -> None:
        """*Run > Continue from Checkpoint…*: pick a run folder (the last run that ended early is offered)."""
        start = self.last_unfinished_run() or str(runs_root())
        path = QFileDialog.getExistingDirectory(self, "Continue a stopped or crashed run — pick its folder", start)
        if path:
            self.continue_run(path)

    def last_unfinished_run(self) -> str | None:
        """This session's last run when it stopped or failed, else the newest such run in the Runs panel."""
        if not self.runs.active and self.runs.run_dir is not None and self.runs.last_status in (
                RunStatus.STOPPED, RunStatus.FAILED):
            return str(self.runs.run_dir)
        return self.past_runs.last_unfinished()

    def open_run_settings(self) -> None:
        """*Run > Run Settings…*: processes on this computer (remembered) and the cluster commands."""
        from gui.run_settings import RunSettingsDialog

        dialog = RunSettingsDialog(self.settings, self.doc.path, self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()

    # -- steer --------------------------------------------------------------------------------------------------
    def stop_run(self) -> None:
        self.runs.stop()

    def toggle_pause(self) -> None:
        if self.runs.state == RunPhase.RUNNING:
            self.runs.pause()
        elif self.runs.state == RunPhase.PAUSED:
            self.runs.resume()
        self.act.pause.setChecked(self.runs.state == RunPhase.PAUSED)

    # -- what the window shows -----------------------------------------------------------------------------------
    def _on_events(self, events: list) -> None:
        for e in events:
            if not self.canvas_follows_run and isinstance(e, (ev.NodeState, ev.Progress)):
                continue  # a queued run of another workflow: its states belong to no node on this canvas
            if isinstance(e, ev.NodeState):
                self.scene.set_node_state(e.node_id, e.state, e.message, 0.0 if e.state == NodeStatus.RUNNING else None)
                if e.state == NodeStatus.FAILED:
                    self.statusBar().showMessage(f"{e.node_id} failed: {e.message}", 10000)
            elif isinstance(e, ev.Progress):
                item = self.scene.nodes.get(e.node_id)
                if item is not None and item.state == NodeStatus.RUNNING:
                    item.set_state(NodeStatus.RUNNING, item.state_message, e.fraction)
            elif isinstance(e, ev.RunStarted):
                self.device_label.setText(f"Device: {e.device}")
                QTimer.singleShot(0, lambda d=e.device: self._label_device(d))
                self.past_runs.refresh()  # the engine has listed it as running
        self.dashboard.handle(events)

    def _label_device(self, device: str) -> None:
        from engine.device import device_label

        self.device_label.setText(f"Device: {device_label(device)}")

    def _thumbnail(self, node_id: str, image: QImage) -> None:
        if not image.isNull() and self.canvas_follows_run:
            self.scene.set_thumbnail(node_id, image)

    def _run_finished(self, status: str, message: str) -> None:
        self.statusBar().showMessage(f"Run {status}" + (f": {message}" if message else ""), 10000)
        self.past_runs.refresh()
        if status == RunStatus.FAILED and self.runs.run_dir is not None:
            present(report_for_failed_run(self.runs.run_dir, message), self)

    def _update_actions(self, state: str) -> None:
        active = state != RunPhase.IDLE
        self.act.run.setEnabled(not active)
        self.act.continue_run.setEnabled(not active)
        can_pause = self.runs.handle is None or self.runs.handle.can_pause  # not a run on several processes
        self.act.pause.setEnabled(state in (RunPhase.RUNNING, RunPhase.PAUSED) and can_pause)
        self.act.pause.setChecked(state == RunPhase.PAUSED)
        self.act.pause.setText("&Resume" if state == RunPhase.PAUSED else "&Pause")
        self.act.stop.setEnabled(state in (RunPhase.RUNNING, RunPhase.PAUSED))
        self.dashboard.progress.set_paused(state == RunPhase.PAUSED)
        shown = {RunPhase.IDLE: "Idle", RunPhase.RUNNING: "Running", RunPhase.PAUSED: "Paused",
                 RunPhase.STOPPING: "Stopping…"}[RunPhase(state)]
        if state == RunPhase.IDLE and self.runs.last_status:
            shown = f"Idle · last run {self.runs.last_status}"
        self.state_label.setText(shown)
        self.run_state_changed.emit(state)
