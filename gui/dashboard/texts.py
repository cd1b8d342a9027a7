"""The text samples: what a language model writes as it learns, with a scrubber over every saved step.

The text twin of the image preview: one stream per node and name (the
``train_lm`` samples, the ``generate_text`` output, the data previews), the
newest shown unless the analyst scrubs back.  Texts are small, but a long
run writes thousands: older ones are reloaded from their ``.txt`` file.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QPlainTextEdit, QPushButton, QWidget

from engine import events as ev
from gui.dashboard.scrubber import SteppedStreams


class TextSamples(SteppedStreams):
    """Feed it TextReady events, or frames from a run folder's ``.txt`` files."""

    empty_text = "no text yet"
    stream_tip = "Which texts to show (node: name)"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = QPlainTextEdit()
        self.view.setReadOnly(True)
        self.view.setObjectName("textSamples")
        self.view.setPlaceholderText("A language model's samples appear here while it trains, "
                                     "and the texts a data step read.")
        self.view.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the text shown to the clipboard")
        self.copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.current_text()))
        self.save_button = QPushButton("Save as text…")
        self.save_button.clicked.connect(self._save_dialog)
        for button in (self.copy_button, self.save_button):
            button.setEnabled(False)
            self.top.addWidget(button)
        self.finish_layout(self.view)

    def add_event(self, event: ev.TextReady) -> None:
        self.add_frame(f"{event.node_id}: {event.name}", event.step, event.text, event.path)

    # -- the SteppedStreams hooks -------------------------------------------------------------------
    def display(self, payload: str) -> None:
        self.view.setPlainText(payload)
        for button in (self.copy_button, self.save_button):
            button.setEnabled(True)

    def blank(self) -> None:
        self.view.clear()
        for button in (self.copy_button, self.save_button):
            button.setEnabled(False)

    def load_file(self, path: str) -> str:
        try:
            return Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return f"(this text could not be read back from {path}: {exc.strerror or exc})"

    def current_text(self) -> str:
        return self.view.toPlainText()

    # -- saving -------------------------------------------------------------------------------------
    def save_text(self, path: str | Path) -> bool:
        text = self.shown_payload()
        if text is None:
            return False
        try:
            Path(path).write_text(text, encoding="utf-8")
        except OSError:
            return False
        return True

    def _save_dialog(self) -> None:
        slug = re.sub(r"[^A-Za-z0-9]+", "_", self.current_stream).strip("_") or "text"
        path, _ = QFileDialog.getSaveFileName(self, "Save text", f"{slug}_step{self.shown_step}.txt",
                                              "Text files (*.txt)")
        if path:
            self.save_text(path)
