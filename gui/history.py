"""The runs panel: past runs from the SQLite index; double-click reopens a run's dashboard."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

STATUS_MARK = {"succeeded": "✔", "failed": "✖", "stopped": "■", "running": "…"}


class RunHistory(QWidget):
    open_run = Signal(str)  # run folder

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.itemActivated.connect(self._activated)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        self.open_button = QPushButton("Open")
        self.open_button.clicked.connect(lambda: self._activated(self.list.currentItem()))
        buttons = QHBoxLayout()
        buttons.addWidget(refresh)
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

    def refresh(self) -> None:
        from engine.run_index import RunIndex

        self.list.clear()
        for run in RunIndex().list():
            if not run.get("exists"):
                continue
            mark = STATUS_MARK.get(run.get("status") or "", "?")
            started = (run.get("started") or "").replace("T", " ")[:16]
            item = QListWidgetItem(f"{mark} {run.get('workflow') or run.get('run_id')}  ·  {started}")
            item.setData(Qt.UserRole, run["run_dir"])
            item.setToolTip(f"{run['run_dir']}\nstatus: {run.get('status')} · device: {run.get('device')}")
            self.list.addItem(item)

    def _activated(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.open_run.emit(item.data(Qt.UserRole))
