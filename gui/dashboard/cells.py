"""Held-out samples as captioned tiles: one confusion cell (a dialog) or the most confident mistakes (a gallery).

Both read what the evaluate step kept per cell (:mod:`engine.training.cells`)
off the GUI thread.  Pictures are drawn at least :data:`TILE` px a side and
the caption ("true → predicted  97%") is a label under each, in the
application's font, so it stays readable whatever the image's size.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QDialog, QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from engine.training.cells import Cell, CellItem, read_cell, read_mistakes
from gui import tasks
from gui.dashboard.images import to_qimage

TILE = 112  # px: a digit or a 32 px photo magnified enough to see what the model saw
TEXT_TILE_WIDTH = 360
COLUMNS = 6


class SampleTiles(QWidget):
    """A grid of samples, each a picture (or a text) with its caption underneath."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(10)
        self.captions: list[str] = []

    def set_items(self, items: list[CellItem], columns: int = COLUMNS) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.captions = [item.caption for item in items]
        texts = any(item.image is None for item in items)
        columns = 2 if texts else columns
        for i, item in enumerate(items):
            self.grid.addWidget(_tile(item), i // columns, i % columns, Qt.AlignTop | Qt.AlignLeft)
        self.grid.setColumnStretch(columns, 1)
        self.grid.setRowStretch(-(-len(items) // columns), 1)  # tiles pack at the top, the space goes below


def wrong_color() -> str:
    """Red that reads on the current theme's background (a darker red on light, a lighter one on dark)."""
    from PySide6.QtWidgets import QApplication

    return "#ff8787" if QApplication.palette().window().color().lightness() < 128 else "#c92a2a"


def _tile(item: CellItem) -> QWidget:
    tile = QWidget()
    tile.setObjectName("sample_tile")
    box = QVBoxLayout(tile)
    box.setContentsMargins(0, 0, 0, 0)
    box.setSpacing(2)
    if item.image is not None:
        picture = QLabel()
        pix = QPixmap.fromImage(to_qimage(item.image))
        scale = max(1, -(-TILE // max(pix.width(), pix.height(), 1)))
        smooth = Qt.FastTransformation if pix.width() * scale <= 2 * TILE else Qt.SmoothTransformation
        picture.setPixmap(pix.scaled(pix.width() * scale, pix.height() * scale, Qt.KeepAspectRatio, smooth))
        picture.setToolTip(f"sample {item.sample}: {item.caption}")
        box.addWidget(picture)
    else:
        text = QLabel(item.text or "")
        text.setWordWrap(True)
        text.setFixedWidth(TEXT_TILE_WIDTH)
        text.setToolTip(item.text or "")
        box.addWidget(text)
    caption = QLabel(item.caption)
    caption.setObjectName("caption")
    wrong = item.true != item.predicted
    caption.setStyleSheet("font-weight: bold;" + (f" color: {wrong_color()};" if wrong else ""))
    box.addWidget(caption)
    return tile


class CellDialog(QDialog):
    """The held-out samples of one confusion cell, loaded in the background; non-modal."""

    loaded = Signal()

    def __init__(self, folder: Path, true: str, predicted: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WA_DeleteOnClose)
        self.setWindowTitle(f"True {true}, predicted {predicted}")
        self.cell: Cell | None = None
        self.heading = QLabel("Loading the samples…")
        self.heading.setWordWrap(True)
        self.tiles = SampleTiles()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.tiles)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(scroll, 1)
        self.resize(820, 560)
        tasks.launch(self._load(folder, true, predicted), owner=self, on_error=self._failed)

    async def _load(self, folder: Path, true: str, predicted: str) -> None:
        cell = await tasks.run_blocking(read_cell, folder, true, predicted)
        self.cell = cell
        what = "text" if any(item.image is None for item in cell.items) else "image"
        what += "" if cell.count == 1 else "s"
        verdict = "right" if true == predicted else "wrong"
        if not cell.count:
            self.heading.setText(f"No held-out {what} of class {true} were predicted as {predicted}.")
        else:
            shown = "" if len(cell.items) == cell.count else f"; the {len(cell.items)} the model was surest of shown"
            self.heading.setText(f"{cell.count} held-out {what} of class <b>{true}</b> predicted as "
                                 f"<b>{predicted}</b> ({verdict}){shown}.")
        self.tiles.set_items(cell.items)
        hint = self.tiles.sizeHint()  # a cell of two fits its two; a big one gets a scrolling window
        self.resize(min(max(460, hint.width() + 48), 1000), min(max(240, hint.height() + 90), 720))
        self.loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        self.heading.setText(_words(exc))
        self.loaded.emit()


def _words(exc: BaseException) -> str:
    """A UserInputError's words; anything else is also reported (never lost)."""
    from engine.errors import UserInputError

    if isinstance(exc, UserInputError):
        return str(exc)
    tasks.report(exc)
    return f"The samples could not be shown: {type(exc).__name__}: {exc}"


def show_cell(folder: Path, true: str, predicted: str, parent: QWidget | None = None) -> CellDialog:
    dialog = CellDialog(folder, true, predicted, parent)
    dialog.show()
    return dialog


class MistakesGallery(QWidget):
    """The wrong answers the model was surest of, as large captioned tiles (from an evaluate node's folder)."""

    loaded = Signal()

    def __init__(self, limit: int = 12, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.limit = limit
        self.items: list[CellItem] = []
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.tiles = SampleTiles()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.tiles)

    def load(self, folder: Path) -> None:
        self.heading.setText("Loading the most confident mistakes…")
        tasks.launch(self._load(folder), owner=self, on_error=self._failed)

    async def _load(self, folder: Path) -> None:
        self.items = await tasks.run_blocking(read_mistakes, folder, self.limit)
        if self.items:
            self.heading.setText("The mistakes the model was surest of (true → predicted, confidence). "
                                 "Click a cell of the matrix to see all the samples that fell there.")
        else:
            self.heading.setText("No mistakes on the held-out samples.")
        self.tiles.set_items(self.items)
        self.loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        self.items = []
        self.heading.setText(_words(exc))
        self.tiles.set_items([])
        self.loaded.emit()
