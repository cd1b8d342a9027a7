"""Where the plots sit: as many columns as fit the pane, rows never squashed, a scroll bar beyond that.

Plots share the pane's height down to PLOT_MIN_HEIGHT each; more plots than fit
scroll (a generator's losses, D outputs and quality plots in a short dock)
rather than squashing their curves to nothing.  Kept apart from
:mod:`gui.dashboard.curves`, which decides what goes on the plots.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QScrollArea

COLUMNS = 2  # plots side by side when the pane is wide enough (PLOT_MIN_WIDTH each); else one under another
PLOT_MIN_WIDTH = 280
#: below this a plot's title and axes leave no room for its curve: the pane scrolls instead (many plots, short dock)
PLOT_MIN_HEIGHT = 150


def columns_for(width: int) -> int:
    """How many plots fit side by side in ``width`` pixels (so none is cut off in a narrow dock)."""
    return max(1, min(COLUMNS, width // PLOT_MIN_WIDTH))


class PlotGrid:
    """A pyqtgraph layout of plots in a scroll area (hidden until the first plot; pyqtgraph is imported here)."""

    def __init__(self, background: str) -> None:
        import pyqtgraph as pg

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.ci.setSpacing(6)
        self.graphics.setBackground(background)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.graphics)
        self.scroll.hide()

    def add_plot(self, title: str, index: int, columns: int) -> Any:
        """A new pyqtgraph PlotItem in cell ``index`` of a grid ``columns`` wide."""
        return self.graphics.ci.addPlot(row=index // columns, col=index % columns, title=title)

    def fit_height(self, count: int, columns: int) -> None:
        """Let the plot area grow past the pane (and scroll) once its rows would be shorter than PLOT_MIN_HEIGHT."""
        rows = -(-count // columns)
        self.graphics.setMinimumHeight(rows * PLOT_MIN_HEIGHT)

    def reflow(self, plots: list[Any], columns: int) -> None:
        """Place the plots again when the number of columns that fit has changed.

        The plots move to a fresh grid: Qt's grid layout keeps the widths of a
        column once emptied, which would leave the plots wider than the pane.
        """
        import pyqtgraph as pg

        self.fit_height(len(plots), columns)
        old = self.graphics.ci
        if all(old.items.get(plot) == [(n // columns, n % columns)] for n, plot in enumerate(plots)):
            return
        for plot in plots:
            old.removeItem(plot)
        grid = pg.GraphicsLayout()
        grid.setSpacing(6)
        self.graphics.ci = grid
        self.graphics.setCentralItem(grid)
        for n, plot in enumerate(plots):
            grid.addItem(plot, row=n // columns, col=n % columns)

    def clear(self) -> None:
        """Take every plot away and hide the (empty) area."""
        self.graphics.ci.clear()
        self.graphics.setMinimumHeight(0)
        self.scroll.hide()
