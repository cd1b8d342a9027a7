"""The last line of defence: an unexpected error becomes one dialog, and Loom keeps running.

A bug in a slot, a paint handler or a background task must not silently
break the window, nor greet the analyst with a traceback.  Everything
unexpected ends here: ``sys.excepthook`` (Qt slots and overrides, and the
tasks of :mod:`gui.tasks` that have no error callback of their own) and
``threading.excepthook`` (any other thread).  The traceback is written to a
crash log under the Loom home (atomically, like every Loom file); the dialog
shows one line, **Open log** and **Close**, with the traceback only behind
*Details*.  A run that fails is shown the same way, its **Open log** opening
the run's ``log.txt`` (where the engine wrote the traceback).

There is only ever one such dialog: errors arriving while it is open update
it (the newest error, and how many there were) instead of stacking windows.
The dialog is never modal, so it cannot block training, redraws or a test.
"""

from __future__ import annotations

import datetime as dt
import logging
import platform
import sys
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.paths import loom_home

log = logging.getLogger(__name__)
SUMMARY_CHARS = 200


@dataclass(frozen=True)
class ErrorReport:
    """What the dialog shows: a heading, one line about what happened, the log to open, hidden details."""

    heading: str
    summary: str
    log_path: Path
    details: str = ""


def one_line(exc: BaseException) -> str:
    """``TypeName: first line of the message``, short enough for a dialog line."""
    text = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    line = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return line if len(line) <= SUMMARY_CHARS else line[: SUMMARY_CHARS - 1] + "…"


def crash_log_dir() -> Path:
    return loom_home() / "crashes"


def write_crash_log(exc: BaseException, thread: str = "", folder: Path | None = None) -> Path:
    """A new file with the traceback, the thread it happened on and the versions that matter.

    Never overwrites an earlier one: every error keeps its own file.
    """
    from engine.fileio import atomic_write_text

    folder = folder or crash_log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    path = folder / f"crash-{stamp}.txt"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"crash-{stamp}-{n}.txt"
    from PySide6 import __version__ as pyside_version

    from engine import __version__ as loom_version

    header = [
        f"Loom {loom_version} — unexpected error at {dt.datetime.now().isoformat(timespec='seconds')}",
        f"Python {platform.python_version()} on {platform.platform()}, PySide6 {pyside_version}",
        f"thread: {thread or threading.current_thread().name}",
        "",
    ]
    text = "\n".join(header) + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    atomic_write_text(path, text)
    return path


