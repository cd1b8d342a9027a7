"""The most confident mistakes of a text classifier, with their text: where the model is surest and wrong.

Fed by an evaluate node's report (``mistakes``: rank, true, predicted,
confidence, p_true, text — the text shortened to a few hundred characters;
``mistakes.csv`` in the node's folder has them whole).  Sorting by a column
is a click; the full shown text is in each row's tooltip.  "Sure" is the
model's confidence in its wrong answer.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

COLUMNS = ("#", "Sure", "True → read as", "Text")  # narrow first columns: the text gets the width
CLASS_COLUMN_MAX = 150  # px; longer "Danish → Norwegian Nynorsk" elides (the tooltip and the CSV have it whole)


class MistakesTable(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("mistakes")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        for col in range(len(COLUMNS) - 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.Interactive)  # capped below; the analyst may widen it
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)  # the text column takes what is left
        self.table.setTextElideMode(Qt.ElideRight)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.Stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        self.clear()

    def clear(self) -> None:
        self.table.setSortingEnabled(False)
        self.table.setRowCount(0)
        self.title.setText("The most confident mistakes appear here when an evaluate step finishes on texts.")

    def set_report(self, node_id: str, report: dict[str, Any]) -> bool:
        """Show the report's mistakes; False when it has none (an image evaluation, or mistakes = 0)."""
        rows = report.get("mistakes")
        if not isinstance(rows, list):
            return False
        split = report.get("split", "")
        where = f" on the {split} split" if split else ""
        if not rows:
            self.title.setText(f"{node_id}: no mistakes{where}.")
        else:
            self.title.setText(f"{node_id}: the {len(rows)} most confident mistakes{where} "
                               f"(all of them, with whole texts, in {node_id}/mistakes.csv).")
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            text = str(row.get("text", ""))
            cells = (NumberItem(row.get("rank", r + 1)), NumberItem(row.get("confidence", 0.0), percent=True),
                     f"{row.get('true', '')} → {row.get('predicted', '')}", text)
            tip = f"{cells[2]}\n\n{text}"
            for c, item in enumerate(cells):
                item = item if isinstance(item, QTableWidgetItem) else QTableWidgetItem(item)
                item.setToolTip(tip)
                self.table.setItem(r, c, item)
        self.table.horizontalHeader().setSortIndicator(0, Qt.AscendingOrder)  # a new report: surest mistake first
        self.table.setSortingEnabled(True)
        self.table.resizeColumnToContents(2)
        self.table.setColumnWidth(2, min(self.table.columnWidth(2), CLASS_COLUMN_MAX))  # long class names elide
        self.table.resizeRowsToContents()
        return True


class NumberItem(QTableWidgetItem):
    """A cell shown as text (``85.3%``) that sorts by its number."""

    def __init__(self, value: Any, percent: bool = False) -> None:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = 0.0
        super().__init__(f"{number:.1%}" if percent else f"{int(number)}")
        self.setData(Qt.UserRole, number)
        self.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(Qt.UserRole), other.data(Qt.UserRole)
        if isinstance(mine, float) and isinstance(theirs, float):
            return mine < theirs
        return super().__lt__(other)
