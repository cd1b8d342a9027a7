"""The runs panel: the list of past runs and its buttons.

Double-click (or Open) reopens a run's dashboard; with two or more runs
selected, Compare lays them side by side; Reuse opens a run's workflow, with
the settings it ran with, as a new untitled document; Move to trash asks
first.  Right-click offers what can be done with one run afterwards: its
results page, Try it, Export, Generate more, Continue training.  The panel is only a view: it shows the runs it is given
(:meth:`RunHistory.show_runs`) and announces what the analyst wants
(signals); :class:`gui.past_runs.PastRuns` queries the index and does the
rest, so every question and error goes through one place.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.names import RunStatus

STATUS_ROLE = Qt.UserRole + 1  # the index's status of the run an item shows
STATUS_MARK = {RunStatus.SUCCEEDED: "✔", RunStatus.FAILED: "✖", RunStatus.STOPPED: "■", RunStatus.RUNNING: "…"}


class RunHistory(QWidget):
    open_run = Signal(str)  # run folder
    compare_runs = Signal(list)  # run folders, two or more
    reuse_run = Signal(str)  # run folder whose workflow to open as a new document
    trash_runs = Signal(list)  # run folders the analyst wants gone
    refresh_requested = Signal()
    menu_requested = Signal(list, QPoint)  # the selected run folders, where to show their menu (global)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.list.itemActivated.connect(self._activated)
        self.list.itemSelectionChanged.connect(self._update_buttons)
        self.list.setContextMenuPolicy(Qt.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.list.setToolTip("Double-click a run to reopen its dashboard; right-click for its results, Try it, "
                             "Export, Generate more and Continue training.")
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh_requested)
        self.open_button = self._button("Open", "Reopen the run's dashboard and results",
                                        lambda: self._activated(self.list.currentItem()))
        self.compare_button = self._button("Compare", "Select two or more runs (Ctrl+click) to compare settings, "
                                           "scores and curves", lambda: self.compare_runs.emit(self.selected()))
        self.reuse_button = self._button("Reuse", "Open this run's workflow, with the settings it ran with, as a "
                                         "new document", lambda: self.reuse_run.emit(self.selected()[0]))
        self.trash_button = self._button("Move to trash", "Move the selected run folders to the trash",
                                         lambda: self.trash_runs.emit(self.selected()))
        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addWidget(self.compare_button)
        top.addWidget(self.reuse_button)
        bottom = QHBoxLayout()
        bottom.addWidget(refresh)
        bottom.addStretch(1)
        bottom.addWidget(self.trash_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list, 1)
        layout.addLayout(top)
        layout.addLayout(bottom)
        self._update_buttons()

    def _button(self, text: str, tip: str, slot) -> QPushButton:  # noqa: ANN001
        button = QPushButton(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    def show_runs(self, runs: list[dict]) -> None:
        """Show the index's rows (newest first); runs whose folder is gone are left out."""
        self.list.clear()
        for run in runs:
            if not run.get("exists"):
                continue
            mark = STATUS_MARK.get(run.get("status") or "", "?")
            started = (run.get("started") or "").replace("T", " ")[:16]
            item = QListWidgetItem(f"{mark} {run.get('workflow') or run.get('run_id')}\n    {started} · {run.get('device') or ''}")
            item.setData(Qt.UserRole, run["run_dir"])
            item.setData(STATUS_ROLE, run.get("status") or "")
            item.setToolTip(f"{run['run_dir']}\nstatus: {run.get('status')} · device: {run.get('device')}")
            self.list.addItem(item)
        self._update_buttons()

    def selected(self) -> list[str]:
        """Selected run folders, in list order (newest first)."""
        return [self.list.item(i).data(Qt.UserRole) for i in range(self.list.count())
                if self.list.item(i).isSelected()]

    def _update_buttons(self) -> None:
        n = len(self.list.selectedItems())
        self.open_button.setEnabled(n == 1)
        self.reuse_button.setEnabled(n == 1)
        self.compare_button.setEnabled(n >= 2)
        self.trash_button.setEnabled(n >= 1)

    def status_of(self, run_dir: str) -> str:
        """The listed status of ``run_dir`` ("" when it is not listed)."""
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.UserRole) == run_dir:
                return item.data(STATUS_ROLE) or ""
        return ""

    def _context_menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        if not item.isSelected():  # right-click on an unselected run: it becomes the selection, as in a file manager
            self.list.setCurrentItem(item)
        self.menu_requested.emit(self.selected(), self.list.viewport().mapToGlobal(pos))

    def _activated(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.open_run.emit(item.data(Qt.UserRole))
