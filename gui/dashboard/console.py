"""The log console: every log line of the run, filterable by level."""

from __future__ import annotations

import datetime as dt
import html
from collections import deque

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

LEVELS = ("debug", "info", "warning", "error")
LEVEL_COLORS = {"debug": "#868e96", "info": "", "warning": "#e67700", "error": "#e03131"}
MAX_LINES = 20000


class LogConsole(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lines: deque[tuple[float, str, str, str]] = deque(maxlen=MAX_LINES)
        self.level_box = QComboBox()
        self.level_box.addItems([lvl.capitalize() for lvl in LEVELS])
        self.level_box.setCurrentIndex(1)
        self.level_box.currentIndexChanged.connect(self._refilter)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.clear)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_LINES)
        self.text.setLineWrapMode(QPlainTextEdit.WidgetWidth)
        top = QHBoxLayout()
        top.addWidget(QLabel("Show"))
        top.addWidget(self.level_box)
        top.addStretch(1)
        top.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.text, 1)

    @property
    def min_level(self) -> int:
        return self.level_box.currentIndex()

    def append(self, level: str, message: str, node_id: str = "", when: float | None = None) -> None:
        level = level if level in LEVELS else "info"
        entry = (when or dt.datetime.now().timestamp(), level, node_id, message)
        self.lines.append(entry)
        if LEVELS.index(level) >= self.min_level:
            self.text.appendHtml(self._html(entry))

    def plain_text(self) -> str:
        return self.text.toPlainText()

    def clear(self) -> None:
        self.lines.clear()
        self.text.clear()

    def _refilter(self) -> None:
        self.text.clear()
        shown = [self._html(e) for e in self.lines if LEVELS.index(e[1]) >= self.min_level]
        if shown:
            self.text.appendHtml("<br>".join(shown))

    @staticmethod
    def _html(entry: tuple[float, str, str, str]) -> str:
        when, level, node_id, message = entry
        stamp = dt.datetime.fromtimestamp(when).strftime("%H:%M:%S")
        where = f"[{html.escape(node_id)}] " if node_id else ""
        body = html.escape(message).replace("\n", "<br>")
        color = LEVEL_COLORS[level]
        style = f" style='color:{color}'" if color else ""
        return f"<span{style}><tt>{stamp} {level.upper():7s}</tt> {where}{body}</span>"
