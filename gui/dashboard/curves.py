"""Live metric curves, one plot per metric group, drawn the fast pyqtgraph way.

One ``PlotDataItem`` per series, updated with ``setData`` once per GUI frame
(only the series that changed), thin pens, peak downsampling and clip-to-view
so a 100k-step run stays as cheap to draw as a short one.

Each plot's legend is its header row (the title, then one coloured entry per
curve), never a box inside the plot: a box over the view covers the very
curves it names as soon as they reach that corner, and its colours would need
a second theme of their own.

pyqtgraph (and numpy) take about a second to import, so they are imported
when the first plot is needed (or by :meth:`MetricCurves.warm_up` once the
app is idle), never on the way to the first window paint.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from engine import events as ev
from gui.dashboard.groups import GROUP_NOTES, group_for
from gui.theme import Colors, colors

SERIES_COLORS = ("#1c7ed6", "#e8590c", "#2f9e44", "#ae3ec9", "#c77700", "#0ca678", "#e03131", "#5c7cfa")  # >= 3:1 on both plot backgrounds
COLUMNS = 2  # plots side by side when the pane is wide enough (PLOT_MIN_WIDTH each); else one under another
PLOT_MIN_WIDTH = 280
#: below this a plot's title and axes leave no room for its curve: the pane scrolls instead (many plots, short dock)
PLOT_MIN_HEIGHT = 150
OVERLAY_PREFIX = "previous:"  # node ids of overlaid runs' series, never a real node id


def nice_ceiling(value: float) -> float:
    """The next 1, 2 or 5 times a power of ten at or above ``value``."""
    import math

    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= value)


class Series:
    """One curve: growing numpy buffers (amortised O(1) appends) and an incremental EMA."""

    def __init__(self, node_id: str, name: str, item: Any) -> None:
        import numpy as np

        self.node_id, self.name, self.item = node_id, name, item
        self.label = name  # as the plot's legend names it
        self._x = np.empty(256)
        self._y = np.empty(256)
        self._s = np.empty(256)
        self.n = 0
        self.alpha = 0.0
        self._acc = self._weight = 0.0
        self.dirty = False

    @property
    def steps(self) -> Any:
        return self._x[: self.n]

    @property
    def values(self) -> Any:
        return self._y[: self.n]

    def append(self, step: float, value: float) -> None:
        import numpy as np

        if self.n == len(self._x):
            self._x, self._y, self._s = (np.resize(a, 2 * len(a)) for a in (self._x, self._y, self._s))
        self._x[self.n], self._y[self.n] = step, value
        self._acc = self.alpha * self._acc + (1 - self.alpha) * value
        self._weight = self.alpha * self._weight + (1 - self.alpha)
        self._s[self.n] = self._acc / self._weight  # debiased, as TensorBoard does
        self.n += 1
        self.dirty = True

    def extend(self, steps: Any, values: Any) -> None:
        """Load a whole finished series at once (a previous run's overlay)."""
        for step, value in zip(steps, values, strict=True):
            self.append(step, value)

    def truncate(self, keep: int) -> None:
        self.n = min(self.n, keep)
        self.set_smoothing(self.alpha)

    def set_smoothing(self, alpha: float) -> None:
        """Recompute the smoothed curve for a new slider value (O(n), once)."""
        self.alpha = alpha
        values = self.values.copy()
        self.n, self._acc, self._weight = 0, 0.0, 0.0
        for i, v in enumerate(values):
            self.append(self._x[i], v)

    def arrays(self, smoothing: float | None = None) -> tuple[Any, Any]:
        x = self._x[: self.n].copy()
        y = (self._s if self.alpha > 0 else self._y)[: self.n].copy()
        return x, y


class MetricCurves(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.series: dict[tuple[str, str], Series] = {}
        self.plots: dict[str, Any] = {}  # group -> pyqtgraph.PlotItem
        self.legends: dict[str, list[tuple[str, str, bool]]] = {}  # group -> (label, colour, dashed) per curve
        self._manual: set = set()  # plots the user panned or zoomed: not followed until Auto-range
        self.smoothing = 0.0
        self.log_y = False
        self.graphics = None  # pyqtgraph.GraphicsLayoutWidget, made on first use
        self._colors = colors()
        self.smooth_slider = QSlider(Qt.Horizontal)
        self.smooth_slider.setRange(0, 99)
        self.smooth_slider.setMaximumWidth(160)
        self.smooth_slider.setMinimumWidth(50)
        self.smooth_slider.setToolTip("Smoothing (exponential moving average); 0 shows the raw values")
        self.smooth_slider.valueChanged.connect(self._smoothing_changed)
        self.smooth_label = QLabel("smoothing 0.00")
        self.log_box = QCheckBox("log y")
        self.log_box.toggled.connect(self.set_log_y)
        self.autorange = QPushButton("Auto-range")
        self.autorange.clicked.connect(self.auto_range)
        self.readout = QLabel("")
        self.readout.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.readout.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # a long readout never widens the dock
        self.empty = QLabel("Curves appear here when a run reports metrics.")
        self.empty.setAlignment(Qt.AlignCenter)
        self.empty.setWordWrap(True)
        from gui.dashboard.overlay import RunOverlay

        self.overlay = RunOverlay(self)
        controls = QHBoxLayout()
        controls.setContentsMargins(4, 0, 4, 0)
        for w in (self.smooth_label, self.smooth_slider, self.log_box, self.autorange, self.overlay.button):
            controls.addWidget(w)
        controls.addWidget(self.readout, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.empty, 1)
        self._layout = layout

    def warm_up(self) -> None:
        """Import pyqtgraph and build the plot area now (call when the app is idle)."""
        if self.graphics is not None:
            return
        import pyqtgraph as pg

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.ci.setSpacing(6)
        self.graphics.setBackground(self._colors.plot_bg)
        # Plots share the pane's height down to PLOT_MIN_HEIGHT each; more plots than fit scroll (a generator's
        # losses, D outputs and quality plots in a short dock), rather than squashing their curves to nothing.
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.graphics)
        self.scroll.hide()
        self._layout.addWidget(self.scroll, 1)
        self._hover_proxy = pg.SignalProxy(self.graphics.scene().sigMouseMoved, rateLimit=30, slot=self._hover)

    # -- data in ----------------------------------------------------------------------------
    def add_point(self, point: ev.MetricPoint) -> None:
        series = self.series.get((point.node_id, point.name)) or self._new_series(point.node_id, point.name)
        series.append(point.step, point.value)

    def rewind(self, node_id: str, step: int) -> None:
        for (nid, _), series in self.series.items():
            if nid == node_id:
                series.truncate(int((series.steps <= step).sum()))

    def clear(self) -> None:
        if self.graphics is not None:
            self.graphics.ci.clear()
            self.graphics.setMinimumHeight(0)
            self.scroll.hide()
        self.series.clear()
        self.plots.clear()
        self.legends.clear()
        self._manual.clear()
        self.readout.setText("")
        self.empty.show()
        self.overlay.reapply()  # previous runs stay overlaid across a new run

    def redraw(self) -> None:
        """Push changed series to their items (called once per GUI frame)."""
        changed = set()
        for series in self.series.values():
            if series.dirty:
                if series.n <= 2 or series.item.opts.get("symbol"):
                    series.item.setSymbol("o" if series.n <= 2 else None)  # a lone point needs a marker
                    series.item.setSymbolSize(6)
                series.item.setData(*series.arrays())
                series.dirty = False
                changed.add(group_for(series.name))
        for group in changed:
            self._follow(group)

    # -- ranges: grow in steps, so axes (and their text) are not redrawn every frame --------------
    def _bounds(self, group: str) -> tuple[float, float, float, float] | None:
        import numpy as np

        xs, lows, highs = [], [], []
        for series in self.series.values():
            if group_for(series.name) != group or not series.n:
                continue
            x, y = series.arrays()
            y = y[np.isfinite(y)]
            if self.log_y and group != "Accuracy & scores":
                y = np.log10(y[y > 0])
            if len(y):
                xs.append(x[-1])
                lows.append(float(y.min()))
                highs.append(float(y.max()))
        if not xs:
            return None
        return float(min(0.0, min(xs))), float(max(xs)), min(lows), max(highs)

    def _follow(self, group: str, tight: bool = False) -> None:
        """Keep all data in view, widening the range with headroom only when data leaves it."""
        plot = self.plots[group]
        if plot in self._manual and not tight:
            return
        bounds = self._bounds(group)
        if bounds is None:
            return
        x0, x1, y0, y1 = bounds
        (vx0, vx1), (vy0, vy1) = plot.vb.viewRange()
        span = max(y1 - y0, abs(y1) * 0.05, 1e-6)
        if tight or x1 > vx1 or vx1 > 4 * max(x1, 10):
            plot.setXRange(x0, nice_ceiling(max(x1, 10) * 1.3), padding=0)
        if tight or y0 < vy0 or y1 > vy1:
            plot.setYRange(y0 - 0.15 * span, y1 + 0.15 * span, padding=0)

    # -- plots ----------------------------------------------------------------------------------
    def add_overlay(self, run_label: str, node_id: str, name: str, steps: Any, values: Any) -> Series:
        """A previous run's finished curve, dashed, on the plot of its metric (see gui.dashboard.overlay)."""
        series = self._new_series(f"{OVERLAY_PREFIX}{run_label}/{node_id}", name, label=f"{run_label}: {name}",
                                  dashed=True)
        series.extend(steps, values)
        return series

    def remove_overlays(self, run_label: str | None = None) -> None:
        """Take away one previous run's curves (or all of them)."""
        prefix = OVERLAY_PREFIX + (f"{run_label}/" if run_label else "")
        for key in [k for k in self.series if k[0].startswith(prefix)]:
            series = self.series.pop(key)
            group = group_for(series.name)
            self.plots[group].removeItem(series.item)
            self.legends[group] = [e for e in self.legends.get(group, []) if e[0] != series.label]
            self._show_legend(group)

    def _new_series(self, node_id: str, name: str, label: str | None = None, dashed: bool = False) -> Series:
        import pyqtgraph as pg

        group = group_for(name)
        plot = self.plots.get(group) or self._new_plot(group)
        index = len(plot.listDataItems())
        color = SERIES_COLORS[index % len(SERIES_COLORS)]
        if label is None:
            others = {nid for (nid, n) in self.series
                      if n == name and nid != node_id and not nid.startswith(OVERLAY_PREFIX)}
            label = f"{node_id}: {name}" if others else name
        pen = pg.mkPen(color, width=1.5, style=Qt.DashLine) if dashed else pg.mkPen(color, width=1.5)
        item = plot.plot(pen=pen)
        item.setDownsampling(auto=True, method="peak")
        item.setClipToView(True)
        self.legends.setdefault(group, []).append((label, color, dashed))
        self._show_legend(group)
        series = Series(node_id, name, item)
        series.label = label
        series.alpha = self.smoothing
        self.series[(node_id, name)] = series
        return series

    def _new_plot(self, group: str) -> Any:

        self.warm_up()
        n = len(self.plots)
        columns = self.columns()
        plot = self.graphics.ci.addPlot(row=n // columns, col=n % columns, title=group)
        plot.setLabel("bottom", "step")
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        plot.setLogMode(y=self.log_y and group != "Accuracy & scores")
        plot.disableAutoRange()  # ranges are managed by _follow (cheaper redraws)
        plot.hideButtons()
        plot.vb.sigRangeChangedManually.connect(lambda *_a, p=plot: self._manual.add(p))
        self.plots[group] = plot
        if group in GROUP_NOTES:
            plot.setToolTip(GROUP_NOTES[group])
        self._style_plot(plot, self._colors)
        self._show_legend(group)
        self._fit_height()
        self.empty.hide()
        self.scroll.show()
        return plot

    def columns(self) -> int:
        """How many plots fit side by side in this pane (so none is cut off in a narrow dock)."""
        return max(1, min(COLUMNS, self.width() // PLOT_MIN_WIDTH))

    def _fit_height(self) -> None:
        """Let the plot area grow past the pane (and scroll) once its rows would be shorter than PLOT_MIN_HEIGHT."""
        rows = -(-len(self.plots) // self.columns())
        self.graphics.setMinimumHeight(rows * PLOT_MIN_HEIGHT)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._reflow()

    def _reflow(self) -> None:
        """Place the plots again when the number of columns that fit has changed.

        The plots move to a fresh grid: Qt's grid layout keeps the widths of a
        column once emptied, which would leave the plots wider than the pane.
        """
        if self.graphics is None or not self.plots:
            return
        import pyqtgraph as pg

        columns = self.columns()
        self._fit_height()
        old = self.graphics.ci
        if all(old.items.get(plot) == [(n // columns, n % columns)] for n, plot in enumerate(self.plots.values())):
            return
        for plot in self.plots.values():
            old.removeItem(plot)
        grid = pg.GraphicsLayout()
        grid.setSpacing(6)
        self.graphics.ci = grid
        self.graphics.setCentralItem(grid)
        for n, plot in enumerate(self.plots.values()):
            grid.addItem(plot, row=n // columns, col=n % columns)

    # -- controls ---------------------------------------------------------------------------------
    def _smoothing_changed(self, value: int) -> None:
        self.smoothing = value / 100.0
        self.smooth_label.setText(f"smoothing {self.smoothing:.2f}")
        for series in self.series.values():
            series.set_smoothing(self.smoothing)
        self.redraw()

    def set_log_y(self, on: bool) -> None:
        self.log_y = on
        for group, plot in self.plots.items():
            plot.setLogMode(y=on and group != "Accuracy & scores")
            self._follow(group, tight=True)

    def auto_range(self) -> None:
        """Fit every plot to its data again (and resume following it)."""
        self._manual.clear()
        for group in self.plots:
            self._follow(group, tight=True)

    def _hover(self, args) -> None:
        import numpy as np

        pos = args[0]
        for group, plot in self.plots.items():
            if not plot.sceneBoundingRect().contains(pos):
                continue
            step = plot.vb.mapSceneToView(pos).x()
            parts = []
            for series in self.series.values():
                if group_for(series.name) != group or not series.n:
                    continue
                x, y = series.arrays()
                i = int(np.clip(np.searchsorted(x, step), 0, len(x) - 1))
                parts.append(f"{series.name} {y[i]:.4g} @ step {int(x[i])}")
            self.readout.setText(" · ".join(parts))
            return

    def apply_theme(self, c: Colors) -> None:
        self._colors = c
        if self.graphics is not None:
            self.graphics.setBackground(c.plot_bg)
        for group, plot in self.plots.items():
            self._style_plot(plot, c)
            self._show_legend(group)

    def _show_legend(self, group: str) -> None:
        """The plot's header row: its name, then each curve's label in the curve's own colour and line style."""
        plot = self.plots.get(group)
        if plot is not None:
            plot.setTitle(legend_html(group, self.legends.get(group, []), self._colors.plot_fg),
                          color=self._colors.plot_fg)

    @staticmethod
    def _style_plot(plot: Any, c: Colors) -> None:
        import pyqtgraph as pg

        for axis in ("left", "bottom"):
            ax = plot.getAxis(axis)
            ax.setPen(pg.mkPen(c.plot_fg))
            ax.setTextPen(pg.mkPen(c.plot_fg))


LEGEND_ONE_LINE = 30  # characters; a longer header puts the curves' names on a second line


def legend_html(group: str, entries: list[tuple[str, str, bool]], fg: str) -> str:
    """``group`` in bold, then "━ label" per curve in its colour (╌ for a dashed, overlaid run)."""
    from html import escape

    parts = [f"<span style='color:{color}'>{'╌' if dashed else '━'}&nbsp;{escape(label)}</span>"
             for label, color, dashed in entries]
    head = f"<b style='color:{fg}'>{escape(group)}</b>"
    if not parts:
        return head
    plain = len(group) + sum(len(label) + 4 for label, _c, _d in entries)
    sep = "<br>" if plain > LEGEND_ONE_LINE else "&nbsp;&nbsp;&nbsp;"
    return head + sep + "&nbsp;&nbsp;".join(parts)
