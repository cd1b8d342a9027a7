"""Background work in the GUI (gui.tasks): coroutines on the Qt loop, blocking calls in the shared executor.

What the rest of the GUI relies on: blocking work runs off the GUI thread and its
result comes back on it while Qt's loop runs (here: while qtbot waits); the window
keeps handling events meanwhile; a coroutine dies with the widget that owns it;
and an error is never lost.  Every wait is for an event, with a ceiling that only
catches hangs.
"""

from __future__ import annotations

import asyncio
import sys
import threading

import pytest
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

pytest.importorskip("pytestqt")

from gui import tasks  # noqa: E402
from gui.testing import HANG_MS, finish  # noqa: E402

HANG_S = HANG_MS / 1000


def test_the_test_application_runs_the_qasync_loop_of_gui_tasks(qapp):
    import qasync

    assert isinstance(tasks.loop(), qasync.QEventLoop)
    assert asyncio.get_event_loop() is tasks.loop()


def test_run_in_executor_futures_complete_while_qtbot_waits(qtbot):
    # Plain asyncio, no gui.tasks helper: the loop's default executor is the shared pool, not qasync's QThreads.
    future = asyncio.get_event_loop().run_in_executor(None, lambda: threading.current_thread().name)
    qtbot.waitUntil(future.done, timeout=HANG_MS)
    assert future.result().startswith("loom-bg")


def test_blocking_work_runs_on_a_worker_and_its_result_arrives_on_the_gui_thread_while_qtbot_waits(qtbot):
    gui_thread = threading.get_ident()
    seen: dict[str, int] = {}

    def blocking() -> int:
        seen["worker"] = threading.get_ident()
        return 42

    async def job() -> int:
        value = await tasks.run_blocking(blocking)
        seen["resumed"] = threading.get_ident()
        return value + 1

    owner = QObject()
    assert finish(qtbot, tasks.launch(job(), owner=owner)) == 43
    assert seen["worker"] != gui_thread and seen["resumed"] == gui_thread


def test_the_window_keeps_handling_events_while_blocking_work_waits(qtbot):
    # The blocking call can only finish after a Qt timer has fired on the GUI thread:
    # if waiting for it blocked the GUI thread, this would hang instead of pass.
    released = threading.Event()
    order: list[str] = []

    def wait_for_the_gui() -> str:
        assert released.wait(HANG_S), "the GUI thread never ran the timer"
        order.append("worker done")
        return "released"

    async def job() -> str:
        return await tasks.run_blocking(wait_for_the_gui)

    task = tasks.launch(job(), owner=QObject())
    QTimer.singleShot(0, lambda: (order.append("gui timer"), released.set()))
    assert finish(qtbot, task) == "released"
    assert order == ["gui timer", "worker done"]


def test_a_job_is_submitted_at_once_so_blocking_code_can_wait_for_it(qapp):
    # StepCatalog.wait() relies on this: the job runs although Qt's loop never turns here.
    done = threading.Event()
    tasks.run_blocking(done.set)
    assert done.wait(HANG_S)


def test_a_coroutine_is_cancelled_when_its_widget_is_destroyed(qtbot):
    started, gate, cancel = threading.Event(), threading.Event(), threading.Event()
    reached_the_end: list[bool] = []

    def slow_job() -> None:  # a timing or a scan that checks its cancel event
        started.set()
        while not cancel.is_set() and not gate.wait(0.01):
            pass

    async def job(widget: QWidget) -> None:
        await tasks.run_blocking(slow_job, cancel=cancel)
        reached_the_end.append(True)
        widget.setWindowTitle("too late")  # would touch a deleted widget

    widget = QWidget()
    task = tasks.launch(job(widget), owner=widget)
    qtbot.waitUntil(started.is_set, timeout=HANG_MS)
    assert task in tasks.live_tasks(widget)
    widget.deleteLater()
    qtbot.waitUntil(task.done, timeout=HANG_MS)
    assert task.cancelled() and not reached_the_end
    assert cancel.is_set(), "the blocking job was told to stop"
    gate.set()


def test_closing_a_parent_cancels_its_childrens_coroutines(qtbot):
    parent = QWidget()
    child = QWidget(parent)
    never = threading.Event()

    async def wait_for_ever() -> None:
        await tasks.run_blocking(never.wait, HANG_S)

    task = tasks.launch(wait_for_ever(), owner=child)
    other = tasks.launch(asyncio.sleep(0, result="mine"), owner=QObject())
    assert tasks.cancel_owned(parent) == 1
    qtbot.waitUntil(lambda: task.done() and other.done(), timeout=HANG_MS)
    assert task.cancelled() and other.result() == "mine"
    never.set()


def test_an_error_goes_to_the_error_callback_on_the_gui_thread(qtbot):
    caught: list[tuple[str, int]] = []

    def fails() -> None:
        raise ValueError("the folder vanished")

    async def job() -> None:
        await tasks.run_blocking(fails)

    task = tasks.launch(job(), owner=QObject(), on_error=lambda exc: caught.append((str(exc), threading.get_ident())))
    qtbot.waitUntil(lambda: bool(caught), timeout=HANG_MS)
    assert caught == [("the folder vanished", threading.get_ident())]
    assert isinstance(task.exception(), ValueError)


def test_an_error_without_a_callback_reaches_the_last_line_of_defence(qtbot, monkeypatch):
    reported: list[BaseException] = []
    monkeypatch.setattr(sys, "excepthook", lambda _t, exc, _tb: reported.append(exc))

    async def job() -> None:
        raise RuntimeError("a bug in a background task")

    tasks.launch(job(), owner=QObject())
    qtbot.waitUntil(lambda: bool(reported), timeout=HANG_MS)
    assert [str(e) for e in reported] == ["a bug in a background task"]


def test_an_error_callback_that_fails_is_reported_too(qtbot, monkeypatch):
    reported: list[BaseException] = []
    monkeypatch.setattr(sys, "excepthook", lambda _t, exc, _tb: reported.append(exc))

    async def job() -> None:
        raise ValueError("first")

    def broken_handler(_exc: BaseException) -> None:
        raise KeyError("the handler's own bug")

    tasks.launch(job(), owner=QObject(), on_error=broken_handler)
    qtbot.waitUntil(lambda: bool(reported), timeout=HANG_MS)
    assert isinstance(reported[0], KeyError)


class _Emitter(QObject):
    fired = Signal(str, str)


def test_a_coroutine_can_await_a_qt_signal(qtbot):
    emitter = _Emitter()
    fired = tasks.next_emission(emitter.fired)  # listening from now on, before anything can emit

    async def job() -> tuple:
        return await fired

    task = tasks.launch(job(), owner=emitter)
    QTimer.singleShot(0, lambda: emitter.fired.emit("succeeded", ""))
    QTimer.singleShot(0, lambda: emitter.fired.emit("a later emission", "is not this one's"))
    assert finish(qtbot, task) == ("succeeded", "")
