"""*Try it*: drop or pick images (or type a text) and see what a finished run's classifier answers.

The model is the run's export when it has one, else the card its train step
left (:func:`engine.try_model.load_run_classifier`); loading it, reading the
files and predicting all happen off the GUI thread (:mod:`gui.tasks`).  Each
input gets a row: its picture, the top classes with probability bars, or what
was wrong with it, in words (not an image, unreadable, a text for an image
model).  ``open_try_dialog(window, run_dir)`` shows the panel for any finished
classifier run in a non-modal window.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from engine.errors import UserInputError
from gui import tasks
from gui.dashboard.cells import wrong_color

THUMB = 72  # px a side of each tried picture
MAX_ROWS = 200  # a dropped folder of thousands: the first ones are shown
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"


def _thumbnail(path: str) -> QImage:
    """A small picture of an image file (read in a worker thread: QImage, unlike QPixmap, may be)."""
    image = QImage(path)
    return image.scaled(THUMB, THUMB, Qt.KeepAspectRatio, Qt.FastTransformation) if not image.isNull() else image


def _predict_files(model, paths: list[str]):  # noqa: ANN001, ANN202 - engine objects, run in a worker
    from engine.try_model import predict_files

    guesses = predict_files(model, paths)[:MAX_ROWS]
    return [(g, _thumbnail(g.name) if not g.error else QImage()) for g in guesses]


class TryPanel(QFrame):
    """Drop zone, *Pick images…* (or a text box), and one result row per input."""

    model_loaded = Signal()
    predicted = Signal()  # a batch of inputs has its answers (or errors) on screen

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("try_panel")
        self.setFrameShape(QFrame.StyledPanel)
        self.setAcceptDrops(True)
        self.model = None
        self.noun = "images"
        self.guesses: list = []  # engine.try_model.Guess of the inputs shown, in order
        self.run_dir: Path | None = None
        self.asked = 0  # how many batches were asked for: only the latest one's answers are shown
        title = QLabel("<b>Try it</b>")
        self.hint = QLabel("Pick a finished classifier run to try it.")
        self.hint.setWordWrap(True)
        self.pick_button = QPushButton("Pick images…")
        self.pick_button.clicked.connect(self.pick_files)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear_results)
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("Type or paste a text; one text per line")
        self.text.setMaximumHeight(90)
        self.classify_button = QPushButton("Classify")
        self.classify_button.clicked.connect(self.classify_text)
        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.pick_button)
        top.addWidget(self.classify_button)
        top.addWidget(self.clear_button)
        self.rows = QWidget()
        self.rows_layout = QVBoxLayout(self.rows)
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setMinimumHeight(120)
        self.empty.setEnabled(False)  # drawn greyed: a placeholder, not a message
        self.rows_layout.addWidget(self.empty)
        self.rows_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setWidget(self.rows)
        scroll.setMinimumHeight(180)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.hint)
        layout.addWidget(self.text)
        layout.addWidget(scroll, 1)
        self._set_ready(False)

    # -- the model ---------------------------------------------------------------------------------
    def set_run(self, run_dir: str | Path, node: str | None = None) -> None:
        """Load the run's classifier in the background; inputs can be tried once :attr:`model_loaded` fires."""
        from engine.try_model import load_run_classifier

        self.run_dir = run = Path(run_dir)
        self.model = None
        self.clear_results()
        self._set_ready(False)
        self.hint.setText("Loading the model…")

        async def load() -> None:
            from engine.try_model import input_noun

            model = await tasks.run_blocking(load_run_classifier, run, node)
            if self.run_dir != run:
                return  # another run was picked meanwhile: its own load shows it
            self.model, self.noun = model, input_noun(model)
            self._set_ready(True)
            self._placeholder()
            classes = ", ".join(model.classes[:8]) + ("…" if len(model.classes) > 8 else "")
            if self.noun == "texts":
                self.hint.setText(f"Type a text (or several, one per line) and press Classify. Classes: {classes}.")
            else:
                self.hint.setText(f"Drop {self.noun} here or pick them; the model answers one of: {classes}.")
            self.model_loaded.emit()

        tasks.launch(load(), owner=self, on_error=self._load_failed)

    def _load_failed(self, exc: BaseException) -> None:
        self._set_ready(False)
        self.hint.setText(_words(exc))
        self.model_loaded.emit()

    def _set_ready(self, ready: bool) -> None:
        texts = self.noun == "texts"
        self.pick_button.setVisible(not texts)
        self.pick_button.setText(f"Pick {self.noun}…")
        self.pick_button.setEnabled(ready)
        self.text.setVisible(texts)
        self.classify_button.setVisible(texts)
        self.classify_button.setEnabled(ready)

    # -- inputs ------------------------------------------------------------------------------------
    def pick_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, f"Pick {self.noun} to classify", "",
                                                IMAGE_FILTER if self.noun == "images" else "All files (*)")
        if files:
            self.try_files(files)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and self.model is not None and self.noun != "texts":
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.try_files(paths)

    def try_files(self, paths: list[str | Path]) -> None:
        """Classify files (or folders of them) in the background and show a row for each."""
        if self.model is None:
            self.hint.setText("The model is not loaded yet — wait a moment, then try again.")
            return
        model, paths = self.model, [str(p) for p in paths]
        self.hint.setText(f"Classifying {len(paths)} input(s)…")
        self.asked += 1
        asked = self.asked

        async def run() -> None:
            shown = await tasks.run_blocking(_predict_files, model, paths)
            if asked == self.asked:  # a later drop overtook this one: its answers win
                self._show(shown)

        tasks.launch(run(), owner=self, on_error=self._predict_failed)

    def classify_text(self) -> None:
        from engine.try_model import predict_texts

        texts = [line for line in self.text.toPlainText().splitlines() if line.strip()]
        if self.model is None or not texts:
            self.hint.setText("Type a text to classify first." if self.model is not None else self.hint.text())
            return
        model = self.model
        self.asked += 1
        asked = self.asked

        async def run() -> None:
            guesses = await tasks.run_blocking(predict_texts, model, texts)
            if asked == self.asked:
                self._show([(g, QImage()) for g in guesses])

        tasks.launch(run(), owner=self, on_error=self._predict_failed)

    def _predict_failed(self, exc: BaseException) -> None:
        self.hint.setText(_words(exc))
        self.predicted.emit()

    # -- results -------------------------------------------------------------------------------------
    def clear_results(self) -> None:
        self.guesses = []
        while self.rows_layout.count() > 2:  # the placeholder and the stretch stay
            item = self.rows_layout.takeAt(1)
            if item.widget():
                item.widget().deleteLater()
        self._placeholder()

    def _placeholder(self) -> None:
        """The empty list says where to drop (a text model is typed into the box above instead)."""
        self.empty.setText(f"Drop {self.noun} here\nor use “Pick {self.noun}…”")
        self.empty.setVisible(not self.guesses and self.noun != "texts" and self.model is not None)

    def _show(self, shown: list) -> None:
        self.clear_results()
        for guess, thumb in shown:
            self.guesses.append(guess)
            self.rows_layout.insertWidget(self.rows_layout.count() - 1, _row(guess, thumb))
        self._placeholder()
        bad = sum(1 for g in self.guesses if g.error)
        said = f"{len(self.guesses) - bad} classified" + (f", {bad} could not be read" if bad else "")
        self.hint.setText(said + (". Type more to try again." if self.noun == "texts" else
                                  f". Drop more {self.noun} here to try again."))
        self.predicted.emit()


