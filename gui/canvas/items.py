"""Graphics items of the node editor: nodes with typed ports, and links.

Items only draw; they never change the workflow.  Edits go through the
document (undoable commands) and come back as signals the scene turns into
item updates.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem, QWidget

from engine.ports import Port
from engine.workflow import Endpoint, Link
from gui.theme import STATE_COLORS, colors, port_color

NODE_WIDTH = 190.0
HEADER = 28.0
ROW = 22.0
PORT_RADIUS = 6.0
THUMB = 72.0
STALE_COLOR = "#845ef7"  # unlike every run state's colour: this result no longer matches the step
ACTIVE_STATES = ("queued", "running")  # what a run is doing right now outranks everything else


class PortItem(QGraphicsItem):
    """A round connector on a node's edge; inputs on the left, outputs on the right."""

    def __init__(self, node_item: NodeItem, port: Port, is_output: bool, index: int) -> None:
        super().__init__(node_item)
        self.node_item, self.port, self.is_output = node_item, port, is_output
        self.setPos(NODE_WIDTH if is_output else 0.0, HEADER + ROW * index + ROW / 2 + 4)
        self.setAcceptHoverEvents(True)
        self.highlight = ""  # "" | "ok" | "refused"
        kind = "output" if is_output else "input"
        optional = " (optional)" if port.optional else ""
        self.setToolTip(f"{kind} '{port.name}': {port.type}{optional}" + (f"\n{port.help}" if port.help else ""))
        self.setZValue(2)

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.node_item.node_id, self.port.name)

    def boundingRect(self) -> QRectF:  # noqa: N802
        r = PORT_RADIUS + 3
        return QRectF(-r, -r, 2 * r, 2 * r)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        r = PORT_RADIUS + 3  # a little larger than drawn: easier to hit
        path.addEllipse(QPointF(0, 0), r, r)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        color = QColor(port_color(self.port.type))
        ring = {"ok": QColor("#2f9e44"), "refused": QColor("#e03131")}.get(self.highlight, QColor(colors().node_border))
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(QPen(ring, 2.5 if self.highlight else 1.2))
        painter.setBrush(QBrush(color if not self.port.optional else color.lighter(140)))
        painter.drawEllipse(QPointF(0, 0), PORT_RADIUS, PORT_RADIUS)

    def set_highlight(self, value: str) -> None:
        if value != self.highlight:
            self.highlight = value
            self.update()

    def scene_anchor(self) -> QPointF:
        return self.scenePos()


