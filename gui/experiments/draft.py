"""*Sweep this…*: the range of one parameter to search, checked in words, kept in a draft for *New sweep…*.

The inspector only says which parameter was right-clicked (its
``sweep_requested`` signal); this module asks for the range with the step's
own declaration at hand (its allowed minimum, maximum and choices), so a
range the engine would refuse is refused here first, with the same reasons:
an inverted or empty range, a bound outside what the step allows, a log
scale through zero, fewer than two values to compare.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from engine.params import Param
from gui.experiments.sweep_api import api
from gui.experiments.table import format_value

SWEEPABLE = ("int", "float", "choice")


class SweepDraft(QObject):
    """The parameters chosen with *Sweep this…*, in order; one entry per ``node.param`` (a new range replaces)."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.params: list[Any] = []  # the contract's SweepParam

    def add(self, param: Any) -> None:
        self.params = [p for p in self.params if p.key != param.key] + [param]
        self.changed.emit()

    def replace(self, params: list[Any]) -> None:
        """Exactly these parameters (continuing a stored study must search its own space, nothing more)."""
        self.params = list(params)
        self.changed.emit()

    def remove(self, key: str) -> None:
        self.params = [p for p in self.params if p.key != key]
        self.changed.emit()

    def keys(self) -> list[str]:
        return [p.key for p in self.params]


def describe(param: Any) -> str:
    """One line for a drafted parameter: ``train.lr: 1e-05 .. 0.01 (log)``."""
    if param.kind == "choice":
        return f"{param.key}: one of " + ", ".join(format_value(c) for c in param.choices)
    return f"{param.key}: {format_value(param.low)} .. {format_value(param.high)}" + (" (log)" if param.log else "")


def _number(text: str, what: str, integer: bool) -> float | int:
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"{what} '{text.strip()}' is not a number") from None
    if integer:
        if not value.is_integer():
            raise ValueError(f"{what} must be a whole number, not {text.strip()}")
        return int(value)
    return value


def check_range(decl: Param, node_id: str, low_text: str, high_text: str, log: bool) -> Any:
    """The SweepParam for a numeric range, or ValueError saying (in words) what is wrong with it."""
    integer = decl.kind == "int"
    low = _number(low_text, "Low", integer)
    high = _number(high_text, "High", integer)
    if low > high:
        raise ValueError(f"The range is inverted: low ({format_value(low)}) is above high ({format_value(high)}). "
                         "Swap them.")
    if low == high:
        raise ValueError(f"The range is empty: low and high are both {format_value(low)}. Give two different ends.")
    if decl.minimum is not None and low < decl.minimum:
        raise ValueError(f"Low ({format_value(low)}) is below the smallest value {node_id}.{decl.name} allows "
                         f"({format_value(decl.minimum)}).")
    if decl.maximum is not None and high > decl.maximum:
        raise ValueError(f"High ({format_value(high)}) is above the largest value {node_id}.{decl.name} allows "
                         f"({format_value(decl.maximum)}).")
    if log and low <= 0:
        raise ValueError("A log scale needs a low above 0.")
    return api().SweepParam(node_id, decl.name, decl.kind, low=low, high=high, log=log)


def check_choices(decl: Param, node_id: str, ticked: list[Any]) -> Any:
    """The SweepParam for the ticked choices, or ValueError when fewer than two are ticked."""
    if len(ticked) < 2:
        raise ValueError("Tick at least two values: a sweep compares them.")
    return api().SweepParam(node_id, decl.name, "choice", choices=tuple(ticked))


def default_range(decl: Param, current: Any) -> tuple[str, str, bool]:
    """A starting range around the current value: ÷10 .. ×10 on a log scale for rates, ÷2 .. ×2 for counts."""
    try:
        value = float(current)
    except (TypeError, ValueError):
        value = float(decl.default or 1)
    if decl.kind == "int":
        low, high = max(1, int(value // 2)), max(2, int(value * 2))
    elif value > 0:
        low, high = value / 10, value * 10
    else:
        low, high = 0.0, 1.0
    if decl.minimum is not None:
        low = max(low, decl.minimum)
    if decl.maximum is not None:
        high = min(high, decl.maximum)
    log = decl.kind == "float" and low > 0 and high / low >= 100
    return format_value(low if decl.kind == "float" else int(low)), format_value(
        high if decl.kind == "float" else int(high)), log


class SweepThisDialog(QDialog):
    """Ask for one parameter's range; :attr:`result_param` is the SweepParam once accepted."""

    def __init__(self, decl: Param, node_id: str, current: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.decl, self.node_id = decl, node_id
        self.result_param: Any = None
        self.setWindowTitle(f"Sweep {node_id}.{decl.name}")
        self.setMinimumWidth(380)
        layout = QVBoxLayout(self)
        intro = QLabel(f"Search <b>{decl.title}</b> of step <b>{node_id}</b> (now {format_value(current)}). "
                       f"Allowed: {decl.describe_range()}.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.ticks: list[QCheckBox] = []
        if decl.kind == "choice":
            for choice in decl.choices:
                box = QCheckBox(format_value(choice))
                box.setChecked(True)
                box.setProperty("choice", choice)
                self.ticks.append(box)
                form.addRow(box)
        else:
            low, high, log = default_range(decl, current)
            self.low, self.high = QLineEdit(low), QLineEdit(high)
            form.addRow("Low", self.low)
            form.addRow("High", self.high)
            self.log = QCheckBox("Log scale (for rates: each step multiplies)")
            self.log.setChecked(log)
            self.log.setVisible(decl.kind == "float")
            form.addRow(self.log)
        layout.addLayout(form)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #e03131;")
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Add to sweep")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def check(self) -> Any:
        """The SweepParam the form describes; ValueError in words when it is not valid."""
        if self.decl.kind == "choice":
            return check_choices(self.decl, self.node_id, [b.property("choice") for b in self.ticks if b.isChecked()])
        return check_range(self.decl, self.node_id, self.low.text(), self.high.text(),
                           self.decl.kind == "float" and self.log.isChecked())

    def accept(self) -> None:
        """Only a valid range closes the dialog; otherwise the reason shows under the form."""
        try:
            self.result_param = self.check()
        except ValueError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        super().accept()


def ask_range(main: Any, node_id: str, name: str, on_accept: Callable[[Any], None]) -> SweepThisDialog | None:
    """Open *Sweep this…* for ``node_id.name`` of ``main``'s document (non-modal); ``on_accept(SweepParam)``.

    None when the node or its declared parameter is not there (the inspector only offers those that are).
    """
    doc = main.doc
    node = doc.workflow.node(node_id)
    spec = doc.catalog.get(node.type) if node is not None else None
    decl = next((p for p in spec.params if p.name == name), None) if spec is not None else None
    if decl is None or decl.kind not in SWEEPABLE:
        return None
    dialog = SweepThisDialog(decl, node_id, node.params.get(name, decl.default), main)
    dialog.accepted.connect(lambda: on_accept(dialog.result_param))
    dialog.setAttribute(Qt.WA_DeleteOnClose)
    dialog.open()
    return dialog
