"""Cyclic garbage is collected on the GUI thread only, never on the engine's worker thread.

A collection that runs on a worker thread may destroy Qt wrappers there while
the GUI thread waits for the GIL inside a Qt call: the window froze for good
(the suite caught the runner stuck in json.dumps and the GUI thread in
pyqtgraph).  The app therefore collects from a timer on its own thread.
"""

from __future__ import annotations

import gc
import threading

import pytest

pytest.importorskip("pytestqt")

from gui.testing import HANG_MS  # noqa: E402

CYCLES = 20_000  # far past the first generation's threshold (700): automatic collection would have run on the worker


def test_the_app_leaves_automatic_collection_off(qapp) -> None:
    from gui import gc_guard

    assert not gc.isenabled()
    assert gc_guard.install(qapp) is gc_guard.install(qapp)  # one collector per app


def test_garbage_made_on_a_worker_thread_is_collected_on_the_gui_thread(qapp, qtbot) -> None:
    freed_on_gui_thread: list[bool] = []

    class Cycle:
        def __init__(self) -> None:
            self.me = self  # only the cycle collector can free it

        def __del__(self) -> None:
            freed_on_gui_thread.append(threading.current_thread() is threading.main_thread())

    def make_garbage() -> None:
        for _ in range(CYCLES):
            Cycle()

    worker = threading.Thread(target=make_garbage)
    worker.start()
    worker.join()
    assert freed_on_gui_thread.count(False) == 0  # nothing was collected on the worker
    qtbot.waitUntil(lambda: len(freed_on_gui_thread) == CYCLES, timeout=HANG_MS)  # the timer's turn
    assert all(freed_on_gui_thread)
