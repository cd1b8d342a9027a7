"""The main window: canvas in the middle, palette, inspector, dashboard, log and runs as docks.

Public API (used by the wizards and tests):

* :meth:`MainWindow.load_workflow` – show a Workflow on the canvas (tidied when it has no layout)
* :meth:`MainWindow.open_file` / :meth:`MainWindow.save` – files
* :meth:`MainWindow.start_run`, :meth:`continue_run`, :meth:`stop_run`, :meth:`toggle_pause` – runs
  (gui.window_runs)
* ``window.past_runs`` – past runs: open a run folder's dashboard, compare, reuse, move to trash
* :meth:`MainWindow.add_page` / :meth:`show_page` – extra central pages (a welcome screen)
* ``window.dashboard.preview`` – the image preview widget
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from engine.workflow import Workflow
from gui import qtfix, tasks, theme
from gui.actions import build_actions
from gui.autosave import Autosaver
from gui.canvas.layout import needs_layout, tidy_positions
from gui.canvas.scene import WorkflowScene
from gui.canvas.view import CanvasView
from gui.catalog import StepCatalog
from gui.dashboard.console import LogConsole
from gui.dashboard.panel import Dashboard
from gui.document import CLIPBOARD_MIME, WorkflowDocument
from gui.experiments import ExperimentsPanel
from gui.history import RunHistory
from gui.inspector import Inspector
from gui.palette import Palette
from gui.past_runs import PastRuns
from gui.queue_runner import QueueController
from gui.run_control import RunController, RunPhase
from gui.settings import AppSettings
from gui.window_files import FileMixin
from gui.window_runs import RunsMixin

qtfix.apply()  # also here: an editable install may import gui as a namespace package, skipping __init__
log = logging.getLogger(__name__)


def describe_device() -> str:
    """The device training will likely use, in words (in the executor; torch is not imported for it)."""
    try:
        from engine.device_probe import describe_local_device

        return describe_local_device()
    except Exception as exc:  # a broken driver: say so, keep working
        return f"unknown ({type(exc).__name__})"


class MainWindow(RunsMixin, FileMixin, QMainWindow):
    run_state_changed = Signal(str)

    def __init__(self, settings: AppSettings | None = None, catalog: StepCatalog | None = None, probe_device: bool = True) -> None:
        super().__init__()
        self.settings = settings or AppSettings()
        self.catalog = catalog or StepCatalog(self)
        self.doc = WorkflowDocument(self.catalog, self)
        self.scene = WorkflowScene(self.doc, self)
        self.view = CanvasView(self.scene, self.doc)
        self.pages = QStackedWidget()
        self._pages: dict[str, QWidget] = {}
        self.add_page("canvas", self.view)
        self.setCentralWidget(self.pages)
        self.palette_panel = Palette(self.catalog)
        self.inspector = Inspector(self.doc)
        self.console = LogConsole()
        self.dashboard = Dashboard(self.console)
        self.history = RunHistory()
        self.past_runs = PastRuns(self, self.history)
        self.runs = RunController(self)
        self.autosaver = Autosaver(self.doc, parent=self)
        self.problems: dict[str, list[str]] = {}
        self.canvas_follows_run = True  # False while a queued run of another workflow runs: no badges on this one
        self.act = build_actions(self)
        self._build_docks()
        self._build_status()
        self._connect()
        self.setWindowTitle("Loom")
        self.resize(1400, 880)
        self.setDockOptions(QMainWindow.AnimatedDocks | QMainWindow.AllowTabbedDocks)
        geometry, state = self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        self.set_theme(self.settings.theme)
        self._refresh_recent()
        self._refresh_examples()
        self._update_actions(RunPhase.IDLE)
        self._update_title()
        self.catalog.ready.connect(self._catalog_ready)
        self._probe_device = probe_device
        self._closing: asyncio.Task | None = None  # closes the window once a stopping run has ended
        self._listed_runs = False  # the Runs panel is filled when the window is first shown
        self._stashed_docks: tuple[list[QDockWidget], bool] | None = None  # hidden while a full page shows
        QTimer.singleShot(100, self.catalog.start)  # after the first paint: the window never waits for torch

    # -- construction -------------------------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea, name: str) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.act.panels_menu.addAction(dock.toggleViewAction())
        return dock

    def _build_docks(self) -> None:
        self.palette_dock = self._dock("Steps", self.palette_panel, Qt.LeftDockWidgetArea, "dock-palette")
        self.runs_dock = self._dock("Runs", self.history, Qt.LeftDockWidgetArea, "dock-runs")
        self.tabifyDockWidget(self.palette_dock, self.runs_dock)
        self.experiments = ExperimentsPanel(self)
        self.experiments_dock = self._dock("Experiments", self.experiments, Qt.LeftDockWidgetArea, "dock-experiments")
        self.tabifyDockWidget(self.runs_dock, self.experiments_dock)
        self.queue = QueueController(self)
        self.queue_dock = self._dock("Queue", self.queue.panel, Qt.LeftDockWidgetArea, "dock-queue")
        self.tabifyDockWidget(self.experiments_dock, self.queue_dock)
        self.experiments_dock.visibilityChanged.connect(self.experiments.dock_visible)
        self.inspector.sweep_requested.connect(self.experiments.sweep_this)
        self.run_state_changed.connect(self.experiments.run_state_changed)
        self.palette_dock.raise_()
        self.inspector_dock = self._dock("Inspector", self.inspector, Qt.RightDockWidgetArea, "dock-inspector")
        self.dashboard_dock = self._dock("Dashboard", self.dashboard, Qt.BottomDockWidgetArea, "dock-dashboard")
        self.log_dock = self._dock("Log", self.console, Qt.BottomDockWidgetArea, "dock-log")
        self.splitDockWidget(self.dashboard_dock, self.log_dock, Qt.Horizontal)
        self.resizeDocks([self.palette_dock, self.inspector_dock], [230, 300], Qt.Horizontal)
        self.resizeDocks([self.dashboard_dock], [380], Qt.Vertical)
        self.resizeDocks([self.dashboard_dock, self.log_dock], [1000, 380], Qt.Horizontal)

    def _build_status(self) -> None:
        self.device_label = QLabel("Device: detecting…")
        self.state_label = QLabel("Idle")
        self.state_label.setMinimumWidth(190)
        self.statusBar().addPermanentWidget(self.device_label)
        self.statusBar().addPermanentWidget(self.state_label)

    def _connect(self) -> None:
        self.palette_panel.tree.dropped.connect(self._palette_drop)
        self.palette_panel.tree.activated_step.connect(self._palette_add)
        self.view.message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.scene.selectionChanged.connect(self._selection_changed)
        self.doc.changed.connect(self._schedule_validation)
        self.doc.undo_stack.cleanChanged.connect(self._update_title)
        self.doc.path_changed.connect(self._update_title)
        self.runs.events.connect(self._on_events)
        self.runs.state_changed.connect(self._update_actions)
        self.runs.finished.connect(self._run_finished)
        self.dashboard.thumbnail.connect(self._thumbnail)
        self._validation_timer = QTimer(self, singleShot=True, interval=150)
        self._validation_timer.timeout.connect(self.validate_now)

    def add_page(self, name: str, widget: QWidget) -> None:
        """Add a central page (e.g. a welcome screen); the canvas is the page named 'canvas'."""
        self._pages[name] = widget
        self.pages.addWidget(widget)

    def show_page(self, name: str) -> None:
        """Show a central page; pages other than the canvas (welcome, results) get the room of the editing docks."""
        self.pages.setCurrentWidget(self._pages[name])
        self._editing_docks_shown(name == "canvas")

    def _editing_docks_shown(self, shown: bool) -> None:
        """Hide the docks that edit or watch the canvas's workflow while a full page shows, and bring them back.

        At 1024x700 the docks left the welcome or results page a 440x300 slit; the
        Steps palette, the inspector, the dashboard and the log say nothing about a
        page that is not the canvas.  The Runs panel stays (pick another run's
        results).  Only the docks that were open come back, with the tab that was
        in front; a dock the analyst closed stays closed.
        """
        if not shown and self._stashed_docks is None:
            docks = (self.palette_dock, self.inspector_dock, self.dashboard_dock, self.log_dock)
            steps_in_front = not self.palette_dock.visibleRegion().isEmpty()
            self._stashed_docks = ([d for d in docks if not d.isHidden()], steps_in_front)
            for dock in self._stashed_docks[0]:
                dock.hide()
            if not self.runs_dock.isHidden():
                self.runs_dock.raise_()
        elif shown and self._stashed_docks is not None:
            docks, steps_in_front = self._stashed_docks
            self._stashed_docks = None
            for dock in docks:
                dock.show()
            if steps_in_front and not self.palette_dock.isHidden():
                self.palette_dock.raise_()

    # -- startup ------------------------------------------------------------------------------------
    def _catalog_ready(self) -> None:
        self.scene.rebuild()  # nodes loaded before the catalogue get their ports now
        self.validate_now()
        QTimer.singleShot(200, self.dashboard.curves.warm_up)  # pyqtgraph, while the user looks around
        if self._probe_device:
            tasks.launch(self._show_device(), owner=self)

    async def _show_device(self) -> None:
        text = await tasks.run_blocking(describe_device)
        if not self.runs.active:  # a run already says which device it uses
            self.device_label.setText(f"Device: {text}")

    def offer_recovery(self) -> bool:
        """After a crash: offer the autosaved workflow. Returns True when it was restored."""
        pending = self.autosaver.pending()
        if pending is None:
            return False
        workflow, path = pending
        answer = self.ask("Recover unsaved work?",
                          f"Loom did not close cleanly. Restore the unsaved workflow “{workflow.name}”?",
                          QMessageBox.Yes | QMessageBox.No)
        if answer == QMessageBox.Yes:
            self.load_workflow(workflow, path=path or None)
            self.doc.undo_stack.resetClean()  # restored work is unsaved work
            self.autosaver.discard()
            return True
        self.autosaver.discard()
        return False

    # -- documents ------------------------------------------------------------------------------------
    def load_workflow(self, workflow: Workflow, path: str | Path | None = None, tidy: bool | None = None) -> None:
        """Show ``workflow`` on the canvas (the wizards call this); tidies it when it has no layout."""
        self.catalog.wait()
        if tidy or (tidy is None and needs_layout(workflow)):
            heights = {}
            for node in workflow.nodes:
                spec = self.catalog.get(node.type)
                rows = max(len(spec.inputs), len(spec.outputs), 1) if spec else 1
                heights[node.id] = 76 + 22 * rows + (80 if spec and spec.produces_images else 0)
            for node_id, pos in tidy_positions(workflow, heights).items():
                workflow.node(node_id).position = pos
        self.doc.set_workflow(workflow, path)
        self.show_page("canvas")
        self.dashboard.reset()
        QTimer.singleShot(0, self.view.fit_all)
        self.validate_now()

    def ask(self, title: str, text: str, buttons) -> QMessageBox.StandardButton:
        """Every question the window asks goes through here (tests replace it)."""
        return QMessageBox.question(self, title, text, buttons)

    def show_error(self, title: str, text: str) -> None:
        self.console.append("error", text)
        box = QMessageBox(QMessageBox.Warning, title, text, QMessageBox.Ok, self)
        box.setWindowModality(Qt.WindowModal)
        box.open()  # non-blocking: training and redraws continue behind it

    # -- editing ------------------------------------------------------------------------------------------
    def _palette_drop(self, step_type: str, global_pos) -> None:
        node_id = self.view.drop_step(step_type, global_pos)
        if node_id:
            self.scene.select_nodes([node_id])

    def _palette_add(self, step_type: str) -> None:
        self.scene.select_nodes([self.view.add_at_center(step_type)])

    def _selection_changed(self) -> None:
        ids = self.scene.selected_node_ids()
        self.inspector.show_node(ids[0] if len(ids) == 1 else None)

    def copy(self) -> None:
        ids = self.scene.selected_node_ids()
        if ids:
            from PySide6.QtCore import QMimeData

            data = QMimeData()
            text = self.doc.fragment(ids)
            data.setData(CLIPBOARD_MIME, text.encode())
            data.setText(text)
            QApplication.clipboard().setMimeData(data)

    def cut(self) -> None:
        self.copy()
        self.delete_selection()

    def paste(self) -> None:
        data = QApplication.clipboard().mimeData()
        if data is not None and data.hasFormat(CLIPBOARD_MIME):
            self.scene.select_nodes(self.doc.paste(bytes(data.data(CLIPBOARD_MIME)).decode()))

    def duplicate(self) -> None:
        ids = self.scene.selected_node_ids()
        if ids:
            self.scene.select_nodes(self.doc.paste(self.doc.fragment(ids)))

    def delete_selection(self) -> None:
        self.doc.remove(self.scene.selected_node_ids(), self.scene.selected_links())

    def select_all(self) -> None:
        for item in self.scene.nodes.values():
            item.setSelected(True)

    def tidy_layout(self) -> None:
        heights = {nid: item.height for nid, item in self.scene.nodes.items()}
        target = tidy_positions(self.doc.workflow, heights)
        moves = {n.id: (tuple(n.position), target[n.id]) for n in self.doc.workflow.nodes}
        self.doc.move_nodes(moves, "Tidy layout")
        self.view.fit_all()

    # -- validation ----------------------------------------------------------------------------------------
    def _schedule_validation(self) -> None:
        self._validation_timer.start()

    def validate_now(self, found: list | tuple = ()) -> dict[str, list[str]]:
        """Check the document with the engine's rules and badge the nodes that have problems.

        ``found``: problems a refused Run found in the files (missing folder, unreadable CSV); they are
        badged too, so a step left *done* by an earlier run does not look fine while Run refuses it.
        """
        if not self.catalog.is_ready:
            return {}
        from engine.validation import validate

        problems: dict[str, list[str]] = {}
        for p in [*validate(self.doc.workflow), *[f for f in found if f.node_id in self.scene.nodes]]:
            text = f"{p.field}: {p.message}" if p.field else p.message
            if text not in problems.setdefault(p.node_id, []):  # a refused Run repeats validation's own
                problems[p.node_id].append(text)
        self.problems = problems
        self.scene.set_problems(problems)
        self.inspector.set_problems(problems)
        count = sum(len(v) for v in problems.values())
        self.act.run.setToolTip("Validate and run the workflow" + (f" ({count} problem(s) to fix first)" if count else ""))
        return problems

    def showEvent(self, event) -> None:  # noqa: N802, ANN001 - QShowEvent
        super().showEvent(event)
        if not self._listed_runs:  # past runs from the index, in the background, as soon as the app opens
            self._listed_runs = True
            self.past_runs.refresh()  # a later refresh (a run starting) supersedes it

    # -- theme and closing -------------------------------------------------------------------------------------------
    def set_theme(self, name: str) -> None:
        c = theme.apply_theme(QApplication.instance(), name)
        self.settings.theme = name
        (self.act.dark if c.dark else self.act.light).setChecked(True)
        self.dashboard.apply_theme(c)
        self.experiments.apply_theme(c)
        self.scene.update()
        for item in self.scene.nodes.values():
            item.update()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.runs.settle()  # a run whose worker has just ended is over: nothing to ask
        if self.runs.active:
            event.ignore()  # the window closes once the run has stopped (its checkpoint saved), however long that takes
            if self._closing is None:
                answer = self.ask("A run is in progress", "Stop the run and quit? The last checkpoint is kept.",
                                  QMessageBox.Yes | QMessageBox.No)
                if answer == QMessageBox.Yes:
                    ended = tasks.next_emission(self.runs.finished)  # before stop: the end cannot slip past
                    self.runs.stop()
                    self._closing = tasks.launch(self._close_when_stopped(ended), owner=self)
            return
        if not self.maybe_save():
            event.ignore()
            return
        self.dashboard.stop_following()  # a run another process writes: no more reading once the window is gone
        self._editing_docks_shown(True)  # the saved layout is the canvas's, whatever page is in front
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        self.settings.sync()
        self.autosaver.discard()
        event.accept()

    async def _close_when_stopped(self, ended: asyncio.Future) -> None:
        await ended
        self._closing = None
        QTimer.singleShot(0, self, self.close)  # outside this task: closing may still ask about unsaved changes
