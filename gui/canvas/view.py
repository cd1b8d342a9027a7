"""The canvas view: pan, zoom, fit, rubber-band selection, and linking by dragging ports.

Linking is done here rather than in the items because it spans two items:
press on a port, drag (compatible ports light up green, incompatible ones red
with a tooltip that says why), release on another port.  The view asks the
document to link; the document refuses what does not fit.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsView, QToolTip

from gui.canvas.items import HEADER, NODE_WIDTH, PortItem, curve
from gui.canvas.scene import WorkflowScene
from gui.document import WorkflowDocument

MIN_ZOOM, MAX_ZOOM = 0.2, 3.0


class CanvasView(QGraphicsView):
    message = Signal(str)  # a refusal or hint for the status bar

    def __init__(self, scene: WorkflowScene, doc: WorkflowDocument, parent=None) -> None:
        super().__init__(scene, parent)
        self.doc = doc
        self.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
        self.setDragMode(QGraphicsView.RubberBandDrag)
        self.setViewportUpdateMode(QGraphicsView.SmartViewportUpdate)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.AnchorViewCenter)
        self.setMouseTracking(True)
        self._drag_port: PortItem | None = None
        self._temp_link: QGraphicsPathItem | None = None
        self._hover_port: PortItem | None = None
        self._pan_from: QPoint | None = None
        self.last_refusal = ""

    @property
    def wf_scene(self) -> WorkflowScene:
        return self.scene()  # type: ignore[return-value]

    # -- zoom and pan -----------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        target = min(max(self.zoom() * factor, MIN_ZOOM), MAX_ZOOM)
        factor = target / self.zoom()
        self.scale(factor, factor)

    def reset_zoom(self) -> None:
        self.resetTransform()

    def fit_all(self) -> None:
        items = self.wf_scene.itemsBoundingRect()
        if items.isEmpty():
            self.resetTransform()
            self.centerOn(0, 0)
            return
        self.fitInView(items.adjusted(-60, -60, 60, 60), Qt.KeepAspectRatio)
        if self.zoom() > 1.0:
            self.resetTransform()
            self.centerOn(items.center())
        elif self.zoom() < MIN_ZOOM:
            self.scale(MIN_ZOOM / self.zoom(), MIN_ZOOM / self.zoom())

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        delta = event.angleDelta().y()
        if delta:
            self.zoom_by(1.0015 ** delta)
        event.accept()

    # -- adding nodes dropped from the palette -------------------------------------------------------
    def drop_step(self, step_type: str, global_pos: QPoint) -> str | None:
        """Add ``step_type`` where the palette drag ended, if that is over the canvas."""
        local = self.viewport().mapFromGlobal(global_pos)
        if not self.viewport().rect().contains(local):
            return None
        at = self.mapToScene(local)
        return self.doc.add_node(step_type, (round(at.x() - NODE_WIDTH / 2), round(at.y() - HEADER / 2)))

    def add_at_center(self, step_type: str) -> str:
        at = self.mapToScene(self.viewport().rect().center())
        return self.doc.add_node(step_type, (round(at.x() - NODE_WIDTH / 2), round(at.y() - HEADER / 2)))

    # -- mouse: ports link, middle button pans, the rest is Qt's (move, rubber band) ----------------------
    def _port_at(self, pos: QPoint) -> PortItem | None:
        for item in self.items(pos):
            if isinstance(item, PortItem):
                return item
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MiddleButton:
            self._pan_from = event.position().toPoint()
            self.setCursor(Qt.ClosedHandCursor)
            event.accept()
            return
        if event.button() == Qt.LeftButton:
            port = self._port_at(event.position().toPoint())
            if port is not None:
                self._drag_port = port
                self._temp_link = QGraphicsPathItem()
                self._temp_link.setPen(QPen(QColor("#7b8794"), 2, Qt.DashLine))
                self._temp_link.setZValue(5)
                self.scene().addItem(self._temp_link)
                self._update_temp(self.mapToScene(event.position().toPoint()))
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None:
            delta = event.position().toPoint() - self._pan_from
            self._pan_from = event.position().toPoint()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            event.accept()
            return
        if self._drag_port is not None:
            pos = event.position().toPoint()
            self._update_temp(self.mapToScene(pos))
            self._hover(self._port_at(pos), event.globalPosition().toPoint())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None and event.button() == Qt.MiddleButton:
            self._pan_from = None
            self.unsetCursor()
            event.accept()
            return
        if self._drag_port is not None and event.button() == Qt.LeftButton:
            target = self._port_at(event.position().toPoint())
            start = self._drag_port
            self._end_link_drag()
            if target is not None and target is not start:
                self.connect_ports(start, target, event.globalPosition().toPoint())
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def connect_ports(self, a: PortItem, b: PortItem, global_pos: QPoint | None = None) -> str:
        """Link two ports in whichever direction makes sense; returns the refusal reason or ''."""
        reason = self._refusal(a, b)
        if not reason:
            src, dst = (a, b) if a.is_output else (b, a)
            reason = self.doc.add_link(src.endpoint, dst.endpoint)
        self.last_refusal = reason
        if reason:
            text = f"Cannot link: {reason}"
            if global_pos is not None:
                QToolTip.showText(global_pos, text, self)
            self.message.emit(text)
        return reason

    def _refusal(self, a: PortItem, b: PortItem) -> str:
        if a.is_output == b.is_output:
            return "link an output (right side) to an input (left side)"
        src, dst = (a, b) if a.is_output else (b, a)
        return self.doc.link_problem(src.endpoint, dst.endpoint)

    def _hover(self, port: PortItem | None, global_pos: QPoint) -> None:
        if port is self._hover_port:
            return
        if self._hover_port is not None:
            self._hover_port.set_highlight("")
        self._hover_port = port
        if port is None or port is self._drag_port:
            QToolTip.hideText()
            return
        reason = self._refusal(self._drag_port, port)
        port.set_highlight("refused" if reason else "ok")
        if reason:
            QToolTip.showText(global_pos, f"Cannot link: {reason}", self)
        else:
            QToolTip.hideText()

    def _update_temp(self, scene_pos: QPointF) -> None:
        if self._temp_link is None or self._drag_port is None:
            return
        anchor = self._drag_port.scene_anchor()
        self._temp_link.setPath(curve(anchor, scene_pos) if self._drag_port.is_output else curve(scene_pos, anchor))

    def _end_link_drag(self) -> None:
        if self._temp_link is not None:
            self.scene().removeItem(self._temp_link)
        if self._hover_port is not None:
            self._hover_port.set_highlight("")
        self._temp_link = self._drag_port = self._hover_port = None
