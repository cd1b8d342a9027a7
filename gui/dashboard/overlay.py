"""Previous runs' curves, dashed, under the live ones: did the change I just made help?

The *Overlay run* button above the curves lists recent runs (from the run index);
ticking one draws its metrics on the same plots as the current run, and they
stay there when a new run starts, so the new curves can be watched against
the old ones as they grow.  The data comes from the run's ``metrics.csv``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QMenu, QToolButton

if TYPE_CHECKING:
    from gui.dashboard.curves import MetricCurves

MENU_RUNS = 15


class RunOverlay:
    def __init__(self, curves: MetricCurves) -> None:
        self.curves = curves
        self.runs: dict[str, list[dict[str, Any]]] = {}  # run label -> its metric rows, in the order added
        self.button = QToolButton()
        self.button.setText("Overlay run")
        self.button.setToolTip("Draw a previous run's curves (dashed) under the live ones")
        self.button.setPopupMode(QToolButton.InstantPopup)
        self.menu = QMenu(self.button)
        self.menu.aboutToShow.connect(self._fill_menu)
        self.button.setMenu(self.menu)

    def add(self, run_dir: str | Path) -> int:
        """Overlay a run folder's curves; returns how many series were drawn."""
        from engine.store import read_metrics

        run_dir = Path(run_dir)
        label = run_dir.name
        self.remove(label)
        self.runs[label] = read_metrics(run_dir)
        drawn = self._draw(label)
        self.curves.redraw()
        self.curves.auto_range()
        return drawn

    def remove(self, label: str | None = None) -> None:
        """Take one run (or, with no label, every run) off the plots."""
        for name in [label] if label else list(self.runs):
            self.runs.pop(name, None)
            self.curves.remove_overlays(name)

    def reapply(self) -> None:
        """Draw the overlaid runs again (after the curves were cleared for a new run)."""
        for label in self.runs:
            self._draw(label)

    def _draw(self, label: str) -> int:
        by_series: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
        for row in self.runs[label]:
            steps, values = by_series.setdefault((row["node"], row["name"]), ([], []))
            steps.append(row["step"])
            values.append(row["value"])
        for (node_id, name), (steps, values) in by_series.items():
            self.curves.add_overlay(label, node_id, name, steps, values)
        return len(by_series)

    def _fill_menu(self) -> None:
        from engine.run_index import RunIndex

        self.menu.clear()
        runs = [r for r in RunIndex().list() if r.get("exists")][:MENU_RUNS]
        if not runs:
            self.menu.addAction("No finished runs yet").setEnabled(False)
        for run in runs:
            label = Path(run["run_dir"]).name
            action = self.menu.addAction(f"{run.get('workflow') or label}  ·  {label}")
            action.setCheckable(True)
            action.setChecked(label in self.runs)
            action.toggled.connect(lambda on, d=run["run_dir"], lab=label: self.add(d) if on else self.remove(lab))
        if self.runs:
            self.menu.addSeparator()
            self.menu.addAction("Remove all overlays", lambda: self.remove())
