"""The study's two summary plots: parallel coordinates of settings against the metric, and parameter importance.

Parallel coordinates: one vertical axis per searched parameter and one for the
metric, each trial a polyline through its values, coloured by its metric
(dark = poor, bright = good, whatever the direction), pruned trials dashed.
Each axis is scaled to its own range (a log parameter on a log scale, a
choice as evenly spaced values) and labelled with its ends.

pyqtgraph is imported when a plot is first drawn, never while the window opens.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.experiments.table import format_value
from gui.theme import colors

COLOURMAP = "plasma"
COLOUR_SPAN = (0.05, 0.78)  # poor = deep blue .. good = orange; plasma's pale yellow end vanishes on white


def axis_position(param: Any, value: Any) -> float | None:
    """Where ``value`` sits on ``param``'s axis, 0 (bottom) .. 1 (top); None when it cannot be placed."""
    if value is None:
        return None
    if param.kind == "choice":
        choices = list(param.choices)
        if value not in choices:
            return None
        return 0.5 if len(choices) == 1 else choices.index(value) / (len(choices) - 1)
    low, high, x = param.low, param.high, float(value)
    if param.log and low and high and low > 0 and x > 0:
        low, high, x = math.log10(low), math.log10(high), math.log10(x)
    if high is None or low is None or high == low:
        return 0.5
    return min(1.0, max(0.0, (x - low) / (high - low)))


class LazyPlot(QWidget):
    """A box that gets its pyqtgraph PlotWidget on first use, with a line of text while there is nothing to draw."""

    def __init__(self, empty_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot: Any = None
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.note = QLabel(empty_text)
        self.note.setAlignment(Qt.AlignCenter)
        self.note.setWordWrap(True)
        self.layout_.addWidget(self.note)

    def plot_widget(self) -> Any:
        if self.plot is None:
            import pyqtgraph as pg

            c = colors()
            self.plot = pg.PlotWidget(background=c.plot_bg)
            self.plot.setMenuEnabled(False)
            self.plot.setMouseEnabled(False, False)
            self.plot.hideButtons()
            self.layout_.addWidget(self.plot, 1)
        return self.plot

    def show_note(self, text: str) -> None:
        self.note.setText(text)
        self.note.setVisible(bool(text))
        if self.plot is not None:
            self.plot.setVisible(not text)


class ParallelCoordinates(LazyPlot):
    """Settings against the metric; ``lines`` maps trial number -> its polyline (tests count them)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("The settings of each trial against its metric appear here once trials have a value.", parent)
        self.lines: dict[int, Any] = {}

    def set_view(self, view: Any) -> None:
        trials = [t for t in (view.trials if view is not None else []) if t.value is not None and math.isfinite(t.value)]
        if view is None or not trials or not view.params:
            self._clear()
            self.show_note("The settings of each trial against its metric appear here once trials have a value.")
            return
        import pyqtgraph as pg

        plot = self.plot_widget()
        self._clear()
        self.show_note("")
        c = colors()
        fg = c.plot_fg
        params = list(view.params)
        values = [t.value for t in trials]
        lo, hi = min(values), max(values)
        n = len(params)
        cmap = pg.colormap.get(COLOURMAP)
        for i, p in enumerate(params):
            self._axis(plot, i, p.key + (" (log)" if p.log else ""), *self._ends(p), fg)
        self._axis(plot, n, view.metric, format_value(lo), format_value(hi), fg)
        order = sorted(trials, key=lambda t: t.value if view.maximize else -t.value)  # the best drawn last, on top
        for t in order:
            ys = [axis_position(p, t.params.get(p.key)) for p in params]
            if any(y is None for y in ys):
                continue
            metric_y = 0.5 if hi == lo else (t.value - lo) / (hi - lo)
            goodness = metric_y if view.maximize else 1 - metric_y
            lo_c, hi_c = COLOUR_SPAN
            colour = cmap.map(lo_c + (hi_c - lo_c) * goodness, mode="qcolor")
            pen = pg.mkPen(colour, width=2.5 if t is order[-1] else 1.6,
                           style=Qt.DashLine if t.state == "pruned" else Qt.SolidLine)
            line = pg.PlotDataItem(list(range(n + 1)), [*ys, metric_y], pen=pen, symbol="o", symbolSize=5,
                                   symbolBrush=colour, symbolPen=None)
            line.setToolTip(f"trial {t.number}: {t.state}, {view.metric} {format_value(t.value)}")
            plot.addItem(line)
            self.lines[t.number] = line
        plot.setXRange(-0.4, n + 0.4, padding=0)
        plot.setYRange(-0.1, 1.22, padding=0)

    @staticmethod
    def _ends(p: Any) -> tuple[str, str]:
        if p.kind == "choice":
            return format_value(p.choices[0]), format_value(p.choices[-1])
        return format_value(p.low), format_value(p.high)

    def _axis(self, plot: Any, x: int, title: str, low: str, high: str, fg: str) -> None:
        import pyqtgraph as pg

        plot.addItem(pg.PlotDataItem([x, x], [0, 1], pen=pg.mkPen(fg, width=1)))
        # the name above the axis, clear of its top label; the ends to the right of the axis
        for text, y, anchor in ((title, 1.0, (0.5, 1.7)), (high, 1.0, (-0.05, 0.5)), (low, 0.0, (-0.05, 0.5))):
            label = pg.TextItem(text, color=fg, anchor=anchor)
            label.setPos(x, y)
            plot.addItem(label)

    def _clear(self) -> None:
        self.lines = {}
        if self.plot is not None:
            self.plot.clear()
            self.plot.getPlotItem().hideAxis("left")
            self.plot.getPlotItem().hideAxis("bottom")


class ImportanceBars(LazyPlot):
    """Optuna's importance of each parameter as horizontal bars; ``bars`` maps key -> importance (tests read it)."""

    EMPTY = "Parameter importance needs at least two complete trials."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.EMPTY, parent)
        self.bars: dict[str, float] = {}

    def set_importances(self, importances: dict[str, float]) -> None:
        self.bars = dict(importances)
        if not importances:
            if self.plot is not None:
                self.plot.clear()
            self.show_note(self.EMPTY)
            return
        import pyqtgraph as pg

        plot = self.plot_widget()
        plot.clear()
        self.show_note("")
        ordered = sorted(importances.items(), key=lambda kv: kv[1])  # the most important on top
        ys = list(range(len(ordered)))
        bars = pg.BarGraphItem(x0=[0] * len(ordered), y=ys, height=0.6, width=[v for _, v in ordered],
                               brush="#1c7ed6", pen=None)
        plot.addItem(bars)
        c = colors()
        fg = c.plot_fg
        for y, (_key, value) in zip(ys, ordered, strict=True):
            label = pg.TextItem(f"{value:.2f}", color=fg, anchor=(0, 0.5))
            label.setPos(value, y)
            plot.addItem(label)
        left = plot.getPlotItem().getAxis("left")
        left.setTicks([[(y, key) for y, (key, _) in zip(ys, ordered, strict=True)]])
        plot.getPlotItem().showAxis("left")
        plot.getPlotItem().setLabel("bottom", "importance (Optuna's evaluator)")
        plot.setXRange(0, max(1e-9, max(importances.values())) * 1.2, padding=0)
        plot.setYRange(-0.6, len(ordered) - 0.4, padding=0)
