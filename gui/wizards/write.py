"""Write like my text: texts -> model size (and the prompt) -> budget -> review.

With the defaults (the built-in Python docs, the medium model, 3 minutes)
the analyst reaches live text samples with Next, Next, Next, Build and run;
the dashboard opens on them (see :mod:`gui.wizards.install`).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QButtonGroup, QFormLayout, QLabel, QLineEdit, QRadioButton, QWidget

from engine.workflow import Workflow
from gui.wizards.base import LoomWizard
from gui.wizards.pages import BudgetPage, LoomPage, ReviewPage, help_label
from gui.wizards.recipes import Budget
from gui.wizards.settings import WizardMemory
from gui.wizards.text_recipes import WRITER_SIZES, WriteChoices, write_prompt, write_workflow
from gui.wizards.textdata import TextDataPage

BUILTIN = ("Built-in Python documentation",
           "The Python documentation topics that ship with Python: about 370,000 characters of English prose "
           "and code. No download.")


class SizePage(LoomPage):
    """Small, medium or large, in words on speed; and the beginning the finished model continues."""

    def __init__(self, choices: WriteChoices, data_page: TextDataPage) -> None:
        super().__init__("Model size",
                         "A bigger model writes better text but learns more slowly. All three read one "
                         "character at a time, so they learn spelling from the first minute.")
        self.choices, self.data_page = choices, data_page
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        for key, size in WRITER_SIZES.items():
            button = QRadioButton(size.title)
            button.setObjectName(f"size_{key}")
            self.group.addButton(button)
            self.buttons[key] = button
            self.body.addWidget(button)
            blurb = QLabel(size.blurb)
            blurb.setWordWrap(True)
            blurb.setContentsMargins(24, 0, 0, 8)
            self.body.addWidget(blurb)
        self.buttons[choices.size if choices.size in WRITER_SIZES else "medium"].setChecked(True)
        self.prompt = QLineEdit()
        self.prompt.setObjectName("prompt")
        form = QFormLayout()
        form.addRow("When it has learned, continue:", self.prompt)
        self.body.addSpacing(8)
        self.body.addLayout(form)
        self.body.addWidget(help_label("The finished model writes three texts that begin like this (live samples "
                                       "while it learns start the same way)."))
        self.body.addStretch(1)
        self._data_key: tuple[str, str] | None = None
        # the beginning chosen last time, kept while the data is the same as last time
        self._remembered = (choices.data.source, choices.data.path, choices.prompt)

    def initializePage(self) -> None:  # noqa: N802
        """New data: suggest a beginning taken from it (the first words of the first file)."""
        key = (self.data_page.source(), self.data_page.path_edit.text().strip())
        if key == self._data_key:
            return  # Back and Next again: the analyst's edits stay
        source, path, prompt = self._remembered
        first = self._data_key is None and key == (source, path if source != "builtin" else "") and prompt
        self.choices.prompt = prompt if first else self.data_page.prompt()
        self.prompt.setText(write_prompt(self.choices))
        self._data_key = key

    def size(self) -> str:
        return next(k for k, b in self.buttons.items() if b.isChecked())

    def validatePage(self) -> bool:  # noqa: N802
        text = self.prompt.text().strip()
        if not text:
            return self.refuse("Give a beginning for the model to continue (a word or two from your texts).")
        self.choices.size = self.size()
        self.choices.prompt = text
        return self.refuse("")


class WriteWizard(LoomWizard):
    kind = "write"
    choices_type = WriteChoices

    def __init__(self, parent: QWidget | None = None, memory: WizardMemory | None = None, choices: Any = None) -> None:
        super().__init__(parent, memory, choices)
        self.setWindowTitle("Write like my text")
        c: WriteChoices = self.choices
        self.data_page = TextDataPage(c.data, labelled=False, builtin=BUILTIN,
                                      subtitle="What should the model learn to write like? Try the built-in "
                                               "Python docs, or give a folder of your own .txt files (the "
                                               "more text, the better: hundreds of KB write best).")
        self.size_page = SizePage(c, self.data_page)
        self.budget_page = BudgetPage(c.budget, train_type="train_lm", early_stopping=False,
                                      estimate=self._estimate)
        self.budget_page.setSubTitle("A time limit is the simplest: training stops when it is up and the model "
                                     "keeps what it learned. An epoch is one pass over all your text.")
        self.review_page = ReviewPage()
        for page in (self.data_page, self.size_page, self.budget_page, self.review_page):
            self.addPage(page)

    def _estimate(self, budget: Budget) -> str:
        return ("Text samples appear on the dashboard from the first step (gibberish at first) and every 100 "
                "steps after; they read better as training goes on. You can stop at any time and keep what "
                "has been learned.")

    def build_workflow(self) -> Workflow:
        return write_workflow(self.choices)
