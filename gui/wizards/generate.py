"""Generate images: data -> resolution and channels -> model -> budget -> review.

With the defaults (built-in digits, 16 px grayscale, a class-conditional DCGAN, 5 minutes) the
analyst reaches a live sample grid with Next, Next, Next, Next, Build and run.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QButtonGroup, QComboBox, QFormLayout, QHBoxLayout, QLabel, QRadioButton, QWidget

from engine.workflow import Workflow
from gui.wizards.base import LoomWizard
from gui.wizards.datapage import DataPage
from gui.wizards.pages import BudgetPage, LoomPage, ReviewPage, help_label
from gui.wizards.recipes import GAN_MODELS, RESOLUTIONS, Budget, GenerateChoices, generate_workflow
from gui.wizards.settings import WizardMemory

MODEL_TEXT = {
    "dcgan": ("DCGAN (recommended)", "A convolutional GAN: sharp pictures, the standard choice. 28, 32 or 64 px."),
    "gan_mlp": ("MLP GAN", "A simple fully connected GAN: quick, blurrier, good for small grayscale images."),
    "vae": ("VAE", "A variational autoencoder: stable training and smooth in-betweens, softer pictures."),
}


class ResolutionPage(LoomPage):
    def __init__(self, choices: GenerateChoices, data_page: DataPage) -> None:
        super().__init__("Picture size",
                         "Larger pictures show more detail but take longer to learn. Colour needs 3 channels.")
        self.choices, self.data_page = choices, data_page
        self.size = QComboBox()
        self.size.setObjectName("resolution")
        for side in RESOLUTIONS:
            self.size.addItem(f"{side} × {side} px", side)
        self.size.setCurrentIndex(max(0, self.size.findData(choices.resolution)))
        self.gray = QRadioButton("Grayscale (1 channel)")
        self.colour = QRadioButton("Colour (3 channels)")
        group = QButtonGroup(self)
        group.addButton(self.gray)
        group.addButton(self.colour)
        (self.colour if choices.channels == 3 else self.gray).setChecked(True)
        form = QFormLayout()
        form.addRow("Size:", self.size)
        row = QHBoxLayout()
        row.addWidget(self.gray)
        row.addWidget(self.colour)
        row.addStretch(1)
        form.addRow("Channels:", row)
        self.body.addLayout(form)
        self.hint = help_label("")
        self.body.addWidget(self.hint)
        self.body.addStretch(1)
        self._last_source = choices.data.source

    def initializePage(self) -> None:  # noqa: N802
        source = self.choices.data.source
        if source != self._last_source:  # new data: suggest its natural channels and size
            (self.colour if source in ("shapes", "folder") else self.gray).setChecked(True)
            self.size.setCurrentIndex(max(0, self.size.findData(16 if source == "digits" else 32)))
            self._last_source = source
        natural = {"digits": "The digits are grayscale, 8 × 8 px at heart: 16 px keeps every detail and learns fastest.", "shapes": "The shapes are in colour.",
                   "folder": "Your images are converted to the channels chosen here."}
        self.hint.setText(natural.get(source, ""))

    def validatePage(self) -> bool:  # noqa: N802
        self.choices.resolution = int(self.size.currentData())
        self.choices.channels = 3 if self.colour.isChecked() else 1
        return self.refuse("")


class GanModelPage(LoomPage):
    def __init__(self, choices: GenerateChoices) -> None:
        super().__init__("Model", "Which kind of generator to train. DCGAN is a good first choice.")
        self.choices = choices
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        for key in GAN_MODELS:
            title, blurb = MODEL_TEXT[key]
            button = QRadioButton(title)
            button.setObjectName(f"model_{key}")
            self.group.addButton(button)
            self.buttons[key] = button
            self.body.addWidget(button)
            text = QLabel(blurb)
            text.setWordWrap(True)
            text.setContentsMargins(24, 0, 0, 8)
            self.body.addWidget(text)
        self.body.addStretch(1)
        self.buttons[choices.model if choices.model in GAN_MODELS else "dcgan"].setChecked(True)

    def model(self) -> str:
        return next(k for k, b in self.buttons.items() if b.isChecked())

    def validatePage(self) -> bool:  # noqa: N802
        from gui.wizards.recipes import RecipeError, require_step

        model = self.model()
        try:
            require_step(model)
            require_step("train_vae" if model == "vae" else "train_gan")
        except RecipeError as exc:
            return self.refuse(str(exc))
        if model == "dcgan" and self.choices.resolution not in RESOLUTIONS:
            return self.refuse("DCGAN draws 16, 28, 32 or 64 px pictures: go Back and pick one of those sizes.")
        self.choices.model = model
        return self.refuse("")


class GenerateWizard(LoomWizard):
    kind = "generate"
    choices_type = GenerateChoices

    def __init__(self, parent: QWidget | None = None, memory: WizardMemory | None = None, choices: Any = None) -> None:
        super().__init__(parent, memory, choices)
        self.setWindowTitle("Generate images")
        c: GenerateChoices = self.choices
        self.data_page = DataPage(c.data, need_classes=False, allow_csv=False,
                                  subtitle="What should the model learn to draw? Classes do not matter here: "
                                           "a folder of images of one kind of thing works best.")
        self.resolution_page = ResolutionPage(c, self.data_page)
        self.model_page = GanModelPage(c)
        self.budget_page = BudgetPage(c.budget, train_type="train_gan", early_stopping=False, estimate=self._estimate)
        self.review_page = ReviewPage()
        for page in (self.data_page, self.resolution_page, self.model_page, self.budget_page, self.review_page):
            self.addPage(page)

    def _estimate(self, budget: Budget) -> str:
        return ("The first sample grid appears within seconds of starting; it sharpens as training goes on. "
                "You can stop at any time and keep what has been learned so far.")

    def build_workflow(self) -> Workflow:
        return generate_workflow(self.choices)
