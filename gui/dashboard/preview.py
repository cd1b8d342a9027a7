"""The image preview: the latest sample grid, zoomable, with a scrubber over every saved step.

Frames are kept per stream (node and image name).  Only the newest few keep
their pixels in memory; older ones are reloaded from the PNG the engine saved,
so a long GAN run does not grow the app's memory without bound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from engine import events as ev
from gui.dashboard.images import to_qimage

KEEP_IN_MEMORY = 16


@dataclass
class Frame:
    step: int
    image: QImage | None
    path: str = ""

    def load(self) -> QImage:
        if self.image is not None:
            return self.image
        return QImage(self.path) if self.path else QImage()


class ZoomView(QGraphicsView):
    """Shows one image; the wheel zooms, drag pans, double-click fits."""

    def __init__(self) -> None:
        super().__init__()
        self.setScene(QGraphicsScene(self))
        self.item = QGraphicsPixmapItem()
        self.item.setTransformationMode(Qt.FastTransformation)  # crisp pixels for small grids
        self.scene().addItem(self.item)
        self.setDragMode(QGraphicsView.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.setRenderHint(QPainter.SmoothPixmapTransform, False)
        self.follow_fit = True

    def set_image(self, image: QImage) -> None:
        self.item.setPixmap(QPixmap.fromImage(image))
        self.scene().setSceneRect(self.item.boundingRect())
        if self.follow_fit:
            self.fit()

    def fit(self) -> None:
        self.follow_fit = True
        if not self.item.pixmap().isNull():
            self.fitInView(self.item, Qt.KeepAspectRatio)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        self.follow_fit = False
        factor = 1.0015 ** event.angleDelta().y()
        self.scale(factor, factor)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        self.fit()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self.follow_fit:
            self.fit()


class ImagePreview(QWidget):
    """Public widget (also used by the wizards): feed it ImageReady events or frames from a run folder."""

    frame_shown = Signal(str, int)  # stream, step

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.streams: dict[str, list[Frame]] = {}
        self.current_stream = ""
        self.follow_latest = True
        self.auto_stream = True
        self.stream_box = QComboBox()
        self.stream_box.setToolTip("Which images to show (node: image name)")
        self.stream_box.activated.connect(lambda i: self._stream_chosen(self.stream_box.itemText(i)))
        self.view = ZoomView()
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self._scrubbed)
        self.step_label = QLabel("no images yet")
        fit = QPushButton("Fit")
        fit.clicked.connect(self.view.fit)
        self.save_button = QPushButton("Save as PNG…")
        self.save_button.clicked.connect(self._save_dialog)
        self.save_button.setEnabled(False)
        top = QHBoxLayout()
        top.addWidget(self.stream_box, 1)
        top.addWidget(fit)
        top.addWidget(self.save_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.slider, 1)
        bottom.addWidget(self.step_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addLayout(bottom)

    # -- feeding ---------------------------------------------------------------------------------
    def add_event(self, event: ev.ImageReady) -> None:
        self.add_frame(f"{event.node_id}: {event.name}", event.step, to_qimage(event.pixels), event.path)

    def add_frame(self, stream: str, step: int, image: QImage | None, path: str = "") -> None:
        frames = self.streams.setdefault(stream, [])
        frames.append(Frame(step, image, path))
        if len(frames) > KEEP_IN_MEMORY and frames[-KEEP_IN_MEMORY - 1].path:
            frames[-KEEP_IN_MEMORY - 1].image = None  # reload from its PNG if scrubbed back to
        if self.stream_box.findText(stream) < 0:
            self.stream_box.addItem(stream)
        if not self.current_stream or (self.auto_stream and stream != self.current_stream):
            self._switch(stream)  # follow whatever is producing images, until the user picks a stream
        if stream == self.current_stream:
            at_end = self.follow_latest or self.slider.value() == self.slider.maximum()
            self.slider.blockSignals(True)
            self.slider.setMaximum(len(frames) - 1)
            self.slider.blockSignals(False)
            if at_end:
                self.show_index(len(frames) - 1)

    def clear(self) -> None:
        self.streams.clear()
        self.current_stream = ""
        self.stream_box.clear()
        self.slider.setRange(0, 0)
        self.view.item.setPixmap(QPixmap())
        self.step_label.setText("no images yet")
        self.save_button.setEnabled(False)
        self.follow_latest = True
        self.auto_stream = True

    # -- showing ----------------------------------------------------------------------------------
    def frames(self) -> list[Frame]:
        return self.streams.get(self.current_stream, [])

    def show_index(self, index: int) -> None:
        frames = self.frames()
        if not frames:
            return
        index = max(0, min(index, len(frames) - 1))
        frame = frames[index]
        self.view.set_image(frame.load())
        self.shown_step = frame.step
        self.shown_index = index
        self.slider.blockSignals(True)
        self.slider.setValue(index)
        self.slider.blockSignals(False)
        self.step_label.setText(f"step {frame.step}  ({index + 1}/{len(frames)})")
        self.save_button.setEnabled(True)
        self.frame_shown.emit(self.current_stream, frame.step)

    def current_image(self) -> QImage:
        return self.view.item.pixmap().toImage()

    def _scrubbed(self, index: int) -> None:
        self.follow_latest = index == self.slider.maximum()
        self.show_index(index)

    def _stream_chosen(self, stream: str) -> None:
        """The user picked a stream: stay on it from now on."""
        self.auto_stream = False
        self._switch(stream)

    def _switch(self, stream: str) -> None:
        if not stream:
            return
        self.current_stream = stream
        self.stream_box.setCurrentText(stream)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(len(self.frames()) - 1, 0))
        self.slider.blockSignals(False)
        self.show_index(len(self.frames()) - 1)

    # -- saving -------------------------------------------------------------------------------------
    def save_png(self, path: str | Path) -> bool:
        image = self.frames()[getattr(self, "shown_index", -1)].load() if self.frames() else QImage()
        return not image.isNull() and image.save(str(path), "PNG")

    def _save_dialog(self) -> None:
        slug = re.sub(r"[^A-Za-z0-9]+", "_", self.current_stream).strip("_") or "image"
        step = getattr(self, "shown_step", 0)
        path, _ = QFileDialog.getSaveFileName(self, "Save image", f"{slug}_step{step}.png", "PNG images (*.png)")
        if path:
            self.save_png(path)
