"""The dashboard: curves, progress, images, texts, mistakes and confusion matrix, fed by event batches.

:meth:`Dashboard.handle` takes one coalesced batch from the bridge and
redraws once; :meth:`Dashboard.load_run` rebuilds the same view from a run
folder (metrics.csv, run.json, the saved PNGs and texts, log.txt), so a finished run
looks the same as it did live.  A run still being written by another process
is followed (:mod:`gui.follow`): its folder's news arrive as the events of a
live run, through :meth:`Dashboard.handle`.  A run that ended early says where
it got to on the progress bar, with no ETA or speed.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QSplitter, QTabWidget, QVBoxLayout, QWidget

from engine import events as ev
from engine.logfile import LOG_NAME, read_complete_lines
from engine.names import RunStatus
from gui.dashboard.confusion import ConfusionView
from gui.dashboard.console import LogConsole
from gui.dashboard.curves import MetricCurves
from gui.dashboard.images import to_qimage
from gui.dashboard.log_follow import LogClock, show_lines
from gui.dashboard.mistakes import MistakesTable
from gui.dashboard.preview import ImagePreview
from gui.dashboard.progress import RunProgress
from gui.dashboard.texts import TextSamples
from gui.follow import RunFollower
from gui.theme import Colors


class Dashboard(QWidget):
    thumbnail = Signal(str, QImage)  # node id, latest image: for the node on the canvas

    def __init__(self, console: LogConsole | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.curves = MetricCurves()
        self.preview = ImagePreview()
        self.texts = TextSamples()
        self.mistakes = MistakesTable()
        self.confusion = ConfusionView()
        self.progress = RunProgress()
        self.console = console or LogConsole()
        self.reports: dict[str, dict] = {}
        self.run_dir: Path | None = None  # where the shown run's evaluate folders are (the confusion drill-down)
        self.follower: RunFollower | None = None  # a run another process is writing, followed
        self.tabs = QTabWidget()
        self.tabs.addTab(self.preview, "Images")
        self.tabs.addTab(self.texts, "Texts")
        self.tabs.addTab(self.confusion, "Confusion")
        self.tabs.addTab(self.mistakes, "Mistakes")
        self.tab_chosen = False  # once the analyst picks a tab, the dashboard stops picking for them
        self.tabs.tabBarClicked.connect(lambda _i: setattr(self, "tab_chosen", True))
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.curves)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self.splitter = split
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.progress)
        layout.addWidget(split, 1)

    def stop_following(self) -> None:
        """Stop following a run another process writes (it is ours again, or something else is shown)."""
        if self.follower is not None:
            self.follower.stop()
            self.follower.deleteLater()
            self.follower = None

    def reset(self) -> None:
        self.stop_following()
        self.curves.clear()
        self.preview.clear()
        self.texts.clear()
        self.confusion.clear()
        self.mistakes.clear()
        self.progress.reset()
        self.reports.clear()
        self.tab_chosen = False

    # -- live events ------------------------------------------------------------------------------
    def handle(self, events: list[ev.Event]) -> None:
        """Apply one coalesced batch, then redraw the curves once."""
        latest_image: dict[str, ev.ImageReady] = {}
        for e in events:
            if isinstance(e, ev.MetricPoint):
                self.curves.add_point(e)
                self.progress.note_step(e.step)
            elif isinstance(e, ev.Progress):
                self.progress.update_progress(e)
            elif isinstance(e, ev.ImageReady):
                if e.pixels is None:  # a followed run's older picture: read from its file when scrubbed to
                    self.preview.add_frame(f"{e.node_id}: {e.name}", e.step, None, e.path)
                    continue
                self.preview.add_event(e)
                latest_image[e.node_id] = e
            elif isinstance(e, ev.TextReady):
                self._text(e.node_id, e.name, e.step, e.text, e.path)
            elif isinstance(e, ev.LogLine):
                self.console.append(e.level, e.message, e.node_id, e.time)
            elif isinstance(e, ev.NodeReport):
                self._report(e.node_id, e.report)
            elif isinstance(e, ev.Rewind):
                self.curves.rewind(e.node_id, e.step)
                self.progress.rewound(e.step)
            elif isinstance(e, ev.RunStarted):
                self.run_dir = Path(e.run_dir)
                self.progress.begin(f"running on {e.device}")
            elif isinstance(e, ev.RunFinished):
                self.progress.set_ended(e.status, e.message, self.last_step())
        self.progress.refresh_still()
        self.curves.redraw()
        for node_id, image_event in latest_image.items():
            self.thumbnail.emit(node_id, to_qimage(image_event.pixels))

    def last_step(self) -> int | None:
        """The furthest step any curve reached (where a stopped run got to), None without curves."""
        ends = [int(s.steps[-1]) for s in self.curves.series.values() if s.n]
        return max(ends) if ends else None

    def _text(self, node_id: str, name: str, step: int, text: str | None, path: str) -> None:
        """A text frame; a run without pictures opens the Texts tab on its first text."""
        first = not self.texts.streams
        self.texts.add_frame(f"{node_id}: {name}", step, text, path)
        if first and not self.preview.streams and not self.tab_chosen:
            self.tabs.setCurrentWidget(self.texts)

    def _report(self, node_id: str, report: dict) -> None:
        self.reports.setdefault(node_id, {}).update(report)
        self.mistakes.set_report(node_id, self.reports[node_id])
        folder = self.run_dir / node_id if self.run_dir is not None else None
        if self.confusion.set_report(node_id, self.reports[node_id], folder) and not self.tab_chosen:
            self.tabs.setCurrentWidget(self.confusion)  # the classifier's verdict, when its evaluation ends

    # -- a finished run, from its folder -------------------------------------------------------------
    def load_run(self, run_dir: str | Path, follow: bool = True) -> dict:
        """Show a run folder's curves, images, texts, confusion matrix, mistakes and log; returns its run.json.

        A run still *running* is followed as it goes (``follow``); without, it is shown as it is now.
        """
        from engine.store import read_metrics, read_run

        run_dir = Path(run_dir)
        info = read_run(run_dir)
        self.reset()
        self.run_dir = run_dir
        if follow and info.get("status") == RunStatus.RUNNING:  # another process is writing it (or it crashed)
            self.follow(run_dir, str(info.get("run_id") or run_dir.name))
            return info
        for row in read_metrics(run_dir):
            self.curves.add_point(
                ev.MetricPoint(node_id=row["node"], name=row["name"], step=row["step"], epoch=row["epoch"], value=row["value"])
            )
        self.curves.redraw()
        for art in info.get("artifacts", []):
            path = run_dir / art.get("path", "")
            suffix = path.suffix.lower()
            if suffix not in (".png", ".txt") or not path.exists():
                continue
            numbers = re.findall(r"\d+", path.stem)
            step = int(numbers[-1]) if numbers else 0
            if suffix == ".png":
                self.preview.add_frame(f"{art.get('node')}: {art.get('kind')}", step, None, str(path))
            else:
                self._text(str(art.get("node")), str(art.get("kind")), step, None, str(path))
        for node_id, node in info.get("nodes", {}).items():
            if node.get("report"):
                self._report(node_id, node["report"])
        log_path = run_dir / LOG_NAME
        status = info.get("status", "")
        if log_path.exists():
            lines, _ = read_complete_lines(log_path)
            clock = LogClock(info.get("started"))
            show_lines(self.console, lines[-5000:], clock)
        if status in (RunStatus.STOPPED, RunStatus.FAILED):
            self.progress.set_ended(status, "", self.last_step())
            self.progress.bar.setFormat(f"{info.get('run_id', run_dir.name)}: {self.progress.bar.format()}")
        else:
            self.progress.set_status(f"{info.get('run_id', run_dir.name)}: {status}",
                                     1.0 if status == RunStatus.SUCCEEDED else None)
        return info

    def follow(self, run_dir: Path, name: str) -> RunFollower:
        """Show a run another process is writing, as it writes it: its folder's news come through :meth:`handle`."""
        self.progress.set_status(f"{name}: reading its folder…", 0.0)
        self.follower = RunFollower(run_dir, self)
        self.follower.batch.connect(self.handle)
        self.follower.start()
        return self.follower

    def apply_theme(self, c: Colors) -> None:
        self.curves.apply_theme(c)
