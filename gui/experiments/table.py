"""The trials table: one row per trial, sortable, the best trial highlighted and pruned trials marked.

A model (not a QTableWidget) so a refresh after every trial replaces the rows
in one reset, and a proxy sorts on the raw values (numbers as numbers, trials
without a value last) rather than on the formatted text.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QFont

BEST_COLOUR = QColor("#2f9e44")
BEST_BACKGROUND = QColor(47, 158, 68, 40)
MUTED = QColor("#868e96")
FAILED = QColor("#e03131")
SORT_ROLE = Qt.UserRole + 1


def format_value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


class TrialsModel(QAbstractTableModel):
    """The rows of a :class:`StudyView` (the contract's ``TrialRow``s)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.view: Any = None
        self.rows: list[Any] = []
        self.keys: list[str] = []
        self.best_number: int | None = None

    def set_view(self, view: Any) -> None:
        self.beginResetModel()
        self.view = view
        self.rows = list(view.trials) if view is not None else []
        self.keys = [p.key for p in view.params] if view is not None else []
        for row in self.rows:  # a param a trial has that the view did not declare still gets a column
            self.keys += [k for k in row.params if k not in self.keys]
        best = view.best if view is not None else None
        self.best_number = best.number if best is not None else None
        self.endResetModel()

    def headers(self) -> list[str]:
        metric = self.view.metric if self.view is not None else "value"
        arrow = "↑" if self.view is None or self.view.maximize else "↓"
        return ["Trial", "State", *self.keys, f"{metric} (best epoch) {arrow}", "Epochs"]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.keys) + 4

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return self.headers()[section]
        return None

    def raw(self, row: int, column: int) -> Any:
        trial = self.rows[row]
        if column == 0:
            return trial.number
        if column == 1:
            return trial.state
        if column < 2 + len(self.keys):
            return trial.params.get(self.keys[column - 2])
        if column == 2 + len(self.keys):
            return trial.value
        return trial.epochs

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.DisplayRole) -> Any:
        if not index.isValid():
            return None
        trial = self.rows[index.row()]
        best = trial.number == self.best_number
        if role == Qt.DisplayRole:
            value = self.raw(index.row(), index.column())
            if index.column() == 1 and best:
                return "complete ★ best"
            return format_value(value)
        if role == SORT_ROLE:
            return self.raw(index.row(), index.column())
        if role == Qt.FontRole and (best or trial.state == "pruned"):
            font = QFont()
            font.setBold(best)
            font.setItalic(trial.state == "pruned")
            return font
        if role == Qt.ForegroundRole:
            if best:
                return QBrush(BEST_COLOUR)
            if trial.state == "pruned":
                return QBrush(MUTED)
            if trial.state == "failed":
                return QBrush(FAILED)
        if role == Qt.BackgroundRole and best:
            return QBrush(BEST_BACKGROUND)
        if role == Qt.ToolTipRole:
            return {"pruned": "Pruned: stopped early, its validation metric was behind the median of earlier trials",
                    "failed": "Failed or stopped before it finished: not counted",
                    "running": "Running now"}.get(trial.state, "Best trial" if best else None)
        if role == Qt.TextAlignmentRole and index.column() != 1:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None


def sort_key(value: Any) -> tuple:
    """Numbers before text, each in order; a missing value sorts after everything (in ascending order)."""
    if value is None:
        return (2, 0.0, "")
    if isinstance(value, bool):
        return (1, 0.0, str(value))
    if isinstance(value, (int, float)):
        return (0, float(value), "")
    return (1, 0.0, str(value))


class TrialsProxy(QSortFilterProxyModel):
    """Sorts on the model's raw values, never on the formatted text; a trial without a value stays at the bottom."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)

    def lessThan(self, left: QModelIndex | QPersistentModelIndex, right: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802
        model = self.sourceModel()
        a, b = model.raw(left.row(), left.column()), model.raw(right.row(), right.column())
        if (a is None) != (b is None):  # Qt reverses the comparison for a descending sort: missing is last either way
            return (a is None) == (self.sortOrder() == Qt.DescendingOrder)
        return sort_key(a) < sort_key(b)
