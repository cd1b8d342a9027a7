"""The curves of the selected trials, overlaid: one metric, one line per trial, epoch on the x axis.

Each trial's run folder ``metrics.csv`` is read in the background
(:mod:`gui.tasks`); a newer selection supersedes a read still under way, so
clicking through the table never stacks up work or shows a stale overlay.
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from gui import tasks
from gui.experiments.plots import LazyPlot
from gui.theme import colors

SERIES_COLORS = ("#1c7ed6", "#e8590c", "#2f9e44", "#ae3ec9", "#c77700", "#0ca678", "#e03131", "#5c7cfa")


def read_trial_metrics(run_dirs: dict[int, str]) -> dict[int, list[dict[str, Any]]]:
    """Trial number -> its metrics.csv rows (in the executor: files of any size)."""
    from engine.store import read_metrics

    return {number: read_metrics(run_dir) for number, run_dir in run_dirs.items()}


def per_epoch(rows: list[dict[str, Any]], name: str) -> tuple[list[float], list[float]]:
    """``name``'s value at each epoch (the last point of each epoch), in epoch order."""
    last: dict[float, float] = {}
    for row in rows:
        if row.get("name") == name and row.get("value") is not None:
            epoch = row.get("epoch")
            last[float(epoch if epoch is not None else row.get("step", 0))] = float(row["value"])
    xs = sorted(last)
    return xs, [last[x] for x in xs]


class TrialCurves(QWidget):
    """Select trials in the table: their curves of one metric (pick it above the plot) overlaid."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.metric_box = QComboBox()
        self.metric_box.setToolTip("Which metric to overlay")
        self.metric_box.currentTextChanged.connect(lambda _t: self.redraw())
        self.box = LazyPlot("Select trials in the table to overlay their curves.")
        top = QHBoxLayout()
        top.addWidget(QLabel("Metric:"))
        top.addWidget(self.metric_box, 1)
        from PySide6.QtWidgets import QVBoxLayout

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.box, 1)
        self.rows: dict[int, list[dict[str, Any]]] = {}
        self.lines: dict[int, Any] = {}  # trial number -> its drawn curve (tests read it)
        self._reading: asyncio.Task | None = None
        self._preferred = ""

    def show_trials(self, trials: list[Any], preferred_metric: str) -> asyncio.Task:
        """Overlay ``trials`` (TrialRows); the task ends once they are drawn."""
        self._preferred = preferred_metric
        if self._reading is not None:
            self._reading.cancel()
        dirs = {t.number: t.run_dir for t in trials if t.run_dir}
        self._reading = tasks.launch(self._read(dirs), owner=self)
        return self._reading

    async def _read(self, dirs: dict[int, str]) -> None:
        self.rows = await tasks.run_blocking(read_trial_metrics, dirs) if dirs else {}
        names = sorted({r["name"] for rows in self.rows.values() for r in rows if r.get("epoch") is not None})
        current = self.metric_box.currentText() or self._preferred
        self.metric_box.blockSignals(True)
        self.metric_box.clear()
        self.metric_box.addItems(names)
        pick = current if current in names else self._preferred if self._preferred in names else ""
        if pick:
            self.metric_box.setCurrentText(pick)
        self.metric_box.blockSignals(False)
        self.redraw()

    def redraw(self) -> None:
        """Draw the trials read last, for the metric picked (also after a theme change: the legend's colours)."""
        name = self.metric_box.currentText()
        self.lines = {}
        if not self.rows or not name:
            if self.box.plot is not None:
                self.box.plot.clear()
            self.box.show_note("Select trials in the table to overlay their curves." if not self.rows
                                else "These trials have recorded no per-epoch metric yet.")
            return
        import pyqtgraph as pg

        plot = self.box.plot_widget()
        plot.clear()
        plot.setMouseEnabled(True, True)
        self.box.show_note("")
        legend = plot.getPlotItem().legend or plot.addLegend(offset=(-10, 10))
        legend.setLabelTextColor(colors().plot_fg)  # the theme's, also after a switch
        for i, (number, rows) in enumerate(sorted(self.rows.items())):
            xs, ys = per_epoch(rows, name)
            if xs:
                pen = pg.mkPen(SERIES_COLORS[i % len(SERIES_COLORS)], width=2)
                self.lines[number] = plot.plot(xs, ys, pen=pen, symbol="o", symbolSize=4, name=f"trial {number}")
        plot.getPlotItem().setLabel("bottom", "epoch")
        plot.getPlotItem().setLabel("left", name)
        plot.enableAutoRange()
