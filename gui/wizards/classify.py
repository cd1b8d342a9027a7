"""Classify images: data -> model preset (Fast / Balanced / Accurate, timed here) -> budget -> review."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QButtonGroup, QGridLayout, QLabel, QRadioButton, QWidget

from engine.workflow import Workflow
from gui import tasks
from gui.wizards.base import LoomWizard
from gui.wizards.datapage import DataPage
from gui.wizards.estimate import Estimate, human_duration, measure
from gui.wizards.pages import BudgetPage, LoomPage, ReviewPage
from gui.wizards.recipes import PRESETS, Budget, ClassifyChoices, classify_workflow, preset_for
from gui.wizards.settings import WizardMemory

TRAIN_SHARE = 0.8  # the built-in and folder data keep ~80% for training


class PresetPage(LoomPage):
    """Three model sizes by name, each with the time it would take here, measured on this device."""

    def __init__(self, choices: ClassifyChoices, data_page: DataPage) -> None:
        super().__init__("Model",
                         "Pick how much effort to spend. Each estimate comes from timing a few training steps "
                         "of that model on this computer.")
        self.choices = choices
        self.data_page = data_page
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        self.blurbs: dict[str, QLabel] = {}
        self.times: dict[str, QLabel] = {}
        self.estimates: dict[str, Estimate] = {}
        grid = QGridLayout()
        grid.setColumnStretch(0, 1)
        for row, key in enumerate(PRESETS):
            button = QRadioButton()
            button.setObjectName(f"preset_{key}")
            self.group.addButton(button)
            self.buttons[key] = button
            blurb = QLabel()
            blurb.setWordWrap(True)
            when = QLabel("timing…")
            when.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            when.setMinimumWidth(200)
            self.blurbs[key], self.times[key] = blurb, when
            blurb.setContentsMargins(24, 0, 0, 10)
            grid.addWidget(button, row * 2, 0)
            grid.addWidget(when, row * 2, 1)
            grid.addWidget(blurb, row * 2 + 1, 0, 1, 2)
        self.body.addLayout(grid)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.body.addWidget(self.note)
        self.body.addStretch(1)
        self.buttons[choices.preset if choices.preset in PRESETS else "balanced"].setChecked(True)
        self._timing: asyncio.Task | None = None

    def preset(self) -> str:
        return next(k for k, b in self.buttons.items() if b.isChecked())

    def initializePage(self) -> None:  # noqa: N802
        data = self.choices.data
        facts = self.data_page.data_facts()
        jobs = []
        for key in PRESETS:
            p = preset_for(data, key)
            self.buttons[key].setText(f"{p.title} — {_model_words(p.model_type, p.model_params)}")
            self.blurbs[key].setText(p.blurb)
            self.times[key].setText("timing…")
            shape = (facts.get("features", 8),) if not data.is_image else (
                facts["channels"], p.image_size or 32, p.image_size or 32)
            jobs.append((key, (p.model_type, p.model_params, shape, int(facts.get("classes", 2)),
                               min(32, int(p.train_params.get("batch_size", 64))), 2)))
        if self._timing is not None:
            self._timing.cancel()  # timings for the data chosen before are no longer wanted
        self._timing = tasks.launch(self._time_presets(jobs), owner=self)
        self.note.setText(f"Times are for {self._train_images()} training examples and "
                          f"{self._budget_words()}; change the budget on the next page.")

    def _train_images(self) -> int:
        facts = self.data_page.data_facts()
        return int((facts.get("images") or facts.get("rows") or 0) * TRAIN_SHARE)

    def _budget_words(self) -> str:
        b = self.choices.budget
        return f"{b.epochs} epochs" if b.kind == "epochs" else f"at most {b.minutes:g} minutes"

    async def _time_presets(self, jobs: list[tuple[str, tuple]]) -> None:
        """Time each preset in turn (side by side they would slow each other down)."""
        cancel = threading.Event()  # set if this task is cancelled: the timing under way stops at its next step
        for preset, args in jobs:
            try:
                # measure() checks the event between steps; run_blocking sets it if this task is cancelled
                est: Estimate = await tasks.run_blocking(measure, *args, cancel, cancel=cancel)
            except Exception as exc:  # an estimate is a courtesy; never block the wizard on it
                self.times[preset].setText("(no estimate)")
                self.times[preset].setToolTip(f"Could not time this model here: {exc}")
                continue
            self.estimates[preset] = est
            self.times[preset].setText(self.estimate_text(preset, self.choices.budget))

    def estimate_text(self, preset: str, budget: Budget) -> str:
        est = self.estimates.get(preset)
        if est is None:
            return "timing…"
        cap = budget.minutes if budget.kind == "minutes" else None
        epochs = budget.epochs if budget.kind == "epochs" else 10_000
        seconds = est.seconds(self._train_images(), epochs, cap)
        device = "GPU" if est.device.startswith("cuda") else est.device.upper()
        return f"{human_duration(seconds)} on this {device}"

    def validatePage(self) -> bool:  # noqa: N802
        self.choices.preset = self.preset()
        return self.refuse("")


class ClassifyWizard(LoomWizard):
    kind = "classify"
    choices_type = ClassifyChoices

    def __init__(self, parent: QWidget | None = None, memory: WizardMemory | None = None, choices: Any = None) -> None:
        super().__init__(parent, memory, choices)
        self.setWindowTitle("Classify images")
        c: ClassifyChoices = self.choices
        self.data_page = DataPage(c.data, need_classes=True, allow_csv=True,
                                  subtitle="What should the model learn to tell apart? Pick built-in data to try "
                                           "Loom, or your own folder with one subfolder per class.")
        self.preset_page = PresetPage(c, self.data_page)
        self.budget_page = BudgetPage(c.budget, train_type="train", early_stopping=True, estimate=self._estimate)
        self.review_page = ReviewPage()
        for page in (self.data_page, self.preset_page, self.budget_page, self.review_page):
            self.addPage(page)

    def _estimate(self, budget: Budget) -> str:
        text = self.preset_page.estimate_text(self.preset_page.preset(), budget)
        if text == "timing…":
            return ""
        return (f"Estimated time with the {self.preset_page.preset()} model: {text} "
                "(measured from a few training steps here; early stopping may finish sooner).")

    def build_workflow(self) -> Workflow:
        return classify_workflow(self.choices)


def _model_words(model_type: str, params: dict[str, Any]) -> str:
    if model_type == "cnn":
        return f"small convolutional network ({params.get('width', 32)} filters)"
    if model_type == "resnet18":
        return "ResNet-18"
    if model_type == "mlp":
        return f"dense network ({params.get('hidden', '')})"
    return model_type