def report_for_exception(exc: BaseException, thread: str = "") -> ErrorReport:
    """Write the crash log and describe the error for the dialog."""
    return ErrorReport(
        heading="Loom ran into an unexpected problem and carried on.",
        summary=one_line(exc),
        log_path=write_crash_log(exc, thread),
        details="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    )


def report_for_failed_run(run_dir: str | Path, message: str) -> ErrorReport:
    """A run that ended ``failed``: its log.txt already holds the details."""
    from engine.logfile import LOG_NAME

    return ErrorReport(heading="The run failed.", summary=message or "The run ended with an error.",
                       log_path=Path(run_dir) / LOG_NAME)


class ErrorDialog(QDialog):
    """One line, Open log and Close; the traceback behind Details. Non-modal."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Loom — something went wrong")
        self.setWindowModality(Qt.NonModal)
        self.setMinimumWidth(520)
        self.report: ErrorReport | None = None
        self.count = 0
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.SP_MessageBoxWarning).pixmap(40, 40))
        icon.setAlignment(Qt.AlignTop)
        self.heading = QLabel()
        self.heading.setObjectName("heading")
        self.heading.setStyleSheet("font-weight: 600;")
        self.summary = QLabel()
        self.summary.setObjectName("summary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.where = QLabel()
        self.where.setObjectName("where")
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.details_toggle = QToolButton()
        self.details_toggle.setText("Details")
        self.details_toggle.setCheckable(True)
        self.details_toggle.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.details_toggle.setArrowType(Qt.RightArrow)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setVisible(False)
        self.details.setMinimumHeight(180)
        self.details_toggle.toggled.connect(self._toggle_details)
        buttons = QDialogButtonBox()
        self.open_log_button = buttons.addButton("Open log", QDialogButtonBox.ActionRole)
        self.close_button = buttons.addButton(QDialogButtonBox.Close)
        self.open_log_button.clicked.connect(self.open_log)
        self.close_button.clicked.connect(self.close)
        text = QVBoxLayout()
        for widget in (self.heading, self.summary, self.where, self.details_toggle):
            text.addWidget(widget)
        top = QHBoxLayout()
        top.addWidget(icon)
        top.addLayout(text, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)

    def show_report(self, report: ErrorReport) -> None:
        """Show ``report``; a second one while open replaces the first and says how many there were."""
        self.report = report
        self.count += 1
        self.heading.setText(report.heading)
        self.summary.setText(report.summary)
        more = f"{self.count} problems so far; this is the latest. " if self.count > 1 else ""
        self.where.setText(f"{more}Open log for the details: {report.log_path}")
        self.details.setPlainText(report.details)
        self.details_toggle.setVisible(bool(report.details))
        if not report.details:
            self.details_toggle.setChecked(False)

    def open_log(self) -> bool:
        if self.report is None:
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.report.log_path)))

    def _toggle_details(self, on: bool) -> None:
        self.details.setVisible(on)
        self.details_toggle.setArrowType(Qt.DownArrow if on else Qt.RightArrow)
        self.adjustSize()


_current: ErrorDialog | None = None


def current_dialog() -> ErrorDialog | None:
    """The error dialog on screen, if any."""
    from shiboken6 import isValid

    if _current is not None and isValid(_current) and _current.isVisible():
        return _current
    return None


def present(report: ErrorReport, parent: QWidget | None = None) -> ErrorDialog:
    """Show ``report`` in the dialog already open, else in a new one (never modal, never blocking)."""
    global _current
    dialog = current_dialog()
    if dialog is None:
        dialog = ErrorDialog(parent)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        _current = dialog
    dialog.show_report(report)
    dialog.show()
    dialog.raise_()
    return dialog


class LastLineOfDefence(QObject):
    """Routes every unexpected exception to :func:`present`; installed once by :func:`gui.app.main`."""

    _from_thread = Signal(object, str)  # an exception raised on another thread (and its name), shown on the GUI thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._from_thread.connect(self._show, Qt.QueuedConnection)
        self._previous_hook = sys.__excepthook__
        self._previous_thread_hook = threading.__excepthook__
        self._reporting = False
        self.installed = False

    def install(self) -> None:
        self._previous_hook, sys.excepthook = sys.excepthook, self.excepthook
        self._previous_thread_hook, threading.excepthook = threading.excepthook, self.thread_excepthook
        self.installed = True

    def uninstall(self) -> None:
        if self.installed:
            sys.excepthook, threading.excepthook = self._previous_hook, self._previous_thread_hook
            self.installed = False

    def excepthook(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt) or self._reporting:
            self._previous_hook(exc_type, exc, tb)  # Ctrl-C, or the dialog itself failed: the plain way
            return
        if exc.__traceback__ is None and tb is not None:
            exc = exc.with_traceback(tb)
        log.error("unexpected error", exc_info=(exc_type, exc, tb))
        thread = threading.current_thread()
        if thread is threading.main_thread():
            self._show(exc, thread.name)
        else:
            self._from_thread.emit(exc, thread.name)

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        self.excepthook(args.exc_type, args.exc_value, args.exc_traceback)

    def _show(self, exc: BaseException, thread: str) -> None:
        self._reporting = True
        try:
            present(report_for_exception(exc, thread), QApplication.activeWindow())
        except Exception:  # writing the log or building the dialog failed: print both, keep running
            self._previous_hook(type(exc), exc, exc.__traceback__)
            self._previous_hook(*sys.exc_info())
        finally:
            self._reporting = False


def install_last_line_of_defence(parent: QObject | None = None) -> LastLineOfDefence:
    defence = LastLineOfDefence(parent)
    defence.install()
    return defence
