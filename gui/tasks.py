"""Background work in the GUI, one way: coroutines on the Qt event loop, blocking calls in a shared executor.

The window must never wait for torch, the disk or a measurement, and results
must come back to the GUI thread, in order, without a thread ever touching a
widget.  qasync makes asyncio's event loop *be* Qt's: a coroutine launched
here runs its steps on the GUI thread between Qt events (whoever spins Qt's
loop, ``app.exec()`` or pytest-qt's ``qtbot.waitUntil``), and awaits a
blocking callable that runs in one shared thread pool.  So GUI code reads top
to bottom::

    async def _scan(self, path):
        result = await tasks.run_blocking(scan_folder, path)   # a worker thread
        self.summary.setText(result.summary())                 # back on the GUI thread

    tasks.launch(self._scan(path), owner=self, on_error=self._scan_failed)

Rules that keep it safe:

* :func:`launch` ties a coroutine to a QObject: it is cancelled when that
  object is destroyed (or :func:`cancel_owned` is called on it or a parent, as
  a wizard does when it closes), so a result never lands on a dead widget.
* An exception is never lost: it goes to ``on_error`` when given, else to
  ``sys.excepthook`` — the last line of defence (:mod:`gui.crash`) in the app,
  pytest-qt's exception capture in tests.
* :func:`run_blocking` submits at once (not when the coroutine first runs), so
  code that must block anyway (``StepCatalog.wait``) can rely on the job
  having started.  A job that checks a ``threading.Event`` gets it set when
  its awaiting task is cancelled.
* A coroutine never opens a modal dialog or spins the event loop itself (a
  nested loop could step another task inside this one, which asyncio
  forbids); it hands such work back to Qt with ``QTimer.singleShot(0, ...)``.

The engine's worker thread and the event bridge are not background work of
the GUI: they are the engine's (see :mod:`gui.run_control`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import contextlib
import functools
import logging
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from PySide6.QtCore import QObject

log = logging.getLogger(__name__)
T = TypeVar("T")
WORKERS = 4  # the catalogue import, a device probe, a timing and a folder scan can all be under way at once

_executor: cf.ThreadPoolExecutor | None = None
_loop: asyncio.AbstractEventLoop | None = None
_live: dict[asyncio.Task, QObject] = {}  # launched, not yet finished -> owner


def executor() -> cf.ThreadPoolExecutor:
    """The shared pool for blocking calls.

    Python's own pool (not qasync's ``QThreadExecutor``): its threads are
    joined at interpreter exit, whereas a QThread still running at exit
    aborts the process.  Long jobs therefore take a cancel event.
    """
    global _executor
    if _executor is None:
        _executor = cf.ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="loom-bg")
    return _executor


def install_loop(app: Any = None) -> asyncio.AbstractEventLoop:
    """Make qasync's loop the GUI thread's running asyncio loop for ``app`` (once; later calls return it).

    ``already_running`` because Qt's loop is what runs: ``app.exec()`` in the
    app, ``qtbot`` in tests.  Called by :func:`gui.app.create_app` and the
    tests' QApplication fixture; :func:`loop` calls it on first use too.
    """
    global _loop
    if _loop is not None and not _loop.is_closed():
        return _loop
    import qasync
    from PySide6.QtWidgets import QApplication

    app = app or QApplication.instance()
    if app is None:
        raise RuntimeError("gui.tasks needs a QApplication: create it first (gui.app.create_app)")
    new_loop = qasync.QEventLoop(app, already_running=True)
    new_loop.set_default_executor(executor())  # never qasync's QThread pool, even for run_in_executor(None, ...)
    asyncio.set_event_loop(new_loop)
    _loop = new_loop
    return new_loop


def loop() -> asyncio.AbstractEventLoop:
    """The GUI's event loop."""
    return install_loop()


def run_blocking(fn: Callable[..., T], *args: Any, cancel: threading.Event | None = None) -> asyncio.Future[T]:
    """Start ``fn(*args)`` in the shared executor now; await the returned future for its result.

    The result (or exception) is delivered on the GUI thread.  When the future
    is cancelled (its awaiting task was), ``cancel`` is set so a job that
    checks it stops early instead of finishing work nobody wants.
    """
    future = loop().run_in_executor(executor(), functools.partial(fn, *args))
    if cancel is not None:
        future.add_done_callback(lambda f: cancel.set() if f.cancelled() else None)
    return future


def launch(coro: Coroutine[Any, Any, T], *, owner: QObject,
           on_error: Callable[[BaseException], None] | None = None) -> asyncio.Task[T]:
    """Run ``coro`` on the GUI loop, for as long as ``owner`` lives.

    Safe to call from any Qt code on the GUI thread (a slot, a constructor,
    ``initializePage``).  Cancelled when ``owner`` is destroyed or
    :func:`cancel_owned` covers it.  An exception goes to ``on_error`` (on the
    GUI thread) or, without one or when it fails itself, to :func:`report`.
    """
    task = loop().create_task(coro)
    _live[task] = owner

    def owner_gone(*_args: Any) -> None:
        task.cancel()

    owner.destroyed.connect(owner_gone)

    def finished(done: asyncio.Task) -> None:
        _live.pop(done, None)
        with contextlib.suppress(RuntimeError, TypeError):  # the owner (and its signal) may be gone already
            owner.destroyed.disconnect(owner_gone)
        if done.cancelled():
            return
        exc = done.exception()
        if exc is None:
            return
        if on_error is not None:
            try:
                on_error(exc)
                return
            except Exception as handler_failed:  # the error handler has a bug: still never lose it
                exc = handler_failed
        report(exc)

    task.add_done_callback(finished)
    return task


def report(exc: BaseException) -> None:
    """Hand an unexpected exception to the last line of defence (whatever ``sys.excepthook`` is now)."""
    sys.excepthook(type(exc), exc, exc.__traceback__)


def cancel_owned(root: QObject) -> int:
    """Cancel every launched coroutine owned by ``root`` or one of its children; returns how many.

    For owners that go away without being destroyed: a wizard that closes
    keeps its pages alive, but their timings and scans are no longer wanted.
    """
    cancelled = 0
    for task, owner in list(_live.items()):
        if _within(owner, root) and task.cancel():
            cancelled += 1
    return cancelled


def _within(obj: QObject | None, root: QObject) -> bool:
    try:
        while obj is not None:
            if obj is root:
                return True
            obj = obj.parent()
    except RuntimeError:  # a deleted C++ object on the way up
        return False
    return False


def live_tasks(owner: QObject | None = None) -> list[asyncio.Task]:
    """Launched coroutines still under way (of ``owner`` and its children, when given)."""
    return [t for t, o in _live.items() if owner is None or _within(o, owner)]


def next_emission(signal: Any) -> asyncio.Future[tuple]:
    """A future for the arguments of ``signal``'s next emission (await a run's end, a dialog's answer).

    It listens from the moment it is made: make it *before* whatever may cause
    the emission (inside a coroutine that has not started yet, it could miss it).
    """
    future = loop().create_future()

    def fire(*args: Any) -> None:
        with contextlib.suppress(RuntimeError, TypeError):
            signal.disconnect(fire)
        if not future.done():
            future.set_result(args)

    signal.connect(fire)
    return future


def shutdown() -> None:
    """At quit: cancel what is under way and let the pool's threads end (jobs not yet started are dropped)."""
    global _executor
    for task in list(_live):
        task.cancel()
    if _executor is not None:
        _executor.shutdown(wait=False, cancel_futures=True)
        _executor = None
