"""Compare runs: the settings that differ and the scores in a table, one metric's curves overlaid.

Everything shown comes from :class:`engine.compare.Comparison`, which reads
the run folders; this module only lays it out.  The table has one column per
run; rows for settings that differ between the runs come first and are
highlighted, because "what did I change, and what did it do" is the question.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.compare import Comparison
from gui.dashboard.curves import SERIES_COLORS
from gui.theme import colors

PREFERRED_METRICS = ("val_loss", "val_accuracy", "train_loss", "loss_g", "loss")
SMOOTH_FROM = 50  # points; sparser curves are drawn as they are


def default_metric(names: list[str]) -> str:
    """The curve most worth overlaying first: validation loss, else a training loss."""
    for wanted in PREFERRED_METRICS:
        for name in names:
            if name.endswith("." + wanted):
                return name
    return names[0] if names else ""


def smoothed(values: list[float], weight: float = 0.9) -> list[float]:
    """Exponential moving average, started at the first value (no bias towards zero)."""
    out, average = [], None
    for v in values:
        average = v if average is None else weight * average + (1 - weight) * v
        out.append(average)
    return out


class CompareDialog(QDialog):
    def __init__(self, comparison: Comparison, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.comparison = comparison
        self.setWindowTitle(f"Compare {len(comparison.runs)} runs — Loom")
        self.resize(980, 680)
        self.table = self._build_table()
        self.metric_box = QComboBox()
        names = comparison.metric_names()
        self.metric_box.addItems(names)
        self.metric_box.setCurrentText(default_metric(names))
        self.metric_box.currentTextChanged.connect(self.show_metric)
        self.plot = None  # pyqtgraph's PlotWidget, built on first show (pyqtgraph imports slowly)
        self.plot_box = QVBoxLayout()
        plot_panel = QWidget()
        plot_panel.setLayout(self.plot_box)
        top = QHBoxLayout()
        top.addWidget(QLabel("Curve:"))
        top.addWidget(self.metric_box, 1)
        self.smooth = QCheckBox("Smooth")
        self.smooth.setToolTip("Exponential moving average (0.9) of per-step curves, so noisy runs can be told apart")
        self.smooth.setChecked(True)
        self.smooth.toggled.connect(lambda _on: self.show_metric(self.metric_box.currentText()))
        top.addWidget(self.smooth)
        self.plot_box.addLayout(top)
        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(plot_panel)
        splitter.setSizes([360, 320])
        export = QPushButton("Export CSV…")
        export.clicked.connect(self.export_csv)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        changed = len(comparison.differing_params)
        buttons.addWidget(QLabel(f"{changed} setting{'s differ' if changed != 1 else ' differs'} (highlighted)"
                                 if changed else "The runs used identical settings"))
        buttons.addStretch(1)
        buttons.addWidget(export)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)
        self.show_metric(self.metric_box.currentText())

    def _build_table(self) -> QTableWidget:
        rows = self.comparison.rows()
        table = QTableWidget(len(rows), len(self.comparison.runs))
        table.setHorizontalHeaderLabels([r.label for r in self.comparison.runs])
        table.setVerticalHeaderLabels([name for _section, name, _values in rows])
        table.setEditTriggers(QTableWidget.NoEditTriggers)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        highlight = QBrush(QColor("#5c4a00" if colors().dark else "#fff3bf"))
        bold = QFont()
        bold.setBold(True)
        for i, (section, _name, values) in enumerate(rows):
            for j, text in enumerate(values):
                item = QTableWidgetItem(text)
                if section == "changed":
                    item.setBackground(highlight)
                    item.setFont(bold)
                    item.setToolTip("This setting differs between the runs")
                table.setItem(i, j, item)
        return table

    def show_metric(self, metric: str) -> None:
        if not metric:
            return
        import pyqtgraph as pg

        if self.plot is None:
            self.plot = pg.PlotWidget(background=colors().plot_bg)
            self.plot.addLegend(offset=(-10, 10))
            self.plot.setLabel("bottom", "step")
            self.plot.showGrid(x=True, y=True, alpha=0.2)
            self.plot_box.addWidget(self.plot, 1)
        self.plot.clear()
        self.plot.setTitle(metric)
        for i, (label, steps, values) in enumerate(self.comparison.curves(metric)):
            dense = len(values) > SMOOTH_FROM  # per-epoch curves are few points and already calm
            shown = smoothed(values) if self.smooth.isChecked() and dense else values
            self.plot.plot(steps, shown, name=label, pen=pg.mkPen(SERIES_COLORS[i % len(SERIES_COLORS)], width=1.5))

    def curve_labels(self) -> list[str]:
        """The runs drawn on the plot now (for tests and the accessibility tree)."""
        return [item.name() for item in self.plot.listDataItems()] if self.plot is not None else []

    def export_csv(self, path: str | None = None) -> None:
        from engine.fileio import atomic_write_text

        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "Export comparison", str(Path.home() / "comparison.csv"),
                                                  "CSV (*.csv)")
        if path:
            atomic_write_text(Path(path), self.comparison.to_csv())
