"""A wizard page whose choice (a source, and a path for some) is checked in the background before Next.

Shared by the image and the text data pages: a path typed is checked after a
short pause (a debounce), a newer choice cancels the older check, a check
that fails says so instead of crashing the wizard, and Next pressed while a
check still runs never freezes the window: the page says it is still
looking and goes on by itself once the check passes (or refuses with the
reason).  A subclass says what to check and how to show the result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QLineEdit

from gui import tasks
from gui.wizards.pages import LoomPage

DEBOUNCE_MS = 350


class CheckedSourcePage(LoomPage):
    """Subclasses build ``path_edit`` and ``summary``, then call :meth:`init_checks`; they provide
    :meth:`source`, :meth:`needs_path`, :meth:`check_for` and :meth:`show_result`."""

    path_edit: QLineEdit
    summary: QLabel
    looking = "Looking at the files…"  # the summary while Next waits for a check
    unchecked = "The data could not be checked; choose it again."

    def init_checks(self) -> None:
        self.scan: Any = None
        self._scan_key: tuple[str, str] | None = None
        self._scanning: asyncio.Task | None = None
        self._next_when_checked = False  # Next was pressed while the check was still running
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self._start_check)
        self.path_edit.textChanged.connect(lambda _t: self.path_changed())

    # -- what a subclass provides ---------------------------------------------------------------------
    def source(self) -> str:
        raise NotImplementedError

    def needs_path(self, src: str) -> bool:
        raise NotImplementedError

    def check_for(self, src: str, path: str) -> Callable[[], Any] | None:
        """The (blocking) check to run off the GUI thread for this choice, or None (having said why in the summary)."""
        raise NotImplementedError

    def show_result(self, src: str, result: Any) -> None:
        raise NotImplementedError

    # -- the mechanics ---------------------------------------------------------------------------------
    def path_changed(self, immediate: bool = False) -> None:
        self.message.clear()
        if immediate:
            self._start_check()
        else:
            self._debounce.start()

    def chosen_path(self) -> str:
        return self.path_edit.text().strip() if self.needs_path(self.source()) else ""

    def _start_check(self) -> None:
        key = (self.source(), self.chosen_path())
        if key == self._scan_key:
            return
        if self._scanning is not None:
            self._scanning.cancel()  # an older check's result is no longer wanted
        self._scan_key, self.scan = key, None
        self._next_when_checked = False
        fn = self.check_for(*key)
        if fn is not None:
            self._scanning = tasks.launch(self._check(key[0], fn), owner=self, on_error=self._check_failed)

    async def _check(self, src: str, fn: Callable[[], Any]) -> None:
        self.show_result(src, await tasks.run_blocking(fn))
        if self._next_when_checked:
            self._next_when_checked = False
            if not self.message.text():
                QTimer.singleShot(0, self, self._go_on)  # outside this task: Next builds the following page

    def _check_failed(self, exc: BaseException) -> None:
        """A check must never crash the wizard: say so, and let the analyst choose again."""
        self.summary.setText(f"Could not check this choice: {exc}")
        if self._next_when_checked:
            self._next_when_checked = False
            self.refuse(self.unchecked)

    def _go_on(self) -> None:
        wizard = self.wizard()
        if wizard is not None and wizard.currentPage() is self:
            wizard.next()

    def still_checking(self) -> bool:
        """For validatePage: check the path typed just now; True (and Next deferred) while the check runs."""
        self._debounce.stop()
        self._start_check()
        if self.scan is None and self._scanning is not None and not self._scanning.done():
            self._next_when_checked = True
            self.summary.setText(f"{self.looking} the wizard goes on by itself when they check out.")
            self.refuse("")
            return True
        return False