class NodeItem(QGraphicsItem):
    """One step on the canvas: title, id, ports, run-state badge, and a thumbnail for image steps."""

    def __init__(self, node_id: str, step_type: str, spec) -> None:
        super().__init__()
        self.node_id, self.step_type, self.spec = node_id, step_type, spec
        self.setFlags(
            QGraphicsItem.ItemIsMovable | QGraphicsItem.ItemIsSelectable | QGraphicsItem.ItemSendsGeometryChanges
        )
        self.setAcceptHoverEvents(True)
        self.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        self.links: list[LinkItem] = []
        self.state, self.state_message, self.fraction = "", "", None
        self.problems: list[str] = []
        self.stale = False  # the step (or something upstream) was edited since its result was made
        self.thumbnail: QImage | None = None
        inputs = spec.inputs if spec else ()
        outputs = spec.outputs if spec else ()
        self.inputs = {p.name: PortItem(self, p, False, i) for i, p in enumerate(inputs)}
        self.outputs = {p.name: PortItem(self, p, True, i) for i, p in enumerate(outputs)}
        rows = max(len(inputs), len(outputs), 1)
        self.body_height = ROW * rows + 10
        self.height = HEADER + self.body_height + (THUMB + 8 if spec and spec.produces_images else 0) + 18
        self._update_tooltip()

    # -- state shown on the node -------------------------------------------------------
    @property
    def title(self) -> str:
        return self.spec.title if self.spec else f"unknown step '{self.step_type}'"

    def set_state(self, state: str, message: str = "", fraction: float | None = None) -> None:
        self.state, self.state_message, self.fraction = state, message, fraction
        self._update_tooltip()
        self.update()

    def set_stale(self, stale: bool) -> None:
        if stale != self.stale:
            self.stale = stale
            self._update_tooltip()
            self.update()

    def set_problems(self, problems: list[str]) -> None:
        if problems != self.problems:
            self.problems = list(problems)
            self._update_tooltip()
            self.update()

    def set_thumbnail(self, image: QImage) -> None:
        self.thumbnail = image.scaled(int(THUMB * 2), int(THUMB), Qt.KeepAspectRatio, Qt.SmoothTransformation)
        self.update()

    def _update_tooltip(self) -> None:
        lines = [f"{self.title} ({self.node_id})"]
        if self.spec and self.spec.description:
            lines.append(self.spec.description)
        if self.state:
            lines.append(f"state: {self.state}" + (f" — {self.state_message}" if self.state_message else ""))
        if self.stale and self.state:
            lines.append("out of date: this step or one before it was edited after this result was made;"
                         " run again to refresh it")
        lines += [f"⚠ {p}" for p in self.problems]
        self.setToolTip("\n".join(lines))

    def badge(self) -> tuple[str, str]:
        """The badge text and colour, most urgent truth first.

        A run working on the step right now says so; otherwise problems win, because a *done* left by an
        earlier run describes the step as it was, not as it is; then a result the edits have made out of
        date; then how the last run left the step.
        """
        if self.state in ACTIVE_STATES:
            text = self.state
            if self.state == "running" and self.fraction is not None:
                text = f"running {self.fraction * 100:.0f}%"
            return text, STATE_COLORS.get(self.state, "#868e96")
        if self.problems:
            return f"{len(self.problems)} problem{'s' if len(self.problems) > 1 else ''}", STATE_COLORS["invalid"]
        if self.state and self.stale:
            return "out of date", STALE_COLOR
        if self.state:
            return self.state, STATE_COLORS.get(self.state, "#868e96")
        return "", ""

    def shows_problems(self) -> bool:
        return bool(self.problems) and self.state not in ACTIVE_STATES

    # -- drawing -------------------------------------------------------------------------
    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(-2, -2, NODE_WIDTH + 4, self.height + 4)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        c = colors()
        painter.setRenderHint(QPainter.Antialiasing)
        rect = QRectF(0, 0, NODE_WIDTH, self.height)
        border = QColor(c.selection) if self.isSelected() else QColor(c.node_border)
        if self.shows_problems():
            border = QColor(STATE_COLORS["invalid"]) if not self.isSelected() else border
        painter.setPen(QPen(border, 2.0 if self.isSelected() else 1.0))
        painter.setBrush(QColor(c.node_bg))
        painter.drawRoundedRect(rect, 6, 6)
        header = QPainterPath()
        header.addRoundedRect(QRectF(0.5, 0.5, NODE_WIDTH - 1, HEADER), 6, 6)
        painter.fillPath(header, QColor(c.node_header))
        painter.setPen(QColor(c.node_text))
        bold = QFont(painter.font())
        bold.setBold(True)
        painter.setFont(bold)
        painter.drawText(QRectF(8, 0, NODE_WIDTH - 16, HEADER), Qt.AlignVCenter | Qt.AlignLeft,
                         painter.fontMetrics().elidedText(self.title, Qt.ElideRight, int(NODE_WIDTH - 16)))
        small = QFont(painter.font())
        small.setBold(False)
        small.setPointSizeF(max(small.pointSizeF() * 0.85, 6.0))
        painter.setFont(small)
        for name, port in self.inputs.items():
            painter.drawText(QRectF(12, port.y() - ROW / 2, NODE_WIDTH / 2, ROW), Qt.AlignVCenter | Qt.AlignLeft, name)
        for name, port in self.outputs.items():
            painter.drawText(QRectF(NODE_WIDTH / 2 - 12, port.y() - ROW / 2, NODE_WIDTH / 2, ROW),
                             Qt.AlignVCenter | Qt.AlignRight, name)
        y = HEADER + self.body_height
        if self.spec and self.spec.produces_images:
            box = QRectF(8, y, NODE_WIDTH - 16, THUMB)
            painter.setPen(QPen(QColor(c.node_border), 1, Qt.DashLine))
            painter.setBrush(Qt.NoBrush)
            painter.drawRect(box)
            if self.thumbnail is not None and not self.thumbnail.isNull():
                img = self.thumbnail
                target = QRectF(box.center().x() - img.width() / 2, box.center().y() - img.height() / 2,
                                img.width(), img.height()).intersected(box)
                painter.drawImage(target, img)
            y += THUMB + 8
        painter.setPen(QColor("#7b8794"))
        painter.drawText(QRectF(8, y - 2, NODE_WIDTH - 16, 18), Qt.AlignVCenter | Qt.AlignLeft, self.node_id)
        text, color = self.badge()
        if text:
            width = painter.fontMetrics().horizontalAdvance(text) + 12
            pill = QRectF(NODE_WIDTH - width - 6, y, width, 15)
            painter.setPen(Qt.NoPen)
            painter.setBrush(QColor(color))
            painter.drawRoundedRect(pill, 7, 7)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(pill, Qt.AlignCenter, text)
            if self.state == "running" and self.fraction is not None:
                bar = QRectF(1, HEADER - 3, (NODE_WIDTH - 2) * self.fraction, 3)
                painter.fillRect(bar, QColor(color))

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value):  # noqa: N802
        if change == QGraphicsItem.ItemPositionHasChanged:
            for link in self.links:
                link.update_path()
        return super().itemChange(change, value)


class LinkItem(QGraphicsPathItem):
    """A link drawn as a smooth curve from an output port to an input port."""

    def __init__(self, link: Link, source: PortItem, target: PortItem) -> None:
        super().__init__()
        self.link, self.source, self.target = link, source, target
        self.setFlag(QGraphicsItem.ItemIsSelectable)
        self.setZValue(-1)
        self.setToolTip(f"{link.source} → {link.target} ({source.port.type})")
        self.update_path()

    def update_path(self) -> None:
        self.setPath(curve(self.source.scene_anchor(), self.target.scene_anchor()))

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        color = QColor(colors().selection) if self.isSelected() else QColor(port_color(self.source.port.type))
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(QPen(color, 3.0 if self.isSelected() else 2.0))
        painter.setBrush(Qt.NoBrush)
        painter.drawPath(self.path())

    def shape(self) -> QPainterPath:
        from PySide6.QtGui import QPainterPathStroker

        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        return stroker.createStroke(self.path())


def curve(start: QPointF, end: QPointF) -> QPainterPath:
    path = QPainterPath(start)
    dx = max(abs(end.x() - start.x()) * 0.5, 40.0)
    path.cubicTo(QPointF(start.x() + dx, start.y()), QPointF(end.x() - dx, end.y()), end)
    return path
