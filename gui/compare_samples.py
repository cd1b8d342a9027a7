"""Samples of several runs side by side at one step: the "Samples" tab of the comparison.

Generative runs save a sample grid (or text samples) every so often, each at
its own steps.  One shared step control drives every column; each run shows
its nearest sample saved at or before that step, captioned with the step it
really is, so runs are compared at the same point of training.  Listing the
sample folders and reading the files happen in the background
(:mod:`gui.tasks`): thirty runs' PNGs never hold up the window.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics, QImage, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.compare import RunSummary, sample_at, sample_files
from gui import tasks

MIN_COLUMN = 160  # px: narrower grids are unreadable; more runs scroll sideways
MAX_COLUMN = 520


def load_sample(path: Path) -> QImage | str:
    """A sample file's content, off the GUI thread (QImage may be built on any thread; a QPixmap may not)."""
    if path.suffix.lower() == ".txt":
        return path.read_text(encoding="utf-8", errors="replace")
    image = QImage(str(path))
    return image if not image.isNull() else f"{path.name}: not a readable image"


class SampleColumn(QFrame):
    """One run: its name, the step its sample is really from, the grid or the text."""

    def __init__(self, run: RunSummary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run = run
        self.image: QImage | None = None
        self.picture_height = 10_000
        self.title = QLabel()
        self.title.setToolTip(f"{run.label}\n{run.run_dir}")
        self.caption = QLabel("…")
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignHCenter | Qt.AlignTop)
        self.text = QPlainTextEdit(readOnly=True)
        self.text.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        for widget in (self.title, self.caption):
            layout.addWidget(widget)
        layout.addWidget(self.picture)
        layout.addWidget(self.text, 1)
        layout.addStretch(0)

    def set_size(self, width: int, picture_height: int) -> None:
        """The column's width, and the most height its picture may take (the whole grid stays in view)."""
        self.picture_height = picture_height
        self.text.setMinimumHeight(max(120, min(picture_height, 480)))
        self.setFixedWidth(width)
        self.title.setText(QFontMetrics(self.title.font()).elidedText(self.run.label, Qt.ElideMiddle, width - 8))
        self._scale()

    def show_content(self, caption: str, content: QImage | str | None) -> None:
        self.caption.setText(caption)
        self.image = content if isinstance(content, QImage) else None
        self.picture.setVisible(self.image is not None)
        self.text.setVisible(isinstance(content, str))
        if isinstance(content, str):
            self.text.setPlainText(content)
        self._scale()

    def _scale(self) -> None:
        if self.image is None:
            self.picture.clear()
            return
        width, height = max(16, self.width() - 6), max(16, self.picture_height)
        # Sample grids are small and blocky: enlarge them pixel for pixel, shrink them smoothly.
        mode = Qt.FastTransformation if width >= self.image.width() else Qt.SmoothTransformation
        self.picture.setPixmap(QPixmap.fromImage(self.image).scaled(width, height, Qt.KeepAspectRatio, mode))


class SamplesView(QWidget):
    """The tab: a step slider and spin box, one :class:`SampleColumn` per run in a sideways scroll."""

    def __init__(self, runs: list[RunSummary], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs = runs
        self.samples: list[dict[int, Path]] = []
        self.steps: list[int] = []
        self.loaded_step: int | None = None  # the step every column shows now (tests wait on it)
        self._cache: dict[Path, QImage | str] = {}
        self._loading: asyncio.Task | None = None
        self.status = QLabel("Looking for saved samples…")
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setEnabled(False)
        self.spin = QSpinBox()
        self.spin.setEnabled(False)
        self.spin.setPrefix("step ")
        self.spin.setToolTip("Each run shows its nearest sample saved at or before this step")
        self.slider.valueChanged.connect(lambda i: self.spin.setValue(self.steps[i]) if self.steps else None)
        self.spin.valueChanged.connect(self._step_changed)
        top = QHBoxLayout()
        top.addWidget(QLabel("Step:"))
        top.addWidget(self.slider, 1)
        top.addWidget(self.spin)
        self.columns = [SampleColumn(run) for run in runs]
        strip = QWidget()
        row = QHBoxLayout(strip)
        row.setContentsMargins(0, 0, 0, 0)
        for column in self.columns:
            row.addWidget(column, 0, Qt.AlignTop)
        row.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidget(strip)
        self.scroll.setWidgetResizable(True)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.scroll, 1)
        self._scan = tasks.launch(self._find_samples(), owner=self)

    async def _find_samples(self) -> None:
        self.samples = await tasks.run_blocking(lambda: [sample_files(r.run_dir) for r in self.runs])
        self.steps = sorted({step for found in self.samples for step in found})
        if not self.steps:
            self.status.setText("None of these runs saved samples (image grids or texts).")
            return
        have = sum(1 for found in self.samples if found)
        self.status.setText(f"{have} of {len(self.runs)} runs saved samples; "
                            "each shows its nearest at or before the chosen step.")
        self.slider.setRange(0, len(self.steps) - 1)
        self.spin.setRange(0, self.steps[-1])
        self.slider.setEnabled(True)
        self.spin.setEnabled(True)
        self.slider.setValue(len(self.steps) - 1)  # the end of training first
        self.spin.setValue(self.steps[-1])
        self._step_changed(self.steps[-1])

    def _step_changed(self, step: int) -> None:
        if not self.steps:
            return
        index = max((i for i, s in enumerate(self.steps) if s <= step), default=0)
        self.slider.blockSignals(True)
        self.slider.setValue(index)
        self.slider.blockSignals(False)
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()  # only the newest choice is shown
        self._loading = tasks.launch(self._show_step(step), owner=self)

    async def _show_step(self, step: int) -> None:
        picks = [sample_at(found, step) for found in self.samples]
        wanted = [pick[1] for pick in picks if pick is not None and pick[1] not in self._cache]
        if wanted:
            loaded = await tasks.run_blocking(lambda: [load_sample(p) for p in wanted])
            self._cache.update(zip(wanted, loaded, strict=True))
        for column, found, pick in zip(self.columns, self.samples, picks, strict=True):
            if pick is None:
                first = min(found) if found else None
                column.show_content("no samples" if first is None else f"no sample yet (first at step {first})",
                                    None)
            else:
                real, path = pick
                column.show_content(f"step {real}" + ("" if real == step else f" (nearest ≤ {step})"),
                                    self._cache[path])
        self.loaded_step = step

    def captions(self) -> list[tuple[str, str]]:
        """``(run label, caption)`` per column: what a reader sees above each sample."""
        return [(c.run.label, c.caption.text()) for c in self.columns]

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit_columns()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self._fit_columns()  # a tab resized while hidden may not have laid out its scroll area yet

    def _fit_columns(self) -> None:
        if not self.columns:
            return
        margins = self.layout().contentsMargins()
        room = self.width() - margins.left() - margins.right() - 24 - 8 * len(self.columns)  # 24: frame, scroll bar
        width = max(MIN_COLUMN, min(MAX_COLUMN, room // len(self.columns)))
        height = self.scroll.height() - 2 * self.columns[0].title.sizeHint().height() - 40  # title, caption, bar
        for column in self.columns:
            column.set_size(width, height)
