"""One editor widget per parameter kind, generated from the declaration.

Each field shows the value, the unit and an error line; it validates with the
declaration's own ``Param.check`` on every keystroke (the same rule the
engine applies), and reports what the analyst typed with ``edited`` even when
it is invalid, so the node's badge can say so before Run.
"""

from __future__ import annotations

import random
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.params import Param, ParamError

MIN_FIELD_CHARS = 10
ERROR_STYLE = "QLineEdit { border: 1px solid #e03131; }"


def parse_text(param: Param, text: str) -> Any:
    """Text typed in a field -> the value to store (numbers when they parse, else the raw text)."""
    text = text.strip()
    if param.kind in ("int", "seed"):
        try:
            number = float(text)
            return int(number) if number.is_integer() else number
        except ValueError:
            return text
    if param.kind == "float":
        try:
            return float(text)
        except ValueError:
            return text
    return text


def format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


class ParamField(QWidget):
    """Editor for one param; ``edited(value)`` fires on every change the user makes."""

    edited = Signal(object)

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.param = param
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #e03131;")
        self.error.hide()
        self.row = QHBoxLayout()
        self.row.setContentsMargins(0, 0, 0, 0)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        outer.addLayout(self.row)
        outer.addWidget(self.error)
        self.setToolTip(f"{param.help}\nAllowed: {param.describe_range()}".strip())
        self._build()

    # subclasses: build the editor, show a value, read the value ----------------------------
    def _build(self) -> None:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def problem(self) -> str:
        return self.error.text() if self.error.isVisible() else ""

    def _validate(self, value: Any) -> bool:
        try:
            self.param.check(value)
        except ParamError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return False
        self.error.hide()
        self.error.setText("")
        return True


class TextField(ParamField):
    """int, float, str, path and seed: a line edit, plus Browse for paths and Re-roll for seeds."""

    def _build(self) -> None:
        self.edit = QLineEdit()
        self.edit.setToolTip(self.toolTip())
        # room for a value such as 0.0002 or 2147483647: a narrower dock puts the field under its label instead
        self.edit.setMinimumWidth(self.edit.fontMetrics().horizontalAdvance("0" * MIN_FIELD_CHARS) + 12)
        self.row.addWidget(self.edit, 1)
        if self.param.unit:
            self.row.addWidget(QLabel(self.param.unit))
        if self.param.kind == "path":
            browse = QToolButton(text="Browse…")
            browse.setToolTip(f"Choose a {'folder' if self.param.path_mode == 'folder' else 'file'}")
            browse.clicked.connect(self._browse)
            self.row.addWidget(browse)
            self.browse = browse
        if self.param.kind == "seed":
            roll = QToolButton(text="🎲")
            roll.setToolTip("Pick a new random seed")
            roll.clicked.connect(lambda: self._set_from_user(str(random.randint(0, 2**31 - 1))))
            self.row.addWidget(roll)
            self.roll = roll
        self.edit.textEdited.connect(self._typed)

    def set_value(self, value: Any) -> None:
        current = self.edit.text()
        if not current.strip() or parse_text(self.param, current) != value:
            self.edit.setText(format_value(value))  # only when it differs: never fight the typist
        self._mark(self._validate(parse_text(self.param, self.edit.text())))

    def _mark(self, ok: bool) -> None:
        self.edit.setStyleSheet("" if ok else ERROR_STYLE)

    def _typed(self, text: str) -> None:
        value = parse_text(self.param, text)
        self._mark(self._validate(value))
        self.edited.emit(value)

    def _set_from_user(self, text: str) -> None:
        self.edit.setText(text)
        self._typed(text)

    def _browse(self) -> None:
        start = self.edit.text()
        if self.param.path_mode == "folder":
            chosen = QFileDialog.getExistingDirectory(self, f"Choose {self.param.title}", start)
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, f"Choose {self.param.title}", start)
        if chosen:
            self._set_from_user(chosen)


class BoolField(ParamField):
    def _build(self) -> None:
        self.box = QCheckBox()
        self.box.toggled.connect(lambda on: self.edited.emit(bool(on)))
        self.row.addWidget(self.box)
        self.row.addStretch(1)

    def set_value(self, value: Any) -> None:
        self.box.blockSignals(True)
        self.box.setChecked(bool(value))
        self.box.blockSignals(False)
        self._validate(value)


class ChoiceField(ParamField):
    def _build(self) -> None:
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.AdjustToContents)  # never narrower than its longest choice
        for choice in self.param.choices:
            self.combo.addItem(str(choice), choice)
        self.combo.activated.connect(lambda i: self.edited.emit(self.combo.itemData(i)))
        self.row.addWidget(self.combo, 1)
        if self.param.unit:
            self.row.addWidget(QLabel(self.param.unit))

    def set_value(self, value: Any) -> None:
        index = next((i for i, c in enumerate(self.param.choices) if c == value), -1)
        if index < 0 and value is not None:
            self.combo.addItem(f"{value} (not allowed)", value)
            index = self.combo.count() - 1
        self.combo.setCurrentIndex(index)
        self._validate(value)


def make_field(param: Param) -> ParamField:
    if param.kind == "bool":
        return BoolField(param)
    if param.kind == "choice":
        return ChoiceField(param)
    return TextField(param)
