"""Document files of the main window: new, open, save, the unsaved-changes prompt, recent files, examples.

A mixin so the window class stays about layout and wiring; it relies on the
window's ``doc``, ``settings`` and ``act``.  Past runs (reopen, compare,
reuse, move to trash) are not documents: they live in :mod:`gui.past_runs`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.workflow import Workflow
from gui.paths import examples_dir

FILE_FILTER = "Loom workflows (*.json);;All files (*)"


class FileMixin:
    def open_file(self, path: str | Path) -> bool:
        from engine.errors import UserInputError

        try:
            workflow = Workflow.load(path)
        except UserInputError as exc:
            self.show_error("Cannot open workflow", str(exc))
            return False
        self.load_workflow(workflow, path=path)
        self._refresh_recent(self.settings.add_recent(path))
        self.statusBar().showMessage(f"Opened {path}", 4000)
        return True

    def new_workflow(self) -> None:
        if self.maybe_save():
            self.load_workflow(Workflow())

    def start_empty_canvas(self) -> bool:
        """The welcome screen's *Start with an empty canvas*: a new, empty, untitled workflow on the canvas.

        Whatever the canvas held (an example, the last wizard's workflow) goes, after the usual offer to
        save unsaved edits; False when the analyst cancels that.  The canvas page is shown after the
        document's replacement has been announced, since an empty document otherwise sends the window
        back to the welcome screen.
        """
        if not self.maybe_save():
            return False
        if self.doc.workflow.nodes or self.doc.path is not None or self.doc.dirty:
            self.load_workflow(Workflow())
        QTimer.singleShot(0, self, lambda: self.show_page("canvas"))  # queued after the reset's own reactions
        return True

    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open workflow", str(self.doc.path or Path.home()), FILE_FILTER)
        if path:
            self.open_file(path)

    def save(self) -> bool:
        if self.doc.path is None:
            return self.save_as()
        return self._save_to(self.doc.path)

    def save_as(self) -> bool:
        suggestion = str(self.doc.path or Path.home() / f"{self.doc.workflow.name}.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save workflow", suggestion, FILE_FILTER)
        return bool(path) and self._save_to(Path(path), rename=True)

    def _save_to(self, path: Path, rename: bool = False) -> bool:
        """Save; with ``rename`` (Save As) the workflow takes the file's name, so its next runs are named after it."""
        try:
            self.doc.save(path, rename=rename)
        except OSError as exc:
            self.show_error("Cannot save", f"{path}: {exc}")
            return False
        self._refresh_recent(self.settings.add_recent(path))
        self.autosaver.discard()
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    def maybe_save(self) -> bool:
        """The unsaved-changes prompt; False means the user cancelled."""
        if not self.doc.dirty:
            return True
        answer = self.ask("Unsaved changes", f"Save the changes to “{self.doc.workflow.name}”?",
                          QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel)
        if answer == QMessageBox.Save:
            return self.save()
        return answer == QMessageBox.Discard

    def _refresh_recent(self, recent: list[str] | None = None) -> None:
        menu = self.act.recent_menu
        menu.clear()
        for path in recent if recent is not None else self.settings.recent_files():
            menu.addAction(Path(path).name, lambda p=path: self.maybe_save() and self.open_file(p)).setToolTip(path)
        menu.setEnabled(not menu.isEmpty())

    def _refresh_examples(self) -> None:
        menu = self.act.examples_menu
        menu.clear()
        for path in sorted(examples_dir().glob("*.json")):
            menu.addAction(path.stem.replace("_", " ").capitalize(), lambda p=path: self._open_example(p))
        menu.setEnabled(not menu.isEmpty())

    def _open_example(self, path: Path) -> None:
        """Examples open as untitled copies so Save never overwrites the shipped file."""
        if self.maybe_save() and self.open_file(path):
            self.doc.path = None
            self.doc.path_changed.emit()

    def _update_title(self, *_args) -> None:
        name = self.doc.path.name if self.doc.path else self.doc.workflow.name
        self.setWindowTitle(f"{name}[*] — Loom")
        self.setWindowModified(self.doc.dirty)
