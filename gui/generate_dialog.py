"""*Generate more*: new images (or texts) from a finished run's trained model, shown in the dialog.

The run's generator (or language model) is rebuilt from its card and
weights in the background (:mod:`engine.generative.more`); the workflow is
not run again and no run is added to the history.  Each batch goes to a new
folder inside the run (``RUN/more/001``, ``002``...), so nothing written
before is replaced, and the seed moves on after each batch so pressing
Generate again gives new pictures.  A conditional generator (its card lists
classes) gets a class picker; others do not.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine.errors import UserInputError
from gui import tasks
from gui.export_dialog import describe_failure, open_folder

log = logging.getLogger(__name__)
MAX_SHOWN_IMAGES = 256  # the dialog shows what it makes; thousands belong to `loom generate`
THUMB_PX = 96
COLUMNS = 8
ANY_CLASS = "all classes"  # a conditional generator then draws every class in turn


def read_images(paths: list[Path]) -> list[QImage]:
    """The PNGs as QImages, read off the GUI thread (QImage, unlike QPixmap, may be made in any thread)."""
    return [QImage(str(p)) for p in paths]


def images_batch(run_dir: Path, n: int, seed: int, label: str | None) -> tuple[list[Path], list[QImage]]:
    from engine.generative.more import generate_images

    paths = generate_images(run_dir, n, None, seed, label)
    return paths, read_images(paths)


def texts_batch(run_dir: Path, prompt: str, n: int, max_tokens: int, seed: int) -> tuple[list[str], str, Path]:
    from engine.generative.more import generate_texts, new_output_folder, save_texts

    texts, warning = generate_texts(run_dir, prompt, n, max_tokens, seed)
    return texts, warning, save_texts(texts, new_output_folder(run_dir))


class GenerateDialog(QDialog):
    """How many, seed, class (when the model has classes) or prompt; Generate; the new images or texts, shown."""

    def __init__(self, run_dir: str | Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_dir = Path(run_dir)
        self.info: Any = None  # engine.generative.more.GeneratorInfo, read in the background
        self.paths: list[Path] = []  # the last batch's files
        self.texts: list[str] = []
        self.folder: Path | None = None
        self.setWindowTitle("Generate more — Loom")
        self.resize(860, 640)

        self.intro = QLabel(f"Reading the run in {self.run_dir} …")
        self.intro.setWordWrap(True)
        self.count = QSpinBox()
        self.count.setRange(1, MAX_SHOWN_IMAGES)
        self.count.setValue(16)
        self.count.setToolTip(f"How many to make (at most {MAX_SHOWN_IMAGES} here; `loom generate` makes more).")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(1)
        self.seed.setToolTip("The same seed gives the same results; it moves on by one after each batch.")
        self.class_box = QComboBox()
        self.class_box.setToolTip("Which class the generator draws: all classes (in turn) or one class.")
        self.prompt = QLineEdit("The")
        self.prompt.setToolTip("The text the model continues.")
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(1, 2000)
        self.max_tokens.setValue(200)
        self.max_tokens.setToolTip("Tokens written per text at most (fewer when the model ends a text).")
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldsStayAtSizeHint)  # short numbers, not page-wide bars
        for spin in (self.count, self.seed, self.max_tokens):
            spin.setMinimumWidth(120)
        self.prompt.setMinimumWidth(480)
        self.class_box.setMinimumWidth(200)
        self.form.addRow("How many:", self.count)
        self.form.addRow("Seed:", self.seed)
        self.form.addRow("Class:", self.class_box)
        self.form.addRow("Prompt:", self.prompt)
        self.form.addRow("Max tokens:", self.max_tokens)
        for widget in (self.class_box, self.prompt, self.max_tokens):
            self._show_row(widget, False)

        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.grid_host)
        self.text_view = QPlainTextEdit()
        self.text_view.setReadOnly(True)
        self.shown = QStackedWidget()
        self.shown.addWidget(scroll)
        self.shown.addWidget(self.text_view)
        self.message = QLabel()
        self.message.setObjectName("generate_message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.hide()

        self.buttons = QDialogButtonBox()
        self.generate_button = self.buttons.addButton("Generate", QDialogButtonBox.AcceptRole)
        self.open_button = self.buttons.addButton("Open folder", QDialogButtonBox.ActionRole)
        close = self.buttons.addButton(QDialogButtonBox.Close)
        self.generate_button.clicked.connect(self.start)
        self.open_button.clicked.connect(self._open_folder)
        close.clicked.connect(self.reject)
        self.generate_button.setEnabled(False)
        self.open_button.setEnabled(False)

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(self.form)
        layout.addWidget(self.shown, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.busy)
        layout.addWidget(self.buttons)
        self.loading = tasks.launch(self._load(), owner=self, on_error=self._failed)

    def _show_row(self, field: QWidget, visible: bool) -> None:
        field.setVisible(visible)
        label = self.form.labelForField(field)
        if label is not None:
            label.setVisible(visible)

    # -- what the run can make --------------------------------------------------------------------------------------
    async def _load(self) -> None:
        from engine.generative.more import generator_info

        info = await tasks.run_blocking(generator_info, self.run_dir)
        self.info = info
        if info.kind == "text":
            self.setWindowTitle("Generate more text — Loom")
            self.intro.setText("New texts from the language model this run trained (the workflow is not run again). "
                               f"Each batch is saved in a new folder under {self.run_dir / 'more'}.")
            if info.prompt:
                self.prompt.setText(info.prompt)
            self.count.setRange(1, 50)
            self.count.setValue(3)
            self._show_row(self.prompt, True)
            self._show_row(self.max_tokens, True)
            self.shown.setCurrentWidget(self.text_view)
        else:
            self.setWindowTitle("Generate more images — Loom")
            self.intro.setText("New images from the generator this run trained (the workflow is not run again). "
                               f"Each batch is saved in a new folder under {self.run_dir / 'more'}.")
            if info.classes:
                self.class_box.addItems([ANY_CLASS, *info.classes])
                self._show_row(self.class_box, True)
        self.generate_button.setEnabled(True)
        self.generate_button.setDefault(True)

    # -- a batch ----------------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self.info is None or not self.generate_button.isEnabled():
            return
        self._set_busy(True)
        self.message.setText("Generating…")
        seed = self.seed.value()
        if self.info.kind == "text":
            work = self._texts(self.prompt.text(), self.count.value(), self.max_tokens.value(), seed)
        else:
            label = self.class_box.currentText() if self.info.classes else ""
            work = self._images(self.count.value(), seed, None if label in ("", ANY_CLASS) else label)
        self.working = tasks.launch(work, owner=self, on_error=self._failed)

    async def _images(self, n: int, seed: int, label: str | None) -> None:
        paths, images = await tasks.run_blocking(images_batch, self.run_dir, n, seed, label)
        self.paths, self.folder = paths, paths[0].parent if paths else None
        self._show_images(images)
        self._done(f"Wrote {len(paths)} images (seed {seed}) to {self.folder}", seed)

    async def _texts(self, prompt: str, n: int, max_tokens: int, seed: int) -> None:
        texts, warning, path = await tasks.run_blocking(texts_batch, self.run_dir, prompt, n, max_tokens, seed)
        self.texts, self.paths, self.folder = texts, [path], path.parent
        self.text_view.setPlainText("\n\n———\n\n".join(texts))
        self._done(f"Wrote {len(texts)} texts (seed {seed}) to {path}" + (f"\nNote: {warning}" if warning else ""),
                   seed)

    def _show_images(self, images: list[QImage]) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        for i, image in enumerate(images):
            label = QLabel()
            label.setObjectName("generated_image")
            label.setPixmap(QPixmap.fromImage(image).scaled(THUMB_PX, THUMB_PX, Qt.KeepAspectRatio,
                                                            Qt.FastTransformation))  # crisp pixels when enlarged
            label.setToolTip(self.paths[i].name if i < len(self.paths) else "")
            self.grid.addWidget(label, i // COLUMNS, i % COLUMNS)

    def shown_images(self) -> list[QLabel]:
        return [w for w in self.grid_host.findChildren(QLabel, "generated_image")
                if w.pixmap() is not None and not w.pixmap().isNull()]

    def _done(self, text: str, seed: int) -> None:
        self._set_busy(False)
        self.message.setText(text)
        self.open_button.setEnabled(True)
        self.seed.setValue(min(seed + 1, self.seed.maximum()))  # Generate again: new results, not the same ones

    def _failed(self, exc: BaseException) -> None:
        if not isinstance(exc, UserInputError):
            log.warning("generating from %s failed", self.run_dir, exc_info=exc)
        self._set_busy(False)
        self.generate_button.setEnabled(self.info is not None)
        self.message.setText(describe_failure(exc, "Generating"))

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        for widget in (self.count, self.seed, self.class_box, self.prompt, self.max_tokens, self.generate_button):
            widget.setEnabled(not busy)

    def _open_folder(self) -> None:
        if self.folder is not None:
            open_folder(self.folder)


def open_generate_dialog(window: QWidget, run_dir: str | Path) -> GenerateDialog:
    """Open the Generate more dialog for any finished generative run (window-modal, non-blocking)."""
    dialog = GenerateDialog(run_dir, window)
    dialog.setAttribute(Qt.WA_DeleteOnClose)
    dialog.open()
    return dialog
