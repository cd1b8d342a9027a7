"""Shared test setup: every test gets its own cache and run index, and Qt runs offscreen."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "resources" / "examples"
pytest_plugins = ["tests.trained_runs"]  # finished runs several modules share, trained once per session


def screenshots_dir() -> Path:
    """Where GUI tests save their screenshots: $LOOM_SCREENSHOTS, else a temporary folder.

    Refresh the README's pictures with ``LOOM_SCREENSHOTS=resources/screenshots pytest``;
    a plain test run leaves the working tree untouched.
    """
    folder = Path(os.environ.get("LOOM_SCREENSHOTS") or Path(tempfile.gettempdir()) / "loom-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(autouse=True)
def isolated_loom_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the node cache and run index at fresh folders, never the user's."""
    base = tmp_path_factory.mktemp("loom-home")
    monkeypatch.setenv("LOOM_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("LOOM_HOME", str(base / "home"))
    remember_one_thread(base / "home")
    return base


def remember_one_thread(home: Path) -> None:
    """A fresh LOOM_HOME as on a machine that has already measured its threads (1: tests are tiny).

    Without it every ``loom`` subprocess of the suite would run the thread probe (engine.threads) first.
    """
    from engine import threads

    threads.remember(home, threads.machine_key(), 1, {})


@pytest.fixture(scope="session")
def qapp(qapp_args: list[str]):
    """pytest-qt's QApplication (this overrides its fixture), made the way the app makes it.

    ``gui.app.create_app`` installs qasync's loop (``gui.tasks``), so the
    coroutines the GUI launches make progress whenever Qt's loop runs, as in
    ``qtbot.waitUntil`` (tests/test_gui_tasks.py proves it).  The last line of
    defence is not installed: pytest-qt's exception capture owns
    ``sys.excepthook`` here, so an unexpected error fails its test instead of
    opening a dialog.
    """
    from gui.app import create_app

    return create_app(qapp_args)


_exit_status: dict[str, int] = {}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _exit_status["code"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave without interpreter teardown once pytest has reported.

    PySide6 can crash while Python destroys Qt objects at exit (after every
    test has passed and the summary is printed), turning a green run into a
    segfault exit code.  Results are final here, so exit with pytest's own status.
    """
    if "code" in _exit_status and "PySide6" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status["code"])


@pytest.fixture
def window(qtbot):
    """A shown main window (see gui.testing.make_window); a run still going at the end is stopped."""
    from gui.testing import make_window, stop_run

    window = make_window(qtbot)
    yield window
    if window.runs.active:
        stop_run(window, qtbot)


@pytest.fixture
def wizard_window(qtbot):
    """The real main window with the wizards installed; the test's edits are discarded at the end."""
    from PySide6.QtWidgets import QMessageBox

    from gui.main_window import MainWindow
    from gui.testing import stop_run
    from gui.wizards import install_wizards

    win = MainWindow(probe_device=False)
    win.ask = lambda *_a, **_k: QMessageBox.Discard  # closing at teardown must not wait on a prompt
    install_wizards(win)
    qtbot.addWidget(win)
    win.show()
    yield win
    if win.runs.active:
        stop_run(win, qtbot)
    win.doc.undo_stack.setClean()  # no unsaved-changes prompt while the window dies
    if win.wizards.wizard is not None:
        win.wizards.wizard.close()
