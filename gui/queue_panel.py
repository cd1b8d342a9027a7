"""The Queue panel: the runs lined up to go one after another, and its buttons.

Only a view, like the Runs panel: it shows the entries it is given
(:meth:`QueuePanel.show_entries`) and announces what the analyst wants as
signals; :class:`gui.queue_runner.QueueController` reads and writes the queue
in the background and starts the entries.  Drag an entry (or use Up/Down) to
change the order; Pause holds one entry back and Continue lets it go again;
Retry lines up a failed or cancelled one again (resuming its run folder when it
has one); Cancel drops a waiting entry or stops the running one; Open shows an
entry's run; *Hold queue* stops anything new from starting (a running entry
runs on).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QDropEvent, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.queue import ENDED, QueueEntry, QueueState

ID_ROLE = Qt.UserRole
STATE_MARK = {QueueState.QUEUED: "○", QueueState.RUNNING: "▶", QueueState.PAUSED: "‖", QueueState.DONE: "✔",
              QueueState.FAILED: "✖", QueueState.CANCELLED: "—"}
STATE_COLOR = {QueueState.FAILED: "#d9534f", QueueState.DONE: "#3c9a5f", QueueState.CANCELLED: "#8a8a8a"}
COLUMNS = ("", "Run", "Device", "State")


class QueueList(QTreeWidget):
    """The entries, top to bottom in the order they run; dragging one reorders them (``moved``: the new order)."""

    moved = Signal(list)  # entry ids, in the order the analyst dropped them into

    def __init__(self) -> None:
        super().__init__()
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(list(COLUMNS))
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setDragDropMode(QAbstractItemView.InternalMove)
        self.setDefaultDropAction(Qt.MoveAction)
        self.invisibleRootItem().setFlags(self.invisibleRootItem().flags() | Qt.ItemIsDropEnabled)
        header = self.header()
        header.setStretchLastSection(False)
        for col in range(len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.Stretch if col == 1 else QHeaderView.ResizeToContents)

    def ids(self) -> list[int]:
        return [self.topLevelItem(i).data(0, ID_ROLE) for i in range(self.topLevelItemCount())]

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt's name
        before = self.ids()
        super().dropEvent(event)
        after = self.ids()
        if sorted(after) == sorted(before) and after != before:
            self.moved.emit(after)


class QueuePanel(QWidget):
    """Entries in line order with their state; the buttons act on the selected one."""

    move_requested = Signal(int, int)  # entry id, new place (0 = first)
    reorder_requested = Signal(list)  # every entry id, in the new order (a drag)
    pause_requested = Signal(int)
    continue_requested = Signal(int)
    cancel_requested = Signal(int)
    remove_requested = Signal(int)
    open_requested = Signal(str)  # the run folder of an entry
    hold_requested = Signal(bool)  # hold the whole queue (True) or let it go on

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: list[QueueEntry] = []
        self.held = False
        self.list = QueueList()
        self.list.setToolTip("Runs start from the top, one at a time per device, whenever this window is idle. "
                             "Drag to reorder.")
        self.list.itemSelectionChanged.connect(self._update_buttons)
        self.list.itemActivated.connect(lambda _item, _col: self._open())
        self.list.moved.connect(self.reorder_requested)
        self.list.setContextMenuPolicy(Qt.NoContextMenu)
        self.summary = QLabel("Nothing queued: Run > Add to Queue lines up the current workflow.")
        self.summary.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.detail = QLabel("")  # the selected entry: what happened to it, where its run is
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.detail.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.up_button = self._button("Up", "Run this entry earlier", lambda: self._move(-1))
        self.down_button = self._button("Down", "Run this entry later", lambda: self._move(+1))
        self.pause_button = self._button("Pause", "Hold this entry back (it keeps its place); Continue lets it run",
                                         self._pause_or_continue)
        self.cancel_button = self._button("Cancel", "Drop this entry, or stop it if it is running (its checkpoint "
                                          "is kept)", lambda: self._emit_selected(self.cancel_requested))
        self.open_button = self._button("Open run", "Show this entry's run on the dashboard", self._open)
        self.remove_button = self._button("Remove", "Remove a finished or cancelled entry from the list (its run "
                                          "folder stays)", lambda: self._emit_selected(self.remove_requested))
        self.hold_button = self._button("Hold queue", "Start nothing new until you press Start queue (a running "
                                        "entry runs on)", lambda: self.hold_requested.emit(not self.held))
        top, row1, row2 = QHBoxLayout(), QHBoxLayout(), QHBoxLayout()  # three buttons a row: as narrow as Runs
        top.addWidget(self.summary, 1)
        top.addWidget(self.hold_button)
        for b in (self.up_button, self.down_button, self.pause_button):
            row1.addWidget(b)
        for b in (self.cancel_button, self.open_button, self.remove_button):
            row2.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.detail)
        layout.addLayout(row1)
        layout.addLayout(row2)
        self._update_buttons()

    def _button(self, text: str, tip: str, slot) -> QPushButton:  # noqa: ANN001
        button = QPushButton(text)
        button.setToolTip(tip)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    # -- what it shows --------------------------------------------------------------------------------------
    def show_entries(self, entries: list[QueueEntry], held: bool) -> None:
        """Show ``entries`` (line order) and whether the queue is held; the selection stays on its entry."""
        chosen = self.selected()
        self.entries, self.held = list(entries), held
        self.list.clear()
        for e in entries:
            item = QTreeWidgetItem(["", e.label, e.device, self._state_text(e)])
            item.setData(0, ID_ROLE, e.id)
            item.setText(0, STATE_MARK.get(e.state, "?"))
            item.setFlags((item.flags() | Qt.ItemIsDragEnabled) & ~Qt.ItemIsDropEnabled)
            tip = [f"#{e.id} {e.label}", f"added {e.added.replace('T', ' ')}", f"state: {e.state}"]
            if e.run_dir:
                tip.append(f"run folder: {e.run_dir}")
            if e.message:
                tip.append(e.message)
            for col in range(len(COLUMNS)):
                item.setToolTip(col, "\n".join(tip))
            color = STATE_COLOR.get(e.state)
            if color:
                for col in range(len(COLUMNS)):
                    item.setForeground(col, QBrush(QColor(color)))
            if e.state == QueueState.RUNNING:
                font = QFont(item.font(1))
                font.setBold(True)
                item.setFont(1, font)
            self.list.addTopLevelItem(item)
            if e.id == chosen:
                item.setSelected(True)
                self.list.setCurrentItem(item)
        self.hold_button.setText("Start queue" if held else "Hold queue")
        self.summary.setText(self._summary())
        self.summary.setToolTip(self.summary.text())
        self._update_buttons()

    @staticmethod
    def _state_text(e: QueueEntry) -> str:
        if e.state == QueueState.QUEUED and e.resumes:
            return "queued (resumes)"
        return str(e.state)

    def _summary(self) -> str:
        waiting = sum(e.state == QueueState.QUEUED for e in self.entries)
        running = [e for e in self.entries if e.state == QueueState.RUNNING]
        if not self.entries:
            return "Nothing queued: Run > Add to Queue lines up the current workflow."
        parts = [f"{waiting} waiting"]
        if running:
            parts.append("running: " + ", ".join(e.label for e in running))
        if self.held:
            parts.append("held — press Start queue to go on")
        return " · ".join(parts)

    # -- the selection and the buttons ------------------------------------------------------------------------------
    def selected(self) -> int | None:
        items = self.list.selectedItems()
        return items[0].data(0, ID_ROLE) if items else None

    def entry(self, entry_id: int | None) -> QueueEntry | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    def select(self, entry_id: int) -> None:
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            item.setSelected(item.data(0, ID_ROLE) == entry_id)
            if item.isSelected():
                self.list.setCurrentItem(item)

    def _emit_selected(self, signal) -> None:  # noqa: ANN001 - a Signal of int
        entry_id = self.selected()
        if entry_id is not None:
            signal.emit(entry_id)

    def _move(self, step: int) -> None:
        entry_id = self.selected()
        if entry_id is None:
            return
        ids = self.list.ids()
        place = ids.index(entry_id) + step
        if 0 <= place < len(ids):
            self.move_requested.emit(entry_id, place)

    def _pause_or_continue(self) -> None:
        e = self.entry(self.selected())
        if e is not None:
            waiting = e.state == QueueState.QUEUED
            (self.pause_requested if waiting else self.continue_requested).emit(e.id)  # Continue, or Retry

    def _open(self) -> None:
        e = self.entry(self.selected())
        if e is not None and e.run_dir:
            self.open_requested.emit(e.run_dir)

    def _update_buttons(self) -> None:
        e = self.entry(self.selected())
        ids = self.list.ids()
        place = ids.index(e.id) if e is not None and e.id in ids else -1
        self.up_button.setEnabled(place > 0)
        self.down_button.setEnabled(0 <= place < len(ids) - 1)
        retry = e is not None and e.state in (QueueState.FAILED, QueueState.CANCELLED)
        self.pause_button.setText("Retry" if retry else "Continue" if e is not None and e.state == QueueState.PAUSED
                                  else "Pause")
        self.pause_button.setEnabled(e is not None and e.state != QueueState.RUNNING and e.state != QueueState.DONE)
        self.cancel_button.setEnabled(e is not None and e.state not in ENDED)
        self.open_button.setEnabled(e is not None and bool(e.run_dir))
        self.remove_button.setEnabled(e is not None and e.state in ENDED)
        self.detail.setText(self._detail(e))
        self.detail.setVisible(bool(self.detail.text()))

    @staticmethod
    def _detail(e: QueueEntry | None) -> str:
        if e is None:
            return ""
        lines = [e.message] if e.message else []
        if e.run_dir:
            lines.append(f"Run folder: {e.run_dir}")
        return "\n".join(lines)

    def item_rect_center(self, entry_id: int) -> QPoint:
        """Where an entry's row is, in the list's viewport (tests drag it)."""
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            if item.data(0, ID_ROLE) == entry_id:
                return self.list.visualItemRect(item).center()
        raise LookupError(f"no queue entry {entry_id} is shown")
