"""Classify text: texts -> model (Fast GRU / Transformer / Pretrained) -> budget -> review.

The models are the engine's measured presets (:mod:`engine.text_presets`).
The pretrained one fine-tunes a model already on this computer: the page
looks for them in the background (:func:`engine.models.text_hub.local_models`
reads folders only, never the network) and, when none is found, says which
folder to put one in instead of offering a choice that cannot run.
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtWidgets import QButtonGroup, QComboBox, QHBoxLayout, QLabel, QRadioButton, QWidget

from engine.text_presets import PRESETS as TEXT_PRESETS
from engine.workflow import Workflow
from gui import tasks
from gui.wizards.base import LoomWizard
from gui.wizards.pages import BudgetPage, LoomPage, ReviewPage
from gui.wizards.recipes import Budget
from gui.wizards.settings import WizardMemory
from gui.wizards.text_recipes import TextClassifyChoices, text_classify_workflow
from gui.wizards.textdata import TextDataPage

BUILTIN = ("Built-in interface strings in 15 languages",
           "13,500 short user-interface strings (menus, buttons, messages) translated by Qt's translators: "
           "which language is each one in? Ships with Loom: no download.")


def find_local_models() -> tuple[list[tuple[str, str]], list[str]]:
    """(shown name, folder) of the usable pretrained text encoders here, and the names of those without a tokenizer.

    Reads folders only (never the network, never torch). A model without
    ``tokenizer.json`` cannot tokenize its texts, so it is named, not offered.
    """
    from engine.models.text_hub import local_models

    found = local_models()
    return ([(f"{m.name} ({m.model_type})", str(m.folder)) for m in found if m.has_tokenizer],
            [m.name for m in found if not m.has_tokenizer])


def where_models_go(without_tokenizer: list[str] | None = None) -> str:
    from engine.models.text_hub import TOKENIZER, fetch_advice, hf_cache_dir, models_dir

    lacking = (f" ({', '.join(without_tokenizer)} {'has' if len(without_tokenizer) == 1 else 'have'} no {TOKENIZER}: "
               "save the model's tokenizer into its folder)" if without_tokenizer else "")
    return (f"No pretrained text model was found on this computer{lacking}. To offer one here, "
            f"{fetch_advice('')}. Loom looks in {models_dir()} and in the Hugging Face cache ({hf_cache_dir()}).")


class TextPresetPage(LoomPage):
    """Three models by name; the pretrained one only with a model found on this computer."""

    def __init__(self, choices: TextClassifyChoices) -> None:
        super().__init__("Model",
                         "Pick the kind of model. The Fast GRU is a good first choice; each trains within the "
                         "time limit of the next page.")
        self.choices = choices
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        self.model_box = QComboBox()
        self.model_box.setObjectName("pretrained_model")
        self.model_box.setEnabled(False)
        self.found_note = QLabel("Looking for pretrained models on this computer…")
        self.found_note.setObjectName("pretrained_note")
        self.found_note.setWordWrap(True)
        self.found_note.setContentsMargins(24, 0, 0, 0)
        for key, preset in TEXT_PRESETS.items():
            button = QRadioButton(preset.title)
            button.setObjectName(f"preset_{key}")
            self.group.addButton(button)
            self.buttons[key] = button
            self.body.addWidget(button)
            blurb = QLabel(preset.description)
            blurb.setWordWrap(True)
            blurb.setContentsMargins(24, 0, 0, 8 if not preset.needs_local_model() else 2)
            self.body.addWidget(blurb)
            if preset.needs_local_model():
                row = QHBoxLayout()
                row.setContentsMargins(24, 0, 0, 0)
                row.addWidget(QLabel("Model:"))
                row.addWidget(self.model_box, 1)
                self.body.addLayout(row)
                self.body.addWidget(self.found_note)
                button.setEnabled(False)  # until a model is found
        self.body.addStretch(1)
        self.pretrained = next(k for k, p in TEXT_PRESETS.items() if p.needs_local_model())
        start = choices.preset if choices.preset in TEXT_PRESETS and choices.preset != self.pretrained else "fast_gru"
        self.buttons[start].setChecked(True)
        self.models: list[tuple[str, str]] | None = None  # None while looking
        self._looking: asyncio.Task | None = tasks.launch(self._find_models(), owner=self,
                                                          on_error=self._search_failed)

    async def _find_models(self) -> None:
        models, without_tokenizer = await tasks.run_blocking(find_local_models)
        self._show_models(models, "" if models else where_models_go(without_tokenizer))

    def _search_failed(self, exc: BaseException) -> None:
        self._show_models([], f"Could not look for pretrained models: {exc}")

    def _show_models(self, models: list[tuple[str, str]], why: str = "") -> None:
        self.models = models
        self.model_box.clear()
        for shown, folder in models:
            self.model_box.addItem(shown, folder)
        button = self.buttons[self.pretrained]
        if models:
            button.setEnabled(True)
            button.setToolTip("")
            self.model_box.setEnabled(True)
            self.found_note.setText(f"{len(models)} pretrained model{'s' if len(models) != 1 else ''} found on "
                                    "this computer.")
            remembered = self.model_box.findData(self.choices.model_folder)
            if remembered >= 0:
                self.model_box.setCurrentIndex(remembered)
                if self.choices.preset == self.pretrained:
                    button.setChecked(True)
        else:
            text = why or where_models_go()
            button.setEnabled(False)
            button.setToolTip(text)
            self.model_box.setEnabled(False)
            self.found_note.setText(text)

    def preset(self) -> str:
        return next(k for k, b in self.buttons.items() if b.isChecked())

    def validatePage(self) -> bool:  # noqa: N802
        preset = self.preset()
        if preset == self.pretrained:
            folder = self.model_box.currentData()
            if not folder:
                return self.refuse("Choose a pretrained model, or pick the Fast GRU or the Transformer.")
            self.choices.model_folder = str(folder)
        self.choices.preset = preset
        return self.refuse("")


class TextClassifyWizard(LoomWizard):
    kind = "classify_text"
    choices_type = TextClassifyChoices

    def __init__(self, parent: QWidget | None = None, memory: WizardMemory | None = None, choices: Any = None) -> None:
        super().__init__(parent, memory, choices)
        self.setWindowTitle("Classify text")
        c: TextClassifyChoices = self.choices
        self.data_page = TextDataPage(c.data, labelled=True, builtin=BUILTIN,
                                      subtitle="What should the model learn to tell apart? Try Loom on the "
                                               "built-in strings, or give your own texts with their classes.")
        self.preset_page = TextPresetPage(c)
        self.budget_page = BudgetPage(c.budget, train_type="train", early_stopping=True, estimate=self._estimate)
        self.budget_page.setSubTitle("A time limit is the simplest: training stops when it is up and keeps the "
                                     "best model so far. An epoch is one pass over all your training texts.")
        self.review_page = ReviewPage()
        for page in (self.data_page, self.preset_page, self.budget_page, self.review_page):
            self.addPage(page)

    def _estimate(self, budget: Budget) -> str:
        preset = TEXT_PRESETS.get(self.choices.preset)
        if preset is None:
            return ""
        ceiling = int(preset.train.get("epochs", 0))
        if budget.kind == "minutes":
            return (f"{preset.title}: at most {budget.minutes:g} minutes, and at most {ceiling} epochs; early "
                    "stopping may finish sooner. The presets were measured on a CPU with 3 minutes each.")
        return f"{preset.title}: {budget.epochs} epoch{'s' if budget.epochs != 1 else ''}."

    def build_workflow(self) -> Workflow:
        return text_classify_workflow(self.choices)
