"""Live metric curves, one plot per metric group, drawn the fast pyqtgraph way.

One ``PlotDataItem`` per series, updated with ``setData`` once per GUI frame
(only the series that changed), thin pens, peak downsampling and clip-to-view
so a 100k-step run stays as cheap to draw as a short one.

This module decides what goes on which plot (a metric's group, overlaid runs,
smoothing, log y, following the data); the pieces it builds on each have a
module of their own: a curve's data (:mod:`gui.dashboard.series`), its colour
and the header-row legend (:mod:`gui.dashboard.legend`), the axis ranges
(:mod:`gui.dashboard.ranges`) and the scrolling grid of plots
(:mod:`gui.dashboard.plot_grid`).

pyqtgraph (and numpy) take about a second to import, so they are imported
when the first plot is needed (or by :meth:`MetricCurves.warm_up` once the
app is idle), never on the way to the first window paint.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from engine import events as ev
from gui.dashboard.groups import GROUP_NOTES, group_for
from gui.dashboard.legend import SERIES_COLORS, legend_html
from gui.dashboard.plot_grid import PlotGrid, columns_for
from gui.dashboard.ranges import data_bounds, follow, y_is_log
from gui.dashboard.series import Series, reading
from gui.theme import Colors, colors

OVERLAY_PREFIX = "previous:"  # node ids of overlaid runs' series, never a real node id


class MetricCurves(QWidget):
    """The dashboard's curves pane: the controls above, one plot per metric group below."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.series: dict[tuple[str, str], Series] = {}
        self.plots: dict[str, Any] = {}  # group -> pyqtgraph.PlotItem
        self.legends: dict[str, list[tuple[str, str, bool]]] = {}  # group -> (label, colour, dashed) per curve
        self._manual: set = set()  # plots the user panned or zoomed: not followed until Auto-range
        self.smoothing = 0.0
        self.log_y = False
        self.grid: PlotGrid | None = None  # made on first use (it imports pyqtgraph)
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

    @property
    def graphics(self) -> Any:
        """The pyqtgraph GraphicsLayoutWidget the plots are drawn in; None before the first plot or warm-up."""
        return self.grid.graphics if self.grid is not None else None

    def warm_up(self) -> None:
        """Import pyqtgraph and build the plot area now (call when the app is idle)."""
        if self.grid is not None:
            return
        import pyqtgraph as pg

        self.grid = PlotGrid(self._colors.plot_bg)
        self._layout.addWidget(self.grid.scroll, 1)
        self._hover_proxy = pg.SignalProxy(self.grid.graphics.scene().sigMouseMoved, rateLimit=30, slot=self._hover)

    # -- data in ----------------------------------------------------------------------------
    def add_point(self, point: ev.MetricPoint) -> None:
        series = self.series.get((point.node_id, point.name)) or self._new_series(point.node_id, point.name)
        series.append(point.step, point.value)

    def rewind(self, node_id: str, step: int) -> None:
        for (nid, _), series in self.series.items():
            if nid == node_id:
                series.truncate(int((series.steps <= step).sum()))

    def clear(self) -> None:
        if self.grid is not None:
            self.grid.clear()
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

    def _in_group(self, group: str) -> list[Series]:
        return [series for series in self.series.values() if group_for(series.name) == group]

    def _follow(self, group: str, tight: bool = False) -> None:
        """Keep the plot's data in view (see gui.dashboard.ranges), unless the user panned or zoomed it."""
        plot = self.plots[group]
        if plot in self._manual and not tight:
            return
        follow(plot, data_bounds(self._in_group(group), y_is_log(group, self.log_y)), tight)

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
        plot = self.grid.add_plot(group, len(self.plots), self.columns())
        plot.setLabel("bottom", "step")
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        plot.setLogMode(y=y_is_log(group, self.log_y))
        plot.disableAutoRange()  # ranges are managed by _follow (cheaper redraws)
        plot.hideButtons()
        plot.vb.sigRangeChangedManually.connect(lambda *_a, p=plot: self._manual.add(p))
        self.plots[group] = plot
        if group in GROUP_NOTES:
            plot.setToolTip(GROUP_NOTES[group])
        self._style_plot(plot, self._colors)
        self._show_legend(group)
        self.grid.fit_height(len(self.plots), self.columns())
        self.empty.hide()
        self.grid.scroll.show()
        return plot

    def columns(self) -> int:
        """How many plots fit side by side in this pane (so none is cut off in a narrow dock)."""
        return columns_for(self.width())

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self.grid is not None and self.plots:
            self.grid.reflow(list(self.plots.values()), self.columns())

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
            plot.setLogMode(y=y_is_log(group, on))
            self._follow(group, tight=True)

    def auto_range(self) -> None:
        """Fit every plot to its data again (and resume following it)."""
        self._manual.clear()
        for group in self.plots:
            self._follow(group, tight=True)

    def _hover(self, args) -> None:
        """The readout names each curve's value at the step under the mouse."""
        pos = args[0]
        for group, plot in self.plots.items():
            if plot.sceneBoundingRect().contains(pos):
                self.readout.setText(reading(self._in_group(group), plot.vb.mapSceneToView(pos).x()))
                return

    def apply_theme(self, c: Colors) -> None:
        self._colors = c
        if self.grid is not None:
            self.grid.graphics.setBackground(c.plot_bg)
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

