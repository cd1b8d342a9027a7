"""Crash recovery: the open document is written to a recovery file every 30 s while it has unsaved changes.

A clean exit deletes the file; finding it at the next launch means the app
did not close cleanly, and the window offers to restore it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

from engine.fileio import atomic_write_text
from engine.workflow import Workflow
from gui.paths import recovery_file

log = logging.getLogger(__name__)
INTERVAL_MS = 30_000


class Autosaver(QObject):
    def __init__(self, doc, path: Path | None = None, interval_ms: int = INTERVAL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.path = path or recovery_file()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_now)
        self.timer.start()

    def save_now(self) -> bool:
        if not self.doc.dirty:
            return False
        payload = {"path": str(self.doc.path or ""), "workflow": self.doc.workflow.to_json()}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, json.dumps(payload, indent=2))
        except OSError:
            log.warning("could not write the recovery file %s", self.path, exc_info=True)
            return False
        return True

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)

    def pending(self) -> tuple[Workflow, str] | None:
        """The workflow left by a crash (and its original path), if any."""
        if not self.path.exists():
            return None
        try:
            payload = json.loads(self.path.read_text(encoding="utf-8"))
            return Workflow.from_json(payload["workflow"], source="recovery file"), str(payload.get("path", ""))
        except Exception:  # a torn or foreign file: nothing to offer
            log.warning("ignoring an unreadable recovery file %s", self.path, exc_info=True)
            return None