def _row(guess, thumb: QImage) -> QWidget:  # noqa: ANN001 - engine.try_model.Guess
    row = QFrame()
    row.setObjectName("try_row")
    row.setFrameShape(QFrame.StyledPanel)
    row.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Fixed)  # a long list scrolls; rows never squeeze
    layout = QHBoxLayout(row)
    layout.setContentsMargins(6, 4, 6, 4)
    if not thumb.isNull():
        picture = QLabel()
        picture.setPixmap(QPixmap.fromImage(thumb).scaled(THUMB, THUMB, Qt.KeepAspectRatio, Qt.FastTransformation))
        picture.setFixedSize(THUMB, THUMB)
        picture.setAlignment(Qt.AlignCenter)
        layout.addWidget(picture)
    info = QVBoxLayout()
    name = QLabel(Path(guess.name).name if Path(guess.name).suffix else guess.name)
    name.setToolTip(guess.name)
    name.setWordWrap(True)
    info.addWidget(name)
    if guess.error:
        problem = QLabel(guess.error)
        problem.setObjectName("try_error")
        problem.setWordWrap(True)
        problem.setStyleSheet(f"color: {wrong_color()};")
        info.addWidget(problem)
    else:
        bars = QGridLayout()
        bars.setVerticalSpacing(2)
        for i, (cls, prob) in enumerate(guess.top):
            label = QLabel(f"<b>{cls}</b>" if i == 0 else cls)
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setValue(round(prob * 1000))
            bar.setFormat(f"{prob:.1%}")
            bar.setMaximumHeight(14)
            bars.addWidget(label, i, 0)
            bars.addWidget(bar, i, 1)
        bars.setColumnStretch(1, 1)
        info.addLayout(bars)
    layout.addLayout(info, 1)
    return row


def _words(exc: BaseException) -> str:
    """What to tell the user; an unexpected error is also reported (never lost), in one line here."""
    if isinstance(exc, UserInputError):
        return str(exc)
    tasks.report(exc)
    return f"Something went wrong: {type(exc).__name__}: {exc}"


def open_try_dialog(window: QWidget, run_dir: str | Path, node: str | None = None) -> QDialog:
    """A non-modal window trying ``run_dir``'s classifier (for the Runs panel's *Try it…*)."""
    dialog = QDialog(window)
    dialog.setAttribute(Qt.WA_DeleteOnClose)
    dialog.setWindowTitle(f"Try it — {Path(run_dir).name}")
    panel = TryPanel(dialog)
    layout = QVBoxLayout(dialog)
    layout.addWidget(panel)
    dialog.try_panel = panel  # type: ignore[attr-defined]
    dialog.resize(560, 640)
    panel.set_run(run_dir, node)
    dialog.show()
    return dialog
