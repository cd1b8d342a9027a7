"""The last line of defence (gui.crash): an unexpected error becomes one non-modal dialog —
a one-line summary, Open log (a crash log with the traceback) and Close — and Loom keeps running.

In these tests the defence's hook stands in for pytest-qt's exception capture
(monkeypatched, so it is restored after each test); the dialog is never modal,
so nothing here can block.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

pytest.importorskip("pytestqt")

from gui import crash, tasks  # noqa: E402
from gui.testing import HANG_MS, make_window  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def defence(monkeypatch, qapp):
    guard = crash.LastLineOfDefence()
    monkeypatch.setattr(sys, "excepthook", guard.excepthook)
    monkeypatch.setattr(threading, "excepthook", guard.thread_excepthook)
    yield guard
    dialog = crash.current_dialog()
    if dialog is not None:
        dialog.close()


@pytest.fixture
def opened(monkeypatch) -> list[str]:
    """What Open log asked the desktop to open (nothing really opens)."""
    from PySide6.QtGui import QDesktopServices

    urls: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: urls.append(url.toLocalFile()) or True)
    return urls


def crash_logs() -> list[Path]:
    return sorted(crash.crash_log_dir().glob("crash-*.txt")) if crash.crash_log_dir().is_dir() else []


def test_a_bug_in_a_slot_shows_one_line_and_a_crash_log_and_the_window_keeps_working(defence, opened, qtbot):
    window = make_window(qtbot)

    def broken_slot() -> None:
        raise ValueError("the palette exploded\nwhile sorting steps")

    QTimer.singleShot(0, broken_slot)
    qtbot.waitUntil(lambda: crash.current_dialog() is not None, timeout=HANG_MS)
    dialog = crash.current_dialog()
    assert dialog.summary.text() == "ValueError: the palette exploded"
    shown = " ".join(label.text() for label in (dialog.heading, dialog.summary, dialog.where))
    assert "Traceback" not in shown and "broken_slot" not in shown  # no traceback in the body...
    assert not dialog.details.isVisible() and "broken_slot" in dialog.details.toPlainText()  # ...only behind Details
    dialog.details_toggle.click()
    assert dialog.details.isVisible()
    assert not dialog.isModal() and QApplication.activeModalWidget() is None  # never blocks

    [log] = crash_logs()
    assert log.is_relative_to(Path(os.environ["LOOM_HOME"]))
    assert "Traceback" in log.read_text() and "the palette exploded" in log.read_text()
    dialog.open_log_button.click()
    assert opened == [str(log)]

    # Loom carries on: the window still edits and validates workflows.
    from engine.workflow import Workflow
    from gui.paths import examples_dir

    window.load_workflow(Workflow.load(examples_dir() / "classify_digits.json"))
    assert window.isVisible() and window.validate_now() == {}
    dialog.close_button.click()
    assert crash.current_dialog() is None


def fail_with(text: str) -> None:
    raise RuntimeError(text)


def test_errors_while_the_dialog_is_open_update_it_instead_of_stacking_windows(defence, qtbot):
    for text in ("first", "second"):
        QTimer.singleShot(0, lambda t=text: fail_with(t))
    qtbot.waitUntil(lambda: crash.current_dialog() is not None and crash.current_dialog().count == 2,
                    timeout=HANG_MS)
    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, crash.ErrorDialog) and w.isVisible()]
    assert dialogs == [crash.current_dialog()]
    assert dialogs[0].summary.text() == "RuntimeError: second"
    assert "2 problems so far" in dialogs[0].where.text()
    assert len(crash_logs()) == 2  # every error keeps its own traceback


def test_a_failing_background_task_without_a_handler_ends_in_the_dialog(defence, qtbot):
    async def scan_that_fails() -> None:
        await tasks.run_blocking(lambda: {}["missing"])

    tasks.launch(scan_that_fails(), owner=QObject(QApplication.instance()))
    qtbot.waitUntil(lambda: crash.current_dialog() is not None, timeout=HANG_MS)
    assert crash.current_dialog().summary.text() == "KeyError: 'missing'"


def test_an_error_on_another_thread_is_shown_on_the_gui_thread(defence, qtbot):
    def worker() -> None:
        raise OSError("disk on fire")

    thread = threading.Thread(target=worker, name="not-the-gui")
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: crash.current_dialog() is not None, timeout=HANG_MS)
    assert crash.current_dialog().summary.text() == "OSError: disk on fire"
    assert "thread: not-the-gui" in crash_logs()[0].read_text()


def test_the_desktop_app_installs_the_defence_and_survives_a_bug(tmp_path):
    """The real entry point (gui.app.main), in its own process, without pytest's hooks."""
    child = (
        "import json, sys\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from gui import app as loom_app, crash\n"
        "make = loom_app.create_window\n"
        "def create_window(*a, **k):\n"
        "    window = make(probe_device=False)\n"
        "    def broken(): raise RuntimeError('a bug in a slot')\n"
        "    def check():\n"
        "        dialog = crash.current_dialog()\n"
        "        if dialog is None: return\n"
        "        poll.stop()\n"
        "        print(json.dumps({'summary': dialog.summary.text(), 'window': window.isVisible(),\n"
        "                          'modal': dialog.isModal(), 'log': str(dialog.report.log_path)}), flush=True)\n"
        "        QApplication.instance().quit()\n"
        "    QTimer.singleShot(0, broken)\n"
        "    poll = QTimer(window, interval=20)\n"
        "    poll.timeout.connect(check)\n"
        "    poll.start()\n"
        "    return window\n"
        "loom_app.create_window = create_window\n"
        "sys.exit(loom_app.main([]))\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT), LOOM_HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=HANG_MS / 1000)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["summary"] == "RuntimeError: a bug in a slot"
    assert result["window"] and not result["modal"]
    assert Path(result["log"]).parent == tmp_path / "crashes"
    assert "a bug in a slot" in Path(result["log"]).read_text()
