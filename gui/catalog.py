"""The step catalogue, loaded off the GUI thread.

Importing every step family may pull in heavy libraries (a family that imports
torch at module level costs seconds), so the window never waits for it: the
catalogue loads on a daemon thread after the window is shown and announces
itself with ``ready``.  Code that truly needs the declarations earlier (opening
a file given on the command line) calls :meth:`wait`.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)


class StepCatalog(QObject):
    """Every declared step, grouped for the palette; ``ready`` fires once, on the GUI thread."""

    ready = Signal()
    _loaded = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._done = threading.Event()
        self._steps: list = []
        self._error = ""
        self._thread: threading.Thread | None = None
        self._announced = False
        self._loaded.connect(self._announce)  # queued: emitted from the loader thread

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._load, name="loom-step-catalog", daemon=True)
            self._thread.start()

    def _load(self) -> None:
        try:
            from engine.steps.registry import all_steps

            self._steps = all_steps()
        except Exception as exc:  # a broken step family must not take the app down
            log.exception("loading the step catalogue failed")
            self._error = f"{type(exc).__name__}: {exc}"
        self._done.set()
        self._loaded.emit()

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
