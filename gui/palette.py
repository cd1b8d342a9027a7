"""The palette: every declared step, grouped by category, with search.

Dragging a step onto the canvas adds it.  The drag is tracked with plain mouse
events (press, move past the drag distance, release over the canvas) rather
than a platform drag-and-drop session, so it behaves the same on every
platform and in tests; double-click or Enter adds the step at the canvas centre.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

STEP_ROLE = Qt.UserRole + 1


class StepTree(QTreeWidget):
    dropped = Signal(str, QPoint)  # step type, global position of the release
    activated_step = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setRootIsDecorated(True)
        self.setIndentation(14)
        self._press: QPoint | None = None
        self._press_type = ""
        self._dragging = False
        self.itemDoubleClicked.connect(lambda item, _col: self._activate(item))

    def _activate(self, item: QTreeWidgetItem | None) -> None:
        if item is not None and item.data(0, STEP_ROLE):
            self.activated_step.emit(item.data(0, STEP_ROLE))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        super().mousePressEvent(event)
        item = self.itemAt(event.position().toPoint())
        if event.button() == Qt.LeftButton and item is not None and item.data(0, STEP_ROLE):
            self._press, self._press_type, self._dragging = event.position().toPoint(), item.data(0, STEP_ROLE), False

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._press is not None and event.buttons() & Qt.LeftButton:
            far = (event.position().toPoint() - self._press).manhattanLength() >= QApplication.startDragDistance()
            if far and not self._dragging:
                self._dragging = True
                self.setCursor(Qt.DragCopyCursor)
            if self._dragging:
                event.accept()
                return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        dragging, step_type = self._dragging, self._press_type
        self._press, self._press_type, self._dragging = None, "", False
        if dragging:
            self.unsetCursor()
            self.dropped.emit(step_type, self.viewport().mapToGlobal(event.position().toPoint()))
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key_Return, Qt.Key_Enter):
            self._activate(self.currentItem())
            return
        super().keyPressEvent(event)


class Palette(QWidget):
    """Search box over the category tree; fills itself once the step catalogue is ready."""

    def __init__(self, catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.search = QLineEdit(placeholderText="Search steps…")
        self.search.setClearButtonEnabled(True)
        self.tree = StepTree()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.search.textChanged.connect(self.filter)
        loading = QTreeWidgetItem(["Loading steps…"])
        loading.setFlags(Qt.NoItemFlags)
        self.tree.addTopLevelItem(loading)
        if catalog.is_ready:
            self.populate()
        else:
            catalog.ready.connect(self.populate)

    def populate(self) -> None:
        self.tree.clear()
        if self.catalog.error:
            item = QTreeWidgetItem([f"Steps failed to load: {self.catalog.error}"])
            item.setFlags(Qt.NoItemFlags)
            self.tree.addTopLevelItem(item)
            return
        groups: dict[str, QTreeWidgetItem] = {}
        for spec in self.catalog.steps():
            group = groups.get(spec.category)
            if group is None:
                group = QTreeWidgetItem([spec.category.capitalize()])
                group.setFlags(Qt.ItemIsEnabled)
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                self.tree.addTopLevelItem(group)
                groups[spec.category] = group
            item = QTreeWidgetItem([spec.title])
            item.setData(0, STEP_ROLE, spec.type)
            ins = ", ".join(f"{p.name}: {p.type}" for p in spec.inputs) or "none"
            outs = ", ".join(f"{p.name}: {p.type}" for p in spec.outputs) or "none"
            item.setToolTip(0, f"{spec.title} ({spec.type})\n{spec.description}\ninputs: {ins}\noutputs: {outs}")
            group.addChild(item)
        self.tree.expandAll()
        self.filter(self.search.text())

    def filter(self, text: str) -> None:
        words = text.lower().split()
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            visible = 0
            for j in range(group.childCount()):
                child = group.child(j)
                haystack = f"{child.text(0)} {child.data(0, STEP_ROLE)} {child.toolTip(0)} {group.text(0)}".lower()
                hide = not all(w in haystack for w in words)
                child.setHidden(hide)
                visible += not hide
            group.setHidden(group.childCount() > 0 and visible == 0)

    def item_for(self, step_type: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            for j in range(group.childCount()):
                if group.child(j).data(0, STEP_ROLE) == step_type:
                    return group.child(j)
        return None
