"""*Export model*: a finished run's classifier written as files, on purpose, without running anything again.

The dialog asks three things and shows the answer before anything is
written: which formats (check boxes made from the Export step's own format
switches), which folder (a new one is proposed), and the list of files that
will land there.  Export calls :func:`engine.export.from_run.export_run` in
the background (the window stays live), then says which files it wrote and
offers to open their folder.  No step is added to the canvas and no run is
started: the run's saved weights are all it needs.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.errors import UserInputError
from gui import tasks

log = logging.getLogger(__name__)


def open_folder(path: Path) -> bool:
    """Show ``path`` in the system's file manager (tests replace QDesktopServices.openUrl)."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def describe_failure(exc: BaseException, action: str = "The export") -> str:
    """One sentence for the analyst: the engine's own words for bad input, else what went wrong, in short."""
    if isinstance(exc, UserInputError):
        return str(exc)
    text = " ".join(str(exc).split())
    return f"{action} failed ({type(exc).__name__}{': ' + text[:200] if text else ''})."


class ExportDialog(QDialog):
    """Formats, destination, the files it will write; Export in the background; a confirmation naming the files."""

    def __init__(self, run_dir: str | Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_dir = Path(run_dir)
        self.plan = None  # engine.export.from_run.ExportPlan, read in the background
        self.written: list[Path] = []
        self.messages: list[tuple[str, str]] = []  # what the export logged (a format it had to skip...)
        self.pick_folder = lambda start: QFileDialog.getExistingDirectory(self, "Export to folder", start)
        self.setWindowTitle("Export model — Loom")
        self.setMinimumWidth(560)

        self.source = QLabel(f"Reading the run in {self.run_dir} …")
        self.source.setWordWrap(True)
        self.formats_box = QGroupBox("Formats")
        self.formats_layout = QVBoxLayout(self.formats_box)
        self.format_checks: dict[str, QCheckBox] = {}
        self.dest_edit = QLineEdit()
        self.dest_edit.setPlaceholderText("a new or empty folder")
        self.dest_edit.textChanged.connect(self._refresh)
        self.browse = QPushButton("Choose…")
        self.browse.clicked.connect(self._choose_folder)
        dest_row = QHBoxLayout()
        dest_row.addWidget(QLabel("Destination folder:"))
        dest_row.addWidget(self.dest_edit, 1)
        dest_row.addWidget(self.browse)
        self.will_write = QLabel()
        self.will_write.setObjectName("will_write")
        self.will_write.setWordWrap(True)
        self.will_write.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.message = QLabel()
        self.message.setObjectName("export_message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # indeterminate: exporting takes a second or two, no steps to count
        self.busy.setTextVisible(False)
        self.busy.hide()

        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.AcceptRole)
        self.open_button = self.buttons.addButton("Open folder", QDialogButtonBox.ActionRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.Close)
        self.export_button.clicked.connect(self.start_export)
        self.open_button.clicked.connect(self._open_destination)
        self.close_button.clicked.connect(self.reject)
        self.export_button.setEnabled(False)
        self.open_button.hide()

        layout = QVBoxLayout(self)
        layout.addWidget(self.source)
        layout.addWidget(self.formats_box)
        layout.addLayout(dest_row)
        self.list_heading = QLabel("Will write:")
        layout.addWidget(self.list_heading)
        layout.addWidget(self.will_write)
        layout.addWidget(self.message)
        layout.addWidget(self.busy)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self._add_format_checks()
        self.loading = tasks.launch(self._load(), owner=self, on_error=self._failed)

    # -- reading the run ------------------------------------------------------------------------------------------
    def _add_format_checks(self) -> None:
        from engine.export.from_run import export_formats

        for fmt in export_formats():
            files = f"{fmt.file}, model_card.json" if fmt.required else fmt.file
            box = QCheckBox(f"{fmt.title} ({files}){' — always written' if fmt.required else ''}")
            box.setToolTip(fmt.help)
            box.setChecked(fmt.default)
            box.setEnabled(not fmt.required)
            box.toggled.connect(self._refresh)
            self.formats_layout.addWidget(box)
            self.format_checks[fmt.name] = box

    async def _load(self) -> None:
        from engine.export.from_run import default_destination, describe_export

        plan = await tasks.run_blocking(describe_export, self.run_dir, None)  # every format: the boxes filter it
        dest = await tasks.run_blocking(default_destination, self.run_dir)
        self.plan = plan
        self.source.setText(f"The classifier trained by this run ({plan.architecture}, {len(plan.classes)} classes), "
                            f"from {plan.source}. Nothing is trained again and no new run is made.")
        if not self.dest_edit.text():
            self.dest_edit.setText(str(dest))
        self._refresh()

    # -- the live answer ------------------------------------------------------------------------------------------
    def formats(self) -> list[str]:
        return [name for name, box in self.format_checks.items() if box.isChecked()]

    def destination(self) -> Path:
        return Path(self.dest_edit.text().strip()).expanduser()

    def _refresh(self) -> None:
        if self.plan is None or self.written:
            return
        dest = self.destination()
        lines = self.plan.lines(self.formats())
        self.will_write.setText("\n".join(f"• {line}" for line in lines) + f"\ninto {dest}")
        problem = self._destination_problem(dest)
        self.message.setText(problem)
        self.export_button.setEnabled(not problem and bool(self.dest_edit.text().strip()))

    @staticmethod
    def _destination_problem(dest: Path) -> str:
        """Why ``dest`` will be refused, told as the analyst types (a stat and one directory entry, no more)."""
        import os

        if not str(dest).strip() or str(dest) == ".":
            return "Give a folder to export to."
        try:
            if dest.exists() and not dest.is_dir():
                return f"{dest} is a file — give a folder for the export."
            if dest.is_dir():
                with os.scandir(dest) as entries:
                    if next(entries, None) is not None:
                        return (f"{dest} already holds files — pick a new or empty folder (Loom never writes an "
                                "export over other files).")
        except OSError as exc:
            return f"{dest} cannot be read ({exc.strerror or exc})."
        return ""

    def _choose_folder(self) -> None:
        start = self.destination().parent if self.dest_edit.text().strip() else Path.home()
        chosen = self.pick_folder(str(start))
        if chosen:
            self.dest_edit.setText(chosen)

    # -- exporting ------------------------------------------------------------------------------------------------
    def start_export(self) -> None:
        if self.plan is None or not self.export_button.isEnabled():
            return
        self._set_busy(True)
        self.message.setText("Exporting…")
        self.exporting = tasks.launch(self._export(self.destination(), self.formats()), owner=self,
                                      on_error=self._failed)

    async def _export(self, dest: Path, formats: list[str]) -> None:
        from engine.export.from_run import export_run

        lock = threading.Lock()

        def heard(message: str, level: str) -> None:  # called on the worker thread
            with lock:
                self.messages.append((level, message))

        self.written = await tasks.run_blocking(export_run, self.run_dir, dest, formats, None, heard)
        self._set_busy(False)
        self._show_done(dest)

    def _show_done(self, dest: Path) -> None:
        self.source.setText(f"Exported {len(self.written)} files to {dest}")
        self.list_heading.setText("Wrote:")
        self.will_write.setText("\n".join(f"• {p.name}" for p in self.written))
        warnings = [m for level, m in self.messages if level in ("warning", "error")]
        self.message.setText("\n".join(warnings) if warnings else
                             f"Done. Share the folder; `loom predict \"{dest}\" INPUTS…` classifies new inputs with it.")
        for widget in (self.formats_box, self.dest_edit, self.browse):
            widget.setEnabled(False)
        self.export_button.hide()
        self.open_button.show()
        self.open_button.setDefault(True)

    def _failed(self, exc: BaseException) -> None:
        if not isinstance(exc, UserInputError):
            log.warning("export of %s failed", self.run_dir, exc_info=exc)
        self._set_busy(False)
        self.message.setText(describe_failure(exc))
        self._refresh_buttons_after_failure()

    def _refresh_buttons_after_failure(self) -> None:
        self.export_button.setEnabled(self.plan is not None and not self._destination_problem(self.destination()))

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        for widget in (self.formats_box, self.dest_edit, self.browse, self.export_button):
            widget.setEnabled(not busy)
        self.export_button.setText("Exporting…" if busy else "Export")

    def _open_destination(self) -> None:
        if self.written:
            open_folder(self.written[0].parent)


def open_export_dialog(window: QWidget, run_dir: str | Path) -> ExportDialog:
    """Open the Export dialog for any finished run (window-modal, non-blocking); it deletes itself when closed."""
    dialog = ExportDialog(run_dir, window)
    dialog.setAttribute(Qt.WA_DeleteOnClose)
    dialog.open()
    return dialog
