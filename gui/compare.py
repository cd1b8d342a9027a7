"""Compare runs: the settings that differ and the scores in a table, one metric's curves overlaid.

Everything shown comes from :class:`engine.compare.Comparison`, which reads
the run folders; this module only lays it out.  The table has one column per
run; rows for settings that differ between the runs come first and are
highlighted, because "what did I change, and what did it do" is the question.

For dozens of runs: "Differences only" (on by default past two runs), a
pinned baseline whose difference every other run's scores show, grouping of
runs that differ only by seed (mean ± std), and a Samples tab with the runs'
sample grids or texts side by side at one step (:mod:`gui.compare_samples`).
"""

from __future__ import annotations

from dataclasses import replace
from html import escape
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.compare import Comparison
from gui.compare_samples import SamplesView
from gui.compare_table import BASELINE_MARK, STRETCH_UP_TO, TableView, distinct_short, elide_chars, fill_table
from gui.dashboard.legend import SERIES_COLORS
from gui.theme import colors

PREFERRED_METRICS = ("val_loss", "val_accuracy", "train_loss", "quality", "loss_g", "loss")  # quality: a generator's
SMOOTH_FROM = 50  # points; sparser curves are drawn as they are
LEGEND_NAME_CHARS = 26  # a longer run name is elided in the legend (the full one is in the table's tooltip)


LINE_STYLES = ((Qt.SolidLine, "━"), (Qt.DashLine, "╌"), (Qt.DotLine, "┈"))  # a new style each time colours repeat


