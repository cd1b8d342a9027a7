"""The image preview: the latest sample grid, zoomable, with a scrubber over every saved step.

Streams, the scrubber and the memory bound live in :mod:`gui.dashboard.scrubber`
(shared with the text samples); this module only shows images.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QPushButton,
    QWidget,
)

from engine import events as ev
from gui.dashboard.images import to_qimage
from gui.dashboard.scrubber import SteppedStreams


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


class ImagePreview(SteppedStreams):
    """Public widget (also used by the wizards): feed it ImageReady events or frames from a run folder."""

    empty_text = "no images yet"
    stream_tip = "Which images to show (node: image name)"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = ZoomView()
        fit = QPushButton("Fit")
        fit.clicked.connect(self.view.fit)
        self.save_button = QPushButton("Save as PNG…")
        self.save_button.clicked.connect(self._save_dialog)
        self.save_button.setEnabled(False)
        self.top.addWidget(fit)
        self.top.addWidget(self.save_button)
        self.finish_layout(self.view)

    def add_event(self, event: ev.ImageReady) -> None:
        self.add_frame(f"{event.node_id}: {event.name}", event.step, to_qimage(event.pixels), event.path)

    # -- the SteppedStreams hooks -------------------------------------------------------------------
    def display(self, payload: QImage) -> None:
        self.view.set_image(payload)
        self.save_button.setEnabled(True)

    def blank(self) -> None:
        self.view.item.setPixmap(QPixmap())
        self.save_button.setEnabled(False)

    def load_file(self, path: str) -> QImage:
        return QImage(path) if path else QImage()

    def current_image(self) -> QImage:
        return self.view.item.pixmap().toImage()

    # -- saving -------------------------------------------------------------------------------------
    def save_png(self, path: str | Path) -> bool:
        image = self.shown_payload()
        return image is not None and not image.isNull() and image.save(str(path), "PNG")

    def _save_dialog(self) -> None:
        slug = re.sub(r"[^A-Za-z0-9]+", "_", self.current_stream).strip("_") or "image"
        path, _ = QFileDialog.getSaveFileName(self, "Save image", f"{slug}_step{self.shown_step}.png",
                                              "PNG images (*.png)")
        if path:
            self.save_png(path)
