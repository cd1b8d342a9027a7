"""Application entry point: show the window first, import torch later.

Nothing on the path to the first paint imports torch: the step catalogue
loads in the background once the window is up (see ``gui.catalog``), and the
engine's runner is imported on the first Run.  The event loop is qasync's, so
coroutines (``asyncio``) and Qt share one loop on the GUI thread: all
background work of the GUI goes through :mod:`gui.tasks`.  Python's cycle
collector runs on the GUI thread only (:mod:`gui.gc_guard`).  Anything
unexpected ends in :mod:`gui.crash`'s dialog, never in a dead window.
"""

from __future__ import annotations

import sys
from pathlib import Path


def create_app(argv: list[str] | None = None):
    """The QApplication (created once), named so QSettings and dialogs find it."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from gui import qtfix

    qtfix.apply()
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(sys.argv if argv is None else argv)
    app.setApplicationName("Loom")
    app.setOrganizationName("Loom")
    app.setApplicationDisplayName("Loom")
    from gui import gc_guard, tasks

    tasks.install_loop(app)  # before any window: widgets may launch background work as they are built
    gc_guard.install(app)  # cyclic garbage (Qt wrappers among it) is collected on this thread, never the engine's
    return app


def create_window(probe_device: bool = True):
    """A MainWindow with the user's settings; not yet shown."""
    from gui.main_window import MainWindow

    window = MainWindow(probe_device=probe_device)
    from gui.wizards import install_wizards  # welcome screen, Start menu, results page

    install_wizards(window)
    return window


def _exec(app) -> int:
    """Run Qt's event loop (which is also the asyncio loop, see gui.tasks) until the last window closes."""
    from gui import tasks

    try:
        return app.exec()
    finally:
        tasks.shutdown()


def run_folder_argument(args: list[str]) -> tuple[str | None, str]:
    """The run folder named on the command line (``loom RUN_DIR``), and what is wrong with it ('' when nothing).

    Any argument that is not an option or a ``.json`` workflow is taken for a run folder to follow; it is
    checked before Qt starts (run.json only: no torch), so a wrong path is one ``loom:`` line, exit 2.
    """
    folders = [a for a in args if not a.startswith("-") and not a.endswith(".json")]
    if not folders:
        return None, ""
    from engine.errors import UserInputError
    from engine.follow import check_run_folder

    try:
        check_run_folder(folders[0])
    except UserInputError as exc:
        return folders[0], str(exc)
    return folders[0], ""


def main(argv: list[str] | None = None) -> int:
    """``loom`` with no arguments: open the desktop app (a workflow file or a run folder to follow may follow).

    Exits 1 with one message, before Qt starts, when the system lacks libraries Qt's X11 platform needs
    (Qt itself would abort with advice to reinstall the application, which does not help); exits 2 with
    one message when the run folder given is not one.
    """
    from gui import xcb_check

    args = sys.argv[1:] if argv is None else list(argv)
    folder, wrong = run_folder_argument(args)
    if wrong:
        print(f"loom: {wrong}", file=sys.stderr)
        return 2
    problem = xcb_check.check_platform()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    app = create_app([sys.argv[0], *args] if argv is not None else None)
    from gui.crash import install_last_line_of_defence

    install_last_line_of_defence(app)  # a child of the app: lives as long as it
    window = create_window()
    window.show()
    files = [a for a in args if a.endswith(".json") and Path(a).exists()]
    from PySide6.QtCore import QTimer

    if folder:
        from gui.follow import follow_folder

        QTimer.singleShot(0, window, lambda: follow_folder(window, folder))
    elif files:
        window.open_file(files[0])
    else:
        QTimer.singleShot(0, window.offer_recovery)
    return _exec(app)


if __name__ == "__main__":
    sys.exit(main())
