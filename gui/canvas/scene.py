"""The scene: a view of the workflow document, kept in step with its signals.

The scene owns no workflow state of its own.  It builds one NodeItem per node
and one LinkItem per link, follows the document's add/remove/move signals,
and reports the only edit it originates itself (nodes dragged by the mouse)
back to the document as one undoable move.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSceneMouseEvent

from engine.workflow import Link
from gui.canvas.freshness import fingerprints
from gui.canvas.items import LinkItem, NodeItem, PortItem
from gui.document import WorkflowDocument
from gui.theme import colors

GRID = 25


class WorkflowScene(QGraphicsScene):
    def __init__(self, doc: WorkflowDocument, parent=None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.nodes: dict[str, NodeItem] = {}
        self.links: dict[Link, LinkItem] = {}
        self._press_positions: dict[str, tuple[float, float]] = {}
        self._basis: dict[str, str] = {}  # node id -> its recipe's fingerprint when its shown state was made
        self.setSceneRect(QRectF(-5000, -5000, 10000, 10000))
        doc.reset.connect(self.rebuild)
        doc.node_added.connect(self._add_node)
        doc.node_removed.connect(self._remove_node)
        doc.node_moved.connect(self._move_node)
        doc.link_added.connect(self._add_link)
        doc.link_removed.connect(self._remove_link)
        doc.changed.connect(self.refresh_stale)

    # -- mirroring the document ---------------------------------------------------------------
    def rebuild(self) -> None:
        for item in list(self.links.values()):
            self.removeItem(item)
        for item in list(self.nodes.values()):
            self.removeItem(item)
        self.nodes.clear()
        self.links.clear()
        self._basis.clear()
        for node in self.doc.workflow.nodes:
            self._add_node(node.id)
        for link in self.doc.workflow.links:
            self._add_link(link)

    def _add_node(self, node_id: str) -> None:
        node = self.doc.workflow.node(node_id)
        if node is None or node_id in self.nodes:
            return
        item = NodeItem(node.id, node.type, self.doc.catalog.get(node.type))
        item.setPos(QPointF(*node.position))
        self.addItem(item)
        self.nodes[node_id] = item

    def _remove_node(self, node_id: str) -> None:
        item = self.nodes.pop(node_id, None)
        if item is not None:
            self.removeItem(item)

    def _move_node(self, node_id: str) -> None:
        node, item = self.doc.workflow.node(node_id), self.nodes.get(node_id)
        if node is not None and item is not None and (item.x(), item.y()) != node.position:
            item.setPos(QPointF(*node.position))

    def _add_link(self, link: Link) -> None:
        src, dst = self.port(link.source.node, link.source.port, True), self.port(link.target.node, link.target.port, False)
        if src is None or dst is None or link in self.links:
            return  # a dangling link (unknown node/port) is reported by validation, not drawn
        item = LinkItem(link, src, dst)
        self.addItem(item)
        self.links[link] = item
        src.node_item.links.append(item)
        dst.node_item.links.append(item)

    def _remove_link(self, link: Link) -> None:
        item = self.links.pop(link, None)
        if item is None:
            return
        for end in (item.source, item.target):
            if item in end.node_item.links:
                end.node_item.links.remove(item)
        self.removeItem(item)

    def port(self, node_id: str, port_name: str, is_output: bool) -> PortItem | None:
        item = self.nodes.get(node_id)
        if item is None:
            return None
        return (item.outputs if is_output else item.inputs).get(port_name)

    # -- selection helpers ----------------------------------------------------------------------
    def selected_node_ids(self) -> list[str]:
        return [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]

    def selected_links(self) -> list[Link]:
        return [i.link for i in self.selectedItems() if isinstance(i, LinkItem)]

    def select_nodes(self, node_ids: list[str]) -> None:
        self.clearSelection()
        for node_id in node_ids:
            if node_id in self.nodes:
                self.nodes[node_id].setSelected(True)

    # -- run state shown on nodes -----------------------------------------------------------------
    def set_node_state(self, node_id: str, state: str, message: str = "", fraction: float | None = None) -> None:
        """Show a run's state on a node; the recipe it ran with is remembered to tell later edits apart.

        The runner queues every node as the run starts, so *queued* takes the recipe of that run; a state
        arriving with no recipe known (a past run opened on the canvas) takes the document's as it stands.
        """
        item = self.nodes.get(node_id)
        if item is None:
            return
        now = fingerprints(self.doc.workflow)
        if state == "queued" or (state and node_id not in self._basis):
            self._basis[node_id] = now.get(node_id, "")
        item.set_state(state, message, fraction)
        item.set_stale(bool(state) and self._is_stale(node_id, now))

    def clear_run_states(self) -> None:
        """A run starts: old states go, and the document as it is now is what the new results will match."""
        self._basis = fingerprints(self.doc.workflow)
        for item in self.nodes.values():
            item.set_state("")
            item.set_stale(False)

    def refresh_stale(self) -> None:
        """After any edit: a node whose recipe differs from the one its result was made with is out of date."""
        if not self._basis:
            return
        now = fingerprints(self.doc.workflow)
        for node_id, item in self.nodes.items():
            item.set_stale(bool(item.state) and self._is_stale(node_id, now))

    def _is_stale(self, node_id: str, now: dict[str, str]) -> bool:
        basis = self._basis.get(node_id)
        return basis is not None and basis != now.get(node_id)

    def set_problems(self, problems: dict[str, list[str]]) -> None:
        for node_id, item in self.nodes.items():
            item.set_problems(problems.get(node_id, []))

    def set_thumbnail(self, node_id: str, image: QImage) -> None:
        if node_id in self.nodes:
            self.nodes[node_id].set_thumbnail(image)

    # -- moves by mouse become one undoable command --------------------------------------------------
    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        super().mousePressEvent(event)
        self._press_positions = {nid: (it.x(), it.y()) for nid, it in self.nodes.items() if it.isSelected()}

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        super().mouseReleaseEvent(event)
        moves = {}
        for node_id, old in self._press_positions.items():
            item = self.nodes.get(node_id)
            if item is not None and (item.x(), item.y()) != old:
                moves[node_id] = (old, (item.x(), item.y()))
        self._press_positions = {}
        if moves:
            self.doc.move_nodes(moves)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        c = colors()
        painter.fillRect(rect, QColor(c.canvas_bg))
        if self.views() and self.views()[0].transform().m11() < 0.4:
            return  # too dense to be useful when zoomed far out
        painter.setPen(QPen(QColor(c.grid), 1))
        left, top = int(rect.left()) - int(rect.left()) % GRID, int(rect.top()) - int(rect.top()) % GRID
        lines = []
        from PySide6.QtCore import QLineF

        x = left
        while x < rect.right():
            lines.append(QLineF(x, rect.top(), x, rect.bottom()))
            x += GRID
        y = top
        while y < rect.bottom():
            lines.append(QLineF(rect.left(), y, rect.right(), y))
            y += GRID
        painter.drawLines(lines)
