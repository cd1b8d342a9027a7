"""The step catalogue, loaded off the GUI thread.

Importing every step family may pull in heavy libraries (a family that imports
torch at module level costs seconds), so the window never waits for it: the
catalogue loads in the shared executor (:mod:`gui.tasks`) after the window is
shown and announces itself with ``ready`` on the GUI thread.  Code that truly
needs the declarations earlier (opening a file given on the command line)
calls :meth:`wait`, which blocks until that same job is done — it was
submitted when :meth:`start` was called, so there is always something to wait for.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from PySide6.QtCore import QObject, Signal

from gui import tasks

log = logging.getLogger(__name__)


class StepCatalog(QObject):
    """Every declared step, grouped for the palette; ``ready`` fires once, on the GUI thread."""

    ready = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._done = threading.Event()
        self._steps: list = []
        self._error = ""
        self._loading: asyncio.Future | None = None
        self._announced = False

    def start(self) -> None:
        """Start loading (once); ``ready`` follows on the GUI thread."""
        if self._loading is None:
            self._loading = tasks.run_blocking(self._load)
            tasks.launch(self._announce_when_loaded(), owner=self)

    async def _announce_when_loaded(self) -> None:
        await self._loading
        self._announce()

    def _load(self) -> None:
        """In the executor: import the step families (and with them, torch)."""
        try:
            from engine.steps.registry import all_steps

            self._steps = all_steps()
        except Exception as exc:  # a broken step family must not take the app down
            log.exception("loading the step catalogue failed")
            self._error = f"{type(exc).__name__}: {exc}"
        finally:
            self._done.set()

    def _announce(self) -> None:
        if not self._announced:
            self._announced = True
            self.ready.emit()

    @property
    def is_ready(self) -> bool:
        return self._done.is_set()

    @property
    def error(self) -> str:
        return self._error

    def wait(self, timeout: float | None = None) -> bool:
        """Block until loaded (starting the load if needed); then ``ready`` is emitted at once."""
        self.start()
        ok = self._done.wait(timeout)
        if ok:
            self._announce()
        return ok

    def steps(self) -> list:
        self.wait()
        return list(self._steps)

    def get(self, step_type: str):
        """The StepSpec of ``step_type``, or None."""
        self.wait()
        from engine.steps.registry import get_step

        return get_step(step_type)
