"""Fine-tune: source weights (ImageNet, a previous Loom run, a file) -> target data -> freezing -> budget -> review."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QWidget,
)

from engine.names import RunStatus
from engine.workflow import Workflow
from gui import tasks
from gui.wizards.base import LoomWizard
from gui.wizards.datapage import DataPage
from gui.wizards.pages import BudgetPage, LoomPage, ReviewPage, help_label
from gui.wizards.recipes import FinetuneChoices, RecipeError, finetune_workflow, run_model_node
from gui.wizards.settings import WizardMemory


def previous_runs(limit: int = 30) -> list[Path]:
    """Finished Loom runs (newest first) that trained an image classifier: candidates to start from."""
    from gui.paths import runs_root

    root = runs_root()
    if not root.is_dir():
        return []
    found = []
    for run_dir in sorted((p for p in root.iterdir() if p.is_dir()), reverse=True):
        try:
            info = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
            run_model_node(run_dir)
        except (OSError, ValueError, RecipeError):
            continue
        if info.get("status") == RunStatus.SUCCEEDED:
            found.append(run_dir)
        if len(found) >= limit:
            break
    return found


def imagenet_status() -> str:
    """Whether the ImageNet weights are already on this machine (else they are downloaded on the first run)."""
    try:
        from engine.models.weights import imagenet_cache_file

        cached = imagenet_cache_file()
    except Exception:  # torch missing or broken: the run will say so clearly
        return ""
    if cached.exists():
        return "The ImageNet weights are already on this computer."
    return (f"The ImageNet weights (45 MB) are downloaded once on the first run; without internet, place them at "
            f"{cached} or choose another source.")


class SourcePage(LoomPage):
    def __init__(self, choices: FinetuneChoices) -> None:
        super().__init__("Start from",
                         "Fine-tuning starts from a model that already knows how to see, so it needs fewer images "
                         "and less time than training from scratch.")
        self.choices = choices
        self.group = QButtonGroup(self)
        self.buttons = {
            "imagenet": QRadioButton("ResNet-18 trained on ImageNet (1.2 million photos)"),
            "run": QRadioButton("A model from one of my previous Loom runs"),
            "file": QRadioButton("A ResNet-18 weights file (.safetensors or .pt)"),
        }
        for key, button in self.buttons.items():
            button.setObjectName(f"source_{key}")
            self.group.addButton(button)
        self.imagenet_note = help_label("")
        self.imagenet_note.setContentsMargins(24, 0, 0, 8)
        self.run_box = QComboBox()
        self.run_box.setObjectName("run")
        self.run_box.setEditable(True)
        self.run_browse = QPushButton("Browse…")
        self.run_browse.clicked.connect(lambda: self._browse_dir(self.run_box))
        self.file_edit = QLineEdit()
        self.file_edit.setObjectName("file")
        self.file_browse = QPushButton("Browse…")
        self.file_browse.clicked.connect(self._browse_file)
        self.body.addWidget(self.buttons["imagenet"])
        self.body.addWidget(self.imagenet_note)
        self.body.addWidget(self.buttons["run"])
        self.body.addLayout(_indented(self.run_box, self.run_browse))
        self.body.addWidget(self.buttons["file"])
        self.body.addLayout(_indented(self.file_edit, self.file_browse))
        self.body.addStretch(1)
        self.buttons[choices.source if choices.source in self.buttons else "imagenet"].setChecked(True)
        if choices.source == "file":
            self.file_edit.setText(choices.source_path)
        self._looking: asyncio.Task | None = None

    def initializePage(self) -> None:  # noqa: N802
        """Look for the ImageNet weights and previous runs in the background (torch import, a folder scan)."""
        if self._looking is not None:
            self._looking.cancel()
        self._looking = tasks.launch(self._look_around(), owner=self)

    async def _look_around(self) -> None:
        status, runs = tasks.run_blocking(imagenet_status), tasks.run_blocking(previous_runs)
        self.imagenet_note.setText(await status)
        found = [str(p) for p in await runs]
        current = self.run_box.currentText() or (self.choices.source_path if self.choices.source == "run" else "")
        self.run_box.clear()
        self.run_box.addItems(found)
        if current:
            self.run_box.setCurrentText(current)

    def source(self) -> str:
        return next(k for k, b in self.buttons.items() if b.isChecked())

    def _browse_dir(self, box: QComboBox) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a Loom run folder", box.currentText())
        if path:
            box.setCurrentText(path)

    def _browse_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a weights file", self.file_edit.text(),
                                              "Weights (*.safetensors *.pt *.pth);;All files (*)")
        if path:
            self.file_edit.setText(path)

    def validatePage(self) -> bool:  # noqa: N802
        source = self.source()
        path = ""
        if source == "run":
            path = self.run_box.currentText().strip()
            if not path:
                return self.refuse("Choose a previous run folder (or pick another source).")
            try:
                run_model_node(path)
            except RecipeError as exc:
                return self.refuse(str(exc))
        elif source == "file":
            path = self.file_edit.text().strip()
            if not path or not Path(path).expanduser().is_file():
                return self.refuse("Choose an existing weights file (.safetensors or .pt).")
            if Path(path).suffix.lower() not in (".safetensors", ".pt", ".pth"):
                return self.refuse(f"'{Path(path).name}' is not a .safetensors or .pt weights file.")
        self.choices.source, self.choices.source_path = source, path
        return self.refuse("")


class FreezePage(LoomPage):
    def __init__(self, choices: FinetuneChoices) -> None:
        super().__init__("What to retrain",
                         "Keeping most of the model frozen is faster and needs fewer images; retraining more "
                         "adapts better when your pictures look very different.")
        self.choices = choices
        self.group = QButtonGroup(self)
        self.buttons = {
            "backbone": QRadioButton("Only the new final layer (fastest; recommended for small datasets)"),
            "last_n": QRadioButton("The final layer and the last few blocks:"),
            "none": QRadioButton("Everything (slowest; for large datasets)"),
        }
        self.blocks = QSpinBox()
        self.blocks.setRange(1, 4)
        self.blocks.setValue(max(1, min(4, int(choices.train_blocks))))
        self.blocks.setSuffix(" block(s)")
        for key, button in self.buttons.items():
            button.setObjectName(f"freeze_{key}")
            self.group.addButton(button)
        self.body.addWidget(self.buttons["backbone"])
        row = QHBoxLayout()
        row.addWidget(self.buttons["last_n"])
        row.addWidget(self.blocks)
        row.addStretch(1)
        self.body.addLayout(row)
        self.body.addWidget(self.buttons["none"])
        self.size = QComboBox()
        for side in (32, 64, 96, 128, 224):
            self.size.addItem(f"{side} px", side)
        self.size.setCurrentIndex(max(0, self.size.findData(choices.image_size)))
        size_row = QHBoxLayout()
        size_row.addWidget(QLabel("Picture size for training:"))
        size_row.addWidget(self.size)
        size_row.addStretch(1)
        self.body.addSpacing(12)
        self.body.addLayout(size_row)
        self.body.addWidget(help_label("ImageNet models see best at 224 px; 32–64 px is much faster on a CPU."))
        self.body.addStretch(1)
        self.buttons[choices.freeze if choices.freeze in self.buttons else "backbone"].setChecked(True)

    def validatePage(self) -> bool:  # noqa: N802
        self.choices.freeze = next(k for k, b in self.buttons.items() if b.isChecked())
        self.choices.train_blocks = self.blocks.value()
        self.choices.image_size = int(self.size.currentData())
        return self.refuse("")


class FinetuneWizard(LoomWizard):
    kind = "finetune"
    choices_type = FinetuneChoices

    def __init__(self, parent: QWidget | None = None, memory: WizardMemory | None = None, choices: Any = None) -> None:
        super().__init__(parent, memory, choices)
        self.setWindowTitle("Fine-tune a pretrained model")
        c: FinetuneChoices = self.choices
        self.source_page = SourcePage(c)
        self.data_page = DataPage(c.data, need_classes=True, allow_csv=False,
                                  subtitle="The pictures the model should learn to tell apart: one subfolder per class.")
        self.freeze_page = FreezePage(c)
        self.budget_page = BudgetPage(c.budget, train_type="train", early_stopping=True)
        self.review_page = ReviewPage()
        for page in (self.source_page, self.data_page, self.freeze_page, self.budget_page, self.review_page):
            self.addPage(page)

    def build_workflow(self) -> Workflow:
        return finetune_workflow(self.choices)


def _indented(*widgets: QWidget) -> QHBoxLayout:
    row = QHBoxLayout()
    row.setContentsMargins(24, 0, 0, 8)
    for i, w in enumerate(widgets):
        row.addWidget(w, 1 if i == 0 else 0)
    return row