def legend_html(title: str, entries: list[tuple[str, str]]) -> str:
    """The plot's header, as the dashboard's: the metric in bold, then "━ run" per curve in its colour.

    ``entries`` are (label, an opened span with the curve's colour and line mark).
    Each entry is kept on one line and separated by plain spaces,
    so thirty runs wrap onto as many lines as the header's width needs.
    """
    names = distinct_short([label for label, _span in entries], elide_chars(LEGEND_NAME_CHARS))
    # A word joiner after the ellipsis: Qt would otherwise break an entry right after it.
    parts = [f"<span style='white-space:nowrap'>{span}&nbsp;{escape(name).replace('…', '…&#8288;')}</span></span>"
             for name, (_label, span) in zip(names, entries, strict=True)]
    return f"<b>{escape(title)}</b> &nbsp; " + " &nbsp; ".join(parts)


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
        runs = comparison.runs
        self.setWindowTitle(f"Compare {len(runs)} runs — Loom")
        self.resize(1100 if len(runs) > STRETCH_UP_TO else 980, 720)
        self.view = TableView(differences_only=len(runs) > 2)
        self.column_labels: list[str] = []
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setHorizontalScrollMode(QTableWidget.ScrollPerPixel)
        self.table.horizontalHeader().setContextMenuPolicy(Qt.CustomContextMenu)
        self.table.horizontalHeader().customContextMenuRequested.connect(self.open_header_menu)
        self.differences = QCheckBox("Differences only")
        self.differences.setToolTip("Show only the settings that differ; off: every setting, the differing ones "
                                    "still highlighted")
        self.differences.setChecked(self.view.differences_only)
        self.differences.toggled.connect(lambda on: self._set_view(differences_only=on))
        self.group = QCheckBox("Group runs that differ only by seed")
        self.group.setToolTip("One column per group of runs whose settings are equal except their seeds: "
                              "n, then mean ± std of each score")
        self.group.toggled.connect(lambda on: self._set_view(group_seeds=on))
        self.baseline_box = QComboBox()
        self.baseline_box.addItem("No baseline")
        for run in runs:
            self.baseline_box.addItem(run.label, str(run.run_dir))
        self.baseline_box.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.baseline_box.setMinimumContentsLength(24)  # long run names are elided, not a combo across the dialog
        self.baseline_box.setToolTip("Other runs' scores show their difference from the baseline's, green when "
                                     "better, red when worse (also: right-click a run's column header)")
        self.baseline_box.currentIndexChanged.connect(
            lambda i: self._set_view(baseline=None if i <= 0 else i - 1))
        options = QHBoxLayout()
        options.addWidget(self.differences)
        options.addWidget(self.group)
        options.addStretch(1)
        options.addWidget(QLabel("Baseline:"))
        options.addWidget(self.baseline_box)
        self.metric_box = QComboBox()
        names = comparison.metric_names()
        self.metric_box.addItems(names)
        self.metric_box.setCurrentText(default_metric(names))
        self.metric_box.currentTextChanged.connect(self.show_metric)
        self.plot = None  # pyqtgraph's PlotWidget, built on first show (pyqtgraph imports slowly)
        self.legend = QLabel()  # the curves' names as a header row over the plot (never covering a curve)
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.RichText)
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
        splitter.setSizes([380, 320])
        table_page = QWidget()
        page = QVBoxLayout(table_page)
        page.setContentsMargins(0, 0, 0, 0)
        page.addLayout(options)
        page.addWidget(splitter, 1)
        self.samples = SamplesView(runs)
        self.tabs = QTabWidget()
        self.tabs.addTab(table_page, "Table and curves")
        self.tabs.addTab(self.samples, "Samples")
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
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)
        self._refill()
        self.show_metric(self.metric_box.currentText())

    # -- the table ---------------------------------------------------------------------------------------
    def _set_view(self, **changes: object) -> None:
        baseline_changed = "baseline" in changes and changes["baseline"] != self.view.baseline
        self.view = replace(self.view, **changes)
        self._refill()
        if "group_seeds" in changes or baseline_changed:
            self.show_metric(self.metric_box.currentText())

    def _refill(self) -> None:
        self.column_labels = fill_table(self.table, self.comparison, self.view)

    def set_baseline(self, run_index: int | None) -> None:
        """Pin run number ``run_index`` (None: no baseline); the combo box follows."""
        self.baseline_box.setCurrentIndex(0 if run_index is None else run_index + 1)

    def _run_of_column(self, column: int) -> int:
        if not self.view.group_seeds:
            return column
        first = self.comparison.seed_groups()[column].runs[0]
        return next(i for i, r in enumerate(self.comparison.runs) if r is first)

    def open_header_menu(self, pos: QPoint) -> None:
        column = self.table.horizontalHeader().logicalIndexAt(pos)
        if column < 0:
            return
        menu = QMenu(self)
        use = menu.addAction("Use as baseline")
        use.triggered.connect(lambda: self.set_baseline(self._run_of_column(column)))
        clear = menu.addAction("Clear baseline")
        clear.setEnabled(self.view.baseline is not None)
        clear.triggered.connect(lambda: self.set_baseline(None))
        menu.popup(self.table.horizontalHeader().mapToGlobal(pos))
        self.header_menu = menu  # kept for tests and so it is not collected while open

    # -- the curves --------------------------------------------------------------------------------------
    def show_metric(self, metric: str) -> None:
        if not metric:
            return
        import pyqtgraph as pg

        if self.plot is None:
            self.plot = pg.PlotWidget(background=colors().plot_bg)
            self.plot.setLabel("bottom", "step")
            self.plot.showGrid(x=True, y=True, alpha=0.2)
            self.plot_box.addWidget(self.legend)
            self.plot_box.addWidget(self.plot, 1)
        self.plot.clear()
        runs = self.comparison.runs
        labels = [r.label for r in runs]
        if self.view.group_seeds:  # one colour and one legend entry per group
            groups = self.comparison.seed_groups()
            index = {r.label: i for i, g in enumerate(groups) for r in g.runs}
            names = [g.label for g in groups]
        else:
            index = {label: i for i, label in enumerate(labels)}
            names = labels
        base = None if self.view.baseline is None else index[labels[self.view.baseline]]
        used: dict[int, str] = {}
        for label, steps, values in self.comparison.curves(metric):
            i = index[label]
            color = SERIES_COLORS[i % len(SERIES_COLORS)]
            dense = len(values) > SMOOTH_FROM  # per-epoch curves are few points and already calm
            shown = smoothed(values) if self.smooth.isChecked() and dense else values
            style = LINE_STYLES[i // len(SERIES_COLORS) % len(LINE_STYLES)]
            # Named for curve_labels(); there is no in-plot legend to cover the curves: the header names them.
            self.plot.plot(steps, shown, name=label, pen=pg.mkPen(color, width=3 if i == base else 1.5, style=style[0]))
            used.setdefault(i, f"<span style='color:{color}'>{style[1]}")
        entries = [((BASELINE_MARK if i == base else "") + names[i], span) for i, span in sorted(used.items())]
        self.legend.setText(legend_html(metric, entries))
        self.legend.setToolTip("\n".join(label for label, _span in entries))

    def curve_labels(self) -> list[str]:
        """The runs drawn on the plot now (for tests and the accessibility tree)."""
        return [item.name() for item in self.plot.listDataItems()] if self.plot is not None else []

    def export_csv(self, path: str | None = None) -> None:
        from engine.fileio import atomic_write_text

        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "Export comparison", str(Path.home() / "comparison.csv"),
                                                  "CSV (*.csv)")
        if path:
            atomic_write_text(Path(path), self.comparison.to_csv(group_seeds=self.view.group_seeds))
