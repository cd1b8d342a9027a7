"""The confusion-matrix view: rows are true classes, columns predicted, cells shaded by row share.

A click on a cell emits :attr:`ConfusionView.cell_clicked` (true, predicted
class names); when the view knows the evaluate node's folder (``folder``) it
also opens that cell's held-out samples itself, so the results page and the
dashboard's Confusion tab drill down the same way.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QMouseEvent, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

LABEL_W, TOP = 70.0, 48.0


class ConfusionView(QWidget):
    cell_clicked = Signal(str, str)  # true class, predicted class

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.matrix: list[list[int]] = []
        self.classes: list[str] = []
        self.title = ""
        self.folder: Path | None = None  # the evaluate node's folder: where each cell's samples are kept
        self.dialogs: list[QWidget] = []
        self.setMinimumSize(220, 220)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMouseTracking(True)

    def set_folder(self, folder: str | Path | None) -> None:
        """Where the evaluate step kept each cell's samples; None: clicks only emit :attr:`cell_clicked`."""
        self.folder = Path(folder) if folder else None

    def set_report(self, node_id: str, report: dict, folder: str | Path | None = None) -> bool:
        """Take the matrix from an evaluate node's report (and its folder, for the drill-down); False when it has none."""
        matrix = report.get("confusion_matrix")
        if not matrix:
            return False
        classes = list(report.get("per_class", {}).keys()) or [str(i) for i in range(len(matrix))]
        acc = report.get("accuracy")
        split = report.get("split", "")
        title = f"{node_id}" + (f" · {split} split" if split else "") + (f" · accuracy {acc:.1%}" if acc is not None else "")
        self.set_matrix(matrix, classes, title)
        if folder is not None:
            self.set_folder(folder)
        return True

    def set_matrix(self, matrix: list[list[int]], classes: list[str], title: str = "") -> None:
        self.matrix = [list(map(int, row)) for row in matrix]
        self.classes = [str(c) for c in classes]
        self.title = title
        self.update()

    def clear(self) -> None:
        self.set_matrix([], [], "")
        self.folder = None

    def _label_w(self) -> float:
        """Room left of the matrix for "true →" and the longest class name (at most a third of the width)."""
        if not self.classes:
            return LABEL_W
        longest = max(QFontMetricsF(self.font()).horizontalAdvance(c) for c in self.classes)
        return max(LABEL_W, min(longest + 34.0, self.width() / 3))

    def _side(self) -> float:
        n = max(len(self.matrix), 1)
        return max(min((self.width() - self._label_w() - 10), (self.height() - TOP - 30)) / n, 4.0)

    def cell_at(self, pos: QPointF) -> tuple[int, int] | None:
        """(row, column) of the cell under ``pos``, or None."""
        if not self.matrix:
            return None
        side = self._side()
        left = self._label_w()
        row, col = int((pos.y() - TOP) // side), int((pos.x() - left) // side)
        n = len(self.matrix)
        return (row, col) if 0 <= row < n and 0 <= col < n and pos.x() >= left and pos.y() >= TOP else None

    def cell_center(self, row: int, col: int) -> QPointF:
        side = self._side()
        return QPointF(self._label_w() + (col + 0.5) * side, TOP + (row + 0.5) * side)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        cell = self.cell_at(event.position())
        self.setCursor(Qt.PointingHandCursor if cell else Qt.ArrowCursor)
        if cell:
            r, c = cell
            self.setToolTip(f"{self.matrix[r][c]} of class {self._label(r)} predicted as {self._label(c)} — "
                            "click to see them")
        else:
            self.setToolTip("")
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        cell = self.cell_at(event.position()) if event.button() == Qt.LeftButton else None
        if cell is None:
            super().mouseReleaseEvent(event)
            return
        true, predicted = self._label(cell[0]), self._label(cell[1])
        self.cell_clicked.emit(true, predicted)
        if self.folder is not None:
            from gui.dashboard.cells import show_cell

            dialog = show_cell(self.folder, true, predicted, self)
            self.dialogs = [d for d in self.dialogs if _alive(d)] + [dialog]

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        pal = self.palette()
        text = pal.windowText().color()
        painter.fillRect(self.rect(), pal.base())
        if not self.matrix:
            painter.setPen(text)
            painter.drawText(self.rect(), Qt.AlignCenter, "The confusion matrix appears when an evaluate step finishes.")
            return
        n = len(self.matrix)
        label_w, top = self._label_w(), TOP
        side = self._side()
        font = QFont(painter.font())
        font.setPointSizeF(max(min(side / 3.2, 10.0), 5.0))
        painter.setFont(font)
        painter.setPen(text)
        painter.drawText(QRectF(0, 2, self.width(), 18), Qt.AlignCenter, self.title)
        painter.drawText(QRectF(label_w, 20, side * n, 14), Qt.AlignCenter, "predicted →")
        painter.save()
        painter.translate(10, top + side * n / 2)
        painter.rotate(-90)
        painter.drawText(QRectF(-60, -8, 120, 16), Qt.AlignCenter, "true →")
        painter.restore()
        accent = pal.highlight().color()
        for i, row in enumerate(self.matrix):
            total = max(sum(row), 1)
            y = top + i * side
            painter.setPen(text)
            painter.drawText(QRectF(16, y, label_w - 20, side), Qt.AlignVCenter | Qt.AlignRight, self._label(i))
            for j, count in enumerate(row):
                share = count / total
                cell = QRectF(label_w + j * side, y, side - 1, side - 1)
                color = QColor(accent)
                color.setAlphaF(0.08 + 0.92 * share if count else 0.03)
                painter.fillRect(cell, color)
                if side >= 14:
                    painter.setPen(QColor("#ffffff") if share > 0.55 else text)
                    painter.drawText(cell, Qt.AlignCenter, str(count))
        painter.setPen(text)
        for j in range(n):
            painter.drawText(QRectF(label_w + j * side, top + n * side + 2, side, 16), Qt.AlignCenter, self._label(j))

    def _label(self, i: int) -> str:
        return self.classes[i] if i < len(self.classes) else str(i)


def _alive(widget: QWidget) -> bool:
    try:
        return widget.isVisible()
    except RuntimeError:  # closed and deleted
        return False
