"""File handling of the main window: open, save, recent files, examples, run folders
(reopen, compare, reuse, move to trash).

A mixin so the window class stays about layout and wiring; it relies on the
window's ``doc``, ``settings``, ``dashboard``, ``scene`` and ``act``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
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
        return bool(path) and self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        try:
            self.doc.save(path)
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

    def open_run_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open run folder", str(Path.home()))
        if path:
            self.open_run(path)

    def open_run(self, run_dir: str | Path) -> bool:
        """Reopen a finished run: its workflow on the canvas (if nothing unsaved) and its dashboard."""
        from engine.errors import UserInputError

        try:
            info = self.dashboard.load_run(run_dir)
        except UserInputError as exc:
            self.show_error("Cannot open run", str(exc))
            return False
        for node_id, node in info.get("nodes", {}).items():
            self.scene.set_node_state(node_id, node.get("state", ""), node.get("message", ""))
        self.dashboard_dock.raise_()
        self.statusBar().showMessage(f"Run {info.get('run_id')}: {info.get('status')}", 8000)
        return True

    # -- past runs: compare, reuse, trash -------------------------------------------------------------
    def compare_runs(self, run_dirs: list[str]) -> object | None:
        """Open a comparison of the runs (non-modal, so several can stay open); returns the dialog."""
        from engine.compare import Comparison
        from engine.errors import UserInputError
        from gui.compare import CompareDialog

        try:
            comparison = Comparison.of(run_dirs)
        except UserInputError as exc:
            self.show_error("Cannot compare runs", str(exc))
            return None
        dialog = CompareDialog(comparison, self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def reuse_run(self, run_dir: str | Path) -> bool:
        """The run's workflow, as it ran, as a new untitled document: edit a setting and run again."""
        path = Path(run_dir) / "workflow.json"
        if not self.maybe_save() or not self.open_file(path):
            return False
        self.doc.path = None  # Save must not write into the run folder
        self.doc.path_changed.emit()
        self.statusBar().showMessage(f"Workflow of run {Path(run_dir).name} opened as a new document", 6000)
        return True

    def trash_runs(self, run_dirs: list[str]) -> int:
        """Move run folders to the trash after asking; returns how many went."""
        from PySide6.QtCore import QFile

        from engine.run_index import RunIndex

        names = ", ".join(Path(d).name for d in run_dirs[:3]) + (" …" if len(run_dirs) > 3 else "")
        answer = self.ask("Move runs to the trash",
                          f"Move {len(run_dirs)} run folder{'s' if len(run_dirs) != 1 else ''} ({names}) to the "
                          "trash? You can restore them from there.", QMessageBox.Yes | QMessageBox.Cancel)
        if answer != QMessageBox.Yes:
            return 0
        moved, failed = 0, []
        index = RunIndex()
        for run_dir in run_dirs:
            if QFile.moveToTrash(str(run_dir)):
                index.forget(Path(run_dir))
                moved += 1
            else:
                failed.append(str(run_dir))
        self.history.refresh()
        if failed:
            self.show_error("Some runs were not moved",
                            "This system has no trash Loom can use for:\n" + "\n".join(failed)
                            + "\nDelete those folders yourself if you no longer need them.")
        return moved
