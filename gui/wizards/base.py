"""The common frame of the wizards: choices in, an ordinary workflow out.

A wizard never trains anything: on Finish it saves the choices (so the next
time starts where this one ended) and emits :attr:`LoomWizard.workflow_ready`
with the workflow and whether to start it; :mod:`gui.wizards.install` hands
that to the main window, which shows it on the canvas and runs it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import QWidget, QWizard

from engine.workflow import Workflow
from gui import tasks
from gui.wizards.settings import WizardMemory

MIN_SIZE = QSize(760, 560)  # fits a 1024x700 screen with its title bar and a task bar


class LoomWizard(QWizard):
    workflow_ready = Signal(object, bool)  # Workflow, start the run now
    kind = ""  # the key its choices are remembered under
    choices_type: type = object

    def __init__(self, parent: QWidget | None = None, memory: WizardMemory | None = None, choices: Any = None) -> None:
        super().__init__(parent)
        self.memory = memory or WizardMemory()
        self.choices = choices if choices is not None else self.memory.load(self.kind, self.choices_type)
        self.setWizardStyle(QWizard.ModernStyle)
        self.setOption(QWizard.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.HaveHelpButton, False)
        self.setButtonText(QWizard.FinishButton, "Build and run")
        self.setMinimumSize(MIN_SIZE)
        self.workflow: Workflow | None = None
        screen = self.screen()
        if screen is not None:
            self.fit_screen(screen.availableGeometry().size())

    def fit_screen(self, available: QSize) -> None:
        """Open at a size that uses a large screen (bigger previews, no wrapped lines) and fits a small one."""
        width = max(MIN_SIZE.width(), min(int(available.width() * 0.6), 1200))
        height = max(MIN_SIZE.height(), min(int(available.height() * 0.75), 860))
        self.resize(min(width, max(available.width(), MIN_SIZE.width())),
                    min(height, max(available.height() - 40, MIN_SIZE.height())))

    def build_workflow(self) -> Workflow:
        raise NotImplementedError

    def done(self, result: int) -> None:
        """Finished or closed: the pages' scans and timings are no longer wanted (the pages live on)."""
        tasks.cancel_owned(self)
        super().done(result)

    def accept(self) -> None:
        from gui.wizards.pages import ReviewPage

        review = next((self.page(i) for i in self.pageIds() if isinstance(self.page(i), ReviewPage)), None)
        workflow = review.workflow if review is not None and review.workflow is not None else self.build_workflow()
        start = review.start.isChecked() if review is not None else True
        self.workflow = workflow
        self.memory.save(self.kind, self.choices)
        super().accept()
        self.workflow_ready.emit(workflow, start)
