"""The Experiments panel: pick a study, start / pause / continue its sweep, and read its trials.

Top: the study picker (the studies in the default storage) and the sweep's
buttons.  Below: the trials table (sortable; the best trial highlighted,
pruned trials marked) and, in tabs, the parallel-coordinates plot, the
parameter importances and the selected trials' curves.  Everything that
touches the study database or run folders runs in the background
(:mod:`gui.tasks`); the newest request wins, so a refresh after every
finished trial never stacks up.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui import tasks
from gui.experiments.curves import TrialCurves
from gui.experiments.draft import SweepDraft
from gui.experiments.plots import ImportanceBars, ParallelCoordinates
from gui.experiments.sweep_api import api
from gui.experiments.sweeping import SweepRunner
from gui.experiments.table import TrialsModel, TrialsProxy, format_value

if TYPE_CHECKING:
    from gui.main_window import MainWindow
    from gui.theme import Colors

WIDE = 620  # px: the panel's width when it comes to the front in a narrower side dock


def load_study(name: str) -> tuple[Any, dict[str, float]]:
    """The study's view and its parameter importances (in the executor: SQLite, and Optuna's evaluator)."""
    sweep = api()
    view = sweep.read_study(name)
    return view, sweep.param_importances(view)


def list_studies() -> list[str]:
    return api().list_studies()


class ExperimentsPanel(QScrollArea):
    """The panel of ``window`` (sweeps it starts share the window's device with its runs: one at a time).

    A scroll area: tabbed with the narrow Steps and Runs panels, its buttons and
    table must not force the whole side of the window to their width (it
    widens itself when it comes to the front).
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.main = window
        self.draft = SweepDraft(self)
        self.runner = SweepRunner(self)
        self.view: Any = None  # the StudyView shown
        self.importances: dict[str, float] = {}
        self._loading: asyncio.Task | None = None
        self._listing: asyncio.Task | None = None
        self._listed = False
        self._sized_for = ""
        self._build()
        self.runner.trial.connect(self._trial_finished)
        self.runner.events.connect(self._forward_events)
        self.runner.ended.connect(self._sweep_ended)
        self._update_buttons()

    # -- construction -------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.picker = QComboBox()
        self.picker.setMinimumContentsLength(14)
        self.picker.setPlaceholderText("no studies yet")
        self.picker.setToolTip("Studies in Loom's sweep database (loom sweep and this panel share it)")
        self.picker.currentTextChanged.connect(self._picked)
        self.new_button = QPushButton("New sweep…")
        self.new_button.setToolTip("Search the settings you marked with right-click → Sweep this… in the inspector")
        self.new_button.clicked.connect(self.new_sweep)
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Start the sweep you set up (New sweep… sets one up)")
        self.start_button.clicked.connect(self.start)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Stop after the current trial stops cleanly; Continue goes on later")
        self.pause_button.clicked.connect(self.pause)
        self.continue_button = QPushButton("Continue")
        self.continue_button.setToolTip("Run the chosen study on until it has all its trials (finished trials are kept)")
        self.continue_button.clicked.connect(self.continue_study)
        self.best_button = QPushButton("Open best as workflow")
        self.best_button.setToolTip("The workflow with the best trial's settings, as a new untitled document")
        self.best_button.clicked.connect(self.open_best)
        self.status = QLabel("Right-click a setting in the inspector → Sweep this…, then New sweep….")
        # one line, clipped at the panel's edge (the whole text is its tooltip, see _tell): a wrapping label would make the
        # scroll area size the panel for its height-for-width, taller than the dock, with a scroll bar
        self.status.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.model = TrialsModel(self)
        self.proxy = TrialsProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._selection_changed())
        self.parallel = ParallelCoordinates()
        self.importance = ImportanceBars()
        self.curves = TrialCurves()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.parallel, "Parallel coordinates")
        self.tabs.addTab(self.importance, "Importance")
        self.tabs.addTab(self.curves, "Curves")
        self.split = split = QSplitter(Qt.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setChildrenCollapsible(False)
        self.table.setMinimumHeight(120)
        self.tabs.setMinimumHeight(180)
        top = QHBoxLayout()
        top.addWidget(QLabel("Study:"))
        top.addWidget(self.picker, 1)
        buttons = QHBoxLayout()
        for button in (self.new_button, self.start_button, self.pause_button, self.continue_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        body = QWidget()
        self.setWidget(body)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.NoFrame)
        body.setMinimumWidth(WIDE - 40)
        layout = QVBoxLayout(body)
        layout.addLayout(top)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        best_row = QHBoxLayout()
        best_row.addStretch(1)
        best_row.addWidget(self.best_button)
        layout.addLayout(best_row)

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._listed:  # the study database is read when the panel is first looked at, not at start-up
            self._listed = True
            self.refresh_studies()

    def dock_visible(self, visible: bool) -> None:
        """The dock's tab came to the front (its ``visibilityChanged``): widen it once laid out."""
        if visible:
            QTimer.singleShot(0, self._widen)

    def _widen(self) -> None:
        """The side docks are a palette's width: a table of trials and its plots need more.

        On the dock's own signal, not on a show event: Qt shows every tabbed dock
        for a moment while it lays the window out, and the canvas must not jump then.
        """
        dock = getattr(self.main, "experiments_dock", None)
        if dock is not None and not dock.isFloating() and dock.width() < WIDE and self.isVisible():
            self.main.resizeDocks([dock], [WIDE], Qt.Horizontal)

    # -- studies ------------------------------------------------------------------------------------------
    def refresh_studies(self, select: str = "") -> asyncio.Task:
        """Re-read the study list in the background (then show ``select``, or keep the current one)."""
        if self._listing is not None:
            self._listing.cancel()
        self._listing = tasks.launch(self._list(select), owner=self, on_error=self._read_failed)
        return self._listing

    async def _list(self, select: str) -> list[str]:
        names = await tasks.run_blocking(list_studies)
        keep = select or self.picker.currentText()
        self.picker.blockSignals(True)
        self.picker.clear()
        self.picker.addItems(names)
        self.picker.setCurrentIndex(names.index(keep) if keep in names else (0 if names else -1))
        self.picker.blockSignals(False)
        if self.picker.currentText():
            await self.load(self.picker.currentText())
        return names

    def _picked(self, name: str) -> None:
        if name:
            self._loading = tasks.launch(self.load(name), owner=self, on_error=self._read_failed)

    async def load(self, name: str) -> Any:
        """Read study ``name`` (and its importances) in the background and show it."""
        view, importances = await tasks.run_blocking(load_study, name)
        self.show_view(view, importances)
        return view

    def _read_failed(self, exc: BaseException) -> None:
        from engine.errors import UserInputError

        if not isinstance(exc, UserInputError):
            raise exc
        self._tell(str(exc))

    def show_view(self, view: Any, importances: dict[str, float] | None = None) -> None:
        """Fill the table and plots from a StudyView (sorted by the metric, best first)."""
        self.view = view
        self.importances = dict(importances or {})
        self.model.set_view(view)
        self.parallel.set_view(view)
        self.importance.set_importances(self.importances)
        if self._sized_for != view.name:  # once per study: later refreshes keep the analyst's sort and split
            self._sized_for = view.name
            value_column = 2 + len(self.model.keys)
            self.table.sortByColumn(value_column, Qt.DescendingOrder if view.maximize else Qt.AscendingOrder)
            self._fit_table()
        self._say()
        self._update_buttons()

    def _tell(self, text: str) -> None:
        """The panel's status line (and its tooltip, for a line longer than the panel is wide)."""
        self.status.setText(text)
        self.status.setToolTip(text)

    def _fit_table(self) -> None:
        """The table as tall as its rows (at most half the panel): the plots get the rest, not empty table."""
        total = sum(self.split.sizes())
        if total <= 0:
            return
        t = self.table
        want = t.horizontalHeader().height() + t.verticalHeader().length() + 2 * t.frameWidth() + 4
        if t.horizontalScrollBar().isVisible():
            want += t.horizontalScrollBar().height()
        height = max(t.minimumHeight(), min(want, total // 2))
        self.split.setSizes([height, total - height])

    def _say(self) -> None:
        if self.runner.active:
            return  # the sweep's own line stands
        view = self.view
        if view is None:
            return
        counts = {s: sum(t.state == s for t in view.trials) for s in ("complete", "pruned", "failed", "running")}
        best = view.best
        line = f"{len(view.trials)} trials: {counts['complete']} complete, {counts['pruned']} pruned"
        line += f", {counts['failed']} failed" if counts["failed"] else ""
        if best is not None:
            line += f" · best {view.metric} {format_value(best.value)} (trial {best.number})"
        self._tell(line)

    # -- the trials selected --------------------------------------------------------------------------------
    def selected_trials(self) -> list[Any]:
        rows = {self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()}
        return [self.model.rows[r] for r in sorted(rows)]

    def _selection_changed(self) -> None:
        if self.view is not None:
            self.curves.show_trials(self.selected_trials(), self.view.metric)

    # -- sweeping -------------------------------------------------------------------------------------------
    def new_sweep(self, study: str = "", view: Any = None) -> Any:
        """Open *New sweep…* (non-modal); accepting it starts the sweep. Returns the dialog."""
        from gui.experiments.new_sweep import NewSweepDialog

        workflow = self.main.doc.workflow
        kwargs: dict[str, Any] = {}
        if view is not None:  # continue a study this session did not start: its parameters and goal
            self.draft.replace(view.params)
            from gui.experiments.best import study_workflow

            workflow = study_workflow(view, self.runner.config) or workflow
            kwargs = {"study": view.name, "trials": max(20, view.finished() + 1)}
        elif self.runner.config is not None:
            kwargs = {"trials": self.runner.config.trials}
        dialog = NewSweepDialog(self.draft, workflow, self, study=study or kwargs.pop("study", ""), **kwargs)
        if view is not None:
            dialog.metric_box.setCurrentText(view.metric)
            dialog.direction.setCurrentText("maximize" if view.maximize else "minimize")
        dialog.accepted.connect(lambda: self.start_sweep(dialog.result_config))
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()
        self.new_dialog = dialog
        return dialog

    def start(self) -> Any:
        """*Start*: the sweep set up last, again (finished trials are kept), else *New sweep…*."""
        if self.runner.config is None:
            return self.new_sweep()
        return self.start_sweep(self.runner.config)

    def start_sweep(self, config: Any) -> asyncio.Task | None:
        """Run ``config`` in the background; None (and a line saying why) when a run or sweep is under way."""
        self.main.runs.settle()
        if self.main.runs.active:
            self._tell("A run is in progress: a sweep starts when it has ended (one at a time per device).")
            return None
        task = self.runner.start(config)
        if task is None:
            return None
        self._tell(f"Sweeping '{config.study_name}': {config.trials} trials…")
        self.main.statusBar().showMessage(f"Sweep '{config.study_name}' started", 6000)
        self.main.dashboard.reset()
        self.main.dashboard_dock.raise_()
        self._update_buttons()
        self.refresh_studies(select=config.study_name)
        return task

    def pause(self) -> None:
        if self.runner.active:
            self.runner.pause()
            self._tell("Pausing: the current trial stops cleanly, then the sweep waits for Continue.")
            self._update_buttons()

    def continue_study(self) -> Any:
        """Run the chosen study on: with its settings from this session, else from *New sweep…* filled in."""
        name = self.picker.currentText()
        config = self.runner.config
        if config is not None and config.study_name == name:
            return self.start_sweep(config)
        if self.view is not None and self.view.name == name:
            return self.new_sweep(view=self.view)
        return None

    def _trial_finished(self, row: Any) -> None:
        """A trial started (state running) or ended: say so, list its run, show the study as it is now."""
        config = self.runner.config
        if row.state == "running":
            self._tell(f"Sweeping '{config.study_name}': trial {row.number} running…")
        else:
            value = "" if row.value is None else f", {config.metric} {format_value(row.value)}"
            self._tell(f"Sweeping '{config.study_name}': trial {row.number} {row.state}{value}")
        self.main.past_runs.refresh()
        if self.picker.currentText() in (config.study_name, ""):
            self.refresh_studies(select=config.study_name)

    def _sweep_ended(self, view: Any, message: str) -> None:
        self._update_buttons()
        self.main.past_runs.refresh()
        if message:
            self._tell(message)
            self.main.show_error("Cannot run the sweep", message)
            return
        if view is not None:
            self.show_view(view, self.importances)
            self.refresh_studies(select=view.name)
        self.main.statusBar().showMessage("Sweep ended", 6000)

    def _forward_events(self, batch: list) -> None:
        """The trials' engine events to the dashboard and the canvas's badges (a new trial starts a fresh dashboard)."""
        from engine import events as ev

        for e in batch:
            if isinstance(e, ev.RunStarted):
                self.main.dashboard.reset()
            elif isinstance(e, ev.NodeState) and e.node_id in self.main.scene.nodes:
                self.main.scene.set_node_state(e.node_id, e.state, e.message)
        self.main.dashboard.handle(batch)

    def _update_buttons(self) -> None:
        """One thing at a time on the device: a sweep disables Run, a run disables Start and Continue."""
        sweeping = self.runner.active
        run_active = self.main.runs.active
        has_study = bool(self.picker.currentText())
        self.new_button.setEnabled(not sweeping)
        self.start_button.setEnabled(not sweeping and not run_active)
        self.continue_button.setEnabled(not sweeping and not run_active and has_study)
        self.pause_button.setEnabled(sweeping and not self.runner.pausing)
        self.best_button.setEnabled(self.view is not None and self.view.best is not None)
        self.main.act.run.setEnabled(not sweeping and not run_active)
        self.main.act.continue_run.setEnabled(not sweeping and not run_active)

    def apply_theme(self, c: Colors) -> None:
        """Light or dark: the plots' backgrounds, and their lines and labels drawn again in the new colours."""
        for box in (self.parallel, self.importance, self.curves.box):
            if box.plot is not None:
                box.plot.setBackground(c.plot_bg)
        if self.view is not None:
            self.parallel.set_view(self.view)
            self.importance.set_importances(self.importances)
        self.curves.redraw()

    def run_state_changed(self, _state: str) -> None:
        """The window's own run started or ended."""
        self._update_buttons()

    # -- open best -------------------------------------------------------------------------------------------
    def open_best(self) -> bool:
        """The workflow with the best trial's settings, as a new untitled document (gui.experiments.best)."""
        from gui.experiments.best import open_best

        return self.view is not None and open_best(self.main, self.view, self.runner.config)

    # -- Sweep this… (from the inspector) -------------------------------------------------------------------------
    def sweep_this(self, node_id: str, name: str) -> Any:
        """Ask for the range of ``node_id.name`` (non-modal); accepting adds it to the draft. Returns the dialog."""
        from gui.experiments.draft import ask_range

        self.range_dialog = ask_range(self.main, node_id, name, self._drafted)
        return self.range_dialog

    def _drafted(self, param: Any) -> None:
        self.draft.add(param)
        keys = ", ".join(self.draft.keys())
        self._tell(f"To search: {keys}. Press New sweep… to choose trials, sampler and metric.")
        self.main.experiments_dock.raise_()
