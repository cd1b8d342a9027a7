"""The inspector: a form for the selected node, generated from its step declaration.

Nothing here knows any particular step: labels, editors, units, ranges, help
text and the "Advanced" section all come from the ``Param`` declarations, so
a step added by anyone shows a proper form without touching the GUI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.document import WorkflowDocument
from gui.fields import ParamField, make_field

#: makes a button some steps get under their description: (inspector, node id, step spec) -> widget or None
StepButton = Callable[["Inspector", str, Any], "QWidget | None"]


def step_buttons() -> list[StepButton]:
    """The extra buttons a step's form may show (the train steps' *Find learning rate…*)."""
    from gui.lr_finder_dialog import finder_button

    return [finder_button]


SWEEPABLE_KINDS = ("int", "float", "choice")


class Inspector(QScrollArea):
    sweep_requested = Signal(str, str)  # node id, param name: right-click -> Sweep this… (gui.experiments answers)

    def __init__(self, doc: WorkflowDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.buttons = step_buttons()
        self.node_id: str | None = None
        self.fields: dict[str, ParamField] = {}
        self.problems: dict[str, list[str]] = {}
        self.setWidgetResizable(True)
        self.setMinimumWidth(240)
        # the form fits the dock's width (a field goes under its label when both do not fit), so nothing is
        # cut off at the right edge behind a scroll bar nobody looks for
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        doc.params_changed.connect(self._params_changed)
        doc.node_removed.connect(lambda nid: self.show_node(None) if nid == self.node_id else None)
        doc.reset.connect(lambda: self.show_node(None))
        self.show_node(None)

    def show_node(self, node_id: str | None) -> None:
        """Build the form for ``node_id`` (None: a hint to select a node)."""
        self.node_id = node_id
        self.fields = {}
        page = QWidget()
        layout = QVBoxLayout(page)
        node = self.doc.workflow.node(node_id) if node_id else None
        if node is None:
            self.node_id = None
            hint = QLabel("Select a step on the canvas to edit its settings.\n\n"
                          "Drag steps from the palette; drag from an output port to an input port to link them.")
            hint.setWordWrap(True)
            hint.setObjectName("inspectorHint")
            layout.addWidget(hint)
            layout.addStretch(1)
            self.setWidget(page)
            return
        spec = self.doc.catalog.get(node.type)
        title = QLabel(f"<b>{spec.title if spec else node.type}</b> &nbsp;<span style='color:#7b8794'>{node.id}</span>")
        layout.addWidget(title)
        if spec is None:
            layout.addWidget(QLabel(f"Unknown step type '{node.type}': it cannot run. Delete it or install the step."))
            self.setWidget(page)
            return
        if spec.description:
            desc = QLabel(spec.description)
            desc.setWordWrap(True)
            layout.addWidget(desc)
        for make in self.buttons:
            button = make(self, node.id, spec)
            if button is not None:
                layout.addWidget(button, 0, Qt.AlignLeft)
        self.problem_label = QLabel()
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #e03131;")
        layout.addWidget(self.problem_label)
        basic, advanced = QFormLayout(), QFormLayout()
        for form in (basic, advanced):
            form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
            form.setRowWrapPolicy(QFormLayout.WrapLongRows)
        for param in spec.params:
            field = make_field(param)
            field.set_value(node.params.get(param.name, param.default))
            field.edited.connect(lambda value, name=param.name: self._edited(name, value))
            label = QLabel(param.title)
            label.setToolTip(param.help)
            if param.kind in SWEEPABLE_KINDS:
                for widget in (label, getattr(field, "edit", None) or getattr(field, "combo", None)):
                    self._offer_sweep(widget, param.name)
            target = advanced if param.advanced else basic
            target.addRow(label, field)
            if param.help:
                help_label = QLabel(param.help)
                help_label.setWordWrap(True)
                help_label.setStyleSheet("color: #7b8794; font-size: 11px;")
                target.addRow(help_label)  # the whole width under its field: short lines read easily
            self.fields[param.name] = field
        layout.addLayout(basic)
        if advanced.rowCount():
            toggle = QToolButton(text="Advanced", checkable=True)
            toggle.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
            toggle.setArrowType(Qt.RightArrow)
            box = QWidget()
            box.setLayout(advanced)
            box.setVisible(False)

            def flip(on: bool) -> None:
                box.setVisible(on)
                toggle.setArrowType(Qt.DownArrow if on else Qt.RightArrow)

            toggle.toggled.connect(flip)
            layout.addWidget(toggle)
            layout.addWidget(box)
            self.advanced_toggle = toggle
        if not spec.params:
            layout.addWidget(QLabel("This step has no settings."))
        layout.addStretch(1)
        self.setWidget(page)
        self._show_problems()

    def _offer_sweep(self, widget: QWidget, name: str) -> None:
        widget.setContextMenuPolicy(Qt.CustomContextMenu)
        widget.customContextMenuRequested.connect(
            lambda pos, w=widget: self.sweep_menu(name, w).popup(w.mapToGlobal(QPoint(pos))))

    def sweep_menu(self, name: str, widget: QWidget | None = None) -> QMenu:
        """The right-click menu of a numeric or choice field: the text field's own entries, then *Sweep this…*."""
        menu = widget.createStandardContextMenu() if isinstance(widget, QLineEdit) else QMenu(self)
        menu.setAttribute(Qt.WA_DeleteOnClose)
        if not menu.isEmpty():
            menu.addSeparator()
        action = menu.addAction("Sweep this…")
        action.setToolTip("Search this setting in a sweep: give it a range (Experiments panel)")
        node_id = self.node_id
        action.triggered.connect(lambda _checked=False: self.sweep_requested.emit(node_id, name))
        return menu

    def set_problems(self, problems: dict[str, list[str]]) -> None:
        self.problems = problems
        if self.node_id is not None and hasattr(self, "problem_label"):
            self._show_problems()

    def _show_problems(self) -> None:
        items = [p for p in self.problems.get(self.node_id or "", []) if not p.startswith("param ")]
        try:
            self.problem_label.setText("\n".join(f"⚠ {p}" for p in items))
            self.problem_label.setVisible(bool(items))
        except RuntimeError:  # the page was replaced
            pass

    def _edited(self, name: str, value) -> None:
        if self.node_id is not None:
            self.doc.set_param(self.node_id, name, value)

    def _params_changed(self, node_id: str) -> None:
        """Undo/redo changed a value: show it (without re-emitting an edit)."""
        if node_id != self.node_id:
            return
        node = self.doc.workflow.node(node_id)
        spec = self.doc.catalog.get(node.type) if node else None
        if node is None or spec is None:
            return
        for param in spec.params:
            field = self.fields.get(param.name)
            if field is not None:
                field.set_value(node.params.get(param.name, param.default))
