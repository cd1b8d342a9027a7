"""The confusion-matrix view: rows are true classes, columns predicted, cells shaded by row share."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget


class ConfusionView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.matrix: list[list[int]] = []
        self.classes: list[str] = []
        self.title = ""
        self.setMinimumSize(220, 220)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def set_report(self, node_id: str, report: dict) -> bool:
        """Take the matrix from an evaluate node's report; False when it has none."""
        matrix = report.get("confusion_matrix")
        if not matrix:
            return False
        classes = list(report.get("per_class", {}).keys()) or [str(i) for i in range(len(matrix))]
        acc = report.get("accuracy")
        split = report.get("split", "")
        title = f"{node_id}" + (f" · {split} split" if split else "") + (f" · accuracy {acc:.1%}" if acc is not None else "")
        self.set_matrix(matrix, classes, title)
        return True

    def set_matrix(self, matrix: list[list[int]], classes: list[str], title: str = "") -> None:
        self.matrix = [list(map(int, row)) for row in matrix]
        self.classes = [str(c) for c in classes]
        self.title = title
        self.update()

    def clear(self) -> None:
        self.set_matrix([], [], "")

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
        label_w, top = 70.0, 48.0
        side = max(min((self.width() - label_w - 10), (self.height() - top - 30)) / n, 4.0)
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
