"""The results page shown after a run: the headline numbers, the picture (or text) that matters, where the files are.

It reads only the run folder (``run.json`` and the PNGs listed as artifacts),
so it shows the same thing for a run that just ended and one reopened later.
The buttons only announce what the analyst wants (signals); the wizards
package turns them into ordinary edits of the workflow and a new run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFont, QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine.names import RunStatus
from engine.training.cells import has_cells
from gui.dashboard.cells import MistakesGallery
from gui.dashboard.confusion import ConfusionView
from gui.try_panel import TryPanel

HEADLINES = (  # (report key, label, is a fraction shown as %); {what}: images or texts
    ("accuracy", "Accuracy on held-out {what}", True),
    ("f1_macro", "F1 score (all classes alike)", True),
    ("val_accuracy", "Best validation accuracy", True),
    ("best_epoch", "Best epoch", False),
    ("stopped", "Training ended", False),
    ("loss_d", "Discriminator loss (last)", False),
    ("loss_g", "Generator loss (last)", False),
    ("val_perplexity", "Perplexity on held-out text (lower is better)", False),
    ("val_perplexity_start", "Perplexity before training", False),
    ("steps", "Training steps", False),
)
PAIRS_PER_ROW_FROM = 720  # page width (px) from which the headline numbers sit two pairs to a row
PICTURE_WIDTHS = (160, 520)  # a sample grid on the page: at least this, at most this wide (px), as the page allows
TEXT_STEPS = ("text_builtin", "text_csv", "text_folder", "tokenize")
CLASSIFIER_ARTIFACTS = ("model_card", "classifier")  # an export, or the card a finished train step leaves
CONTINUABLE = (RunStatus.STOPPED, RunStatus.FAILED, "interrupted")  # a run that can go on from its checkpoints
SAMPLE_CHARS = 4000  # the results page shows this much of the generated text (the file holds all of it)


def is_text_run(info: dict[str, Any]) -> bool:
    return any(node.get("type") in TEXT_STEPS for node in info.get("nodes", {}).values())


def headline_metrics(info: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs worth a headline, from the node reports of a run.json."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    what = "texts" if is_text_run(info) else "images"
    for node in info.get("nodes", {}).values():
        report = node.get("report") or {}
        for key, label, percent in HEADLINES:
            label = label.format(what=what)
            if key in report and key not in seen and isinstance(report[key], (int, float, str)):
                value = report[key]
                if percent and isinstance(value, (int, float)):
                    text = f"{100 * float(value):.1f} %"
                elif isinstance(value, float):
                    text = f"{value:.3g}"
                else:
                    text = str(value)
                out.append((label, text))
                seen.add(key)
    order = {key: i for i, (key, _l, _p) in enumerate(HEADLINES)}
    labels = {label.format(what=what): key for key, label, _p in HEADLINES}
    return sorted(out, key=lambda kv: order[labels[kv[0]]])


def confusion_source(info: dict[str, Any]) -> tuple[str, dict] | None:
    for node_id, node in info.get("nodes", {}).items():
        report = node.get("report") or {}
        if report.get("confusion_matrix"):
            return node_id, report
    return None


def has_classifier(info: dict[str, Any]) -> bool:
    return any(art.get("kind") in CLASSIFIER_ARTIFACTS for art in info.get("artifacts", []))


def gallery_images(run_dir: Path, info: dict[str, Any]) -> list[tuple[str, Path]]:
    """(caption, PNG) for a generative run: the first and last sample grids, then a few generated images."""
    out: list[tuple[str, Path]] = []
    for folder in sorted(p for p in run_dir.glob("*/samples") if p.is_dir()):
        steps = sorted(folder.glob("step_*.png"))
        if steps:
            picks = [steps[0], steps[-1]] if len(steps) > 1 else steps
            for path in picks:
                number = path.stem.rsplit("_", 1)[-1]
                out.append((f"{folder.parent.name}: step {int(number) if number.isdigit() else number}", path))
    for art in info.get("artifacts", []):
        path = run_dir / str(art.get("path", ""))
        if path.is_dir():
            files = sorted(path.glob("*.png"))[:6]
            out.extend((f"{art.get('node')}: {f.name}", f) for f in files)
        elif path.suffix.lower() == ".png" and path.is_file() and art.get("kind") not in ("preview", "samples"):
            out.append((f"{art.get('node')}: {art.get('kind')}", path))
    return out[:10]


def latest_text(run_dir: Path, info: dict[str, Any]) -> tuple[str, str]:
    """(caption, text) a language model wrote last: generate_text's file, else the latest live sample."""
    for art in reversed(info.get("artifacts", [])):
        path = run_dir / str(art.get("path", ""))
        if art.get("kind") == "generated" and path.is_file():
            return f"{art.get('node')}: {path.name}", _read_start(path)
    samples = sorted(run_dir.glob("*/samples/step_*.txt"))
    if samples:
        return f"{samples[-1].parent.parent.name}: the last live sample ({samples[-1].name})", _read_start(samples[-1])
    return "", ""


def _read_start(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            return f.read(SAMPLE_CHARS)
    except OSError as exc:
        return f"({path.name} could not be read: {exc.strerror or exc})"


class FitPicture(QLabel):
    """A sample grid shown as wide as the results page allows (:meth:`fit`), never blurred from a scaled copy."""

    def __init__(self, pixmap: QPixmap) -> None:
        super().__init__()
        self.original = pixmap
        self.setAlignment(Qt.AlignLeft | Qt.AlignTop)

    def fit(self, width: int) -> None:
        if self.original.width() and (self.pixmap().isNull() or self.pixmap().width() != width):
            self.setPixmap(self.original.scaledToWidth(width, Qt.SmoothTransformation))


class ResultsPage(QWidget):
    export_requested = Signal()
    generate_more_requested = Signal()
    train_again_requested = Signal()
    back_requested = Signal()
    continue_requested = Signal()  # a stopped or failed run: go on from its last checkpoints

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("results")
        self.run_dir: Path | None = None
        self.info: dict[str, Any] = {}
        self.title = QLabel()
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.title.setFont(font)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.metrics = QGridLayout()
        self.metrics.setHorizontalSpacing(24)
        self.metrics.setColumnStretch(4, 1)
        self.headlines: list[tuple[QLabel, QLabel]] = []
        self.pictures: list[FitPicture] = []  # the gallery's sample grids, sized to the page in resizeEvent
        self._beside_pictures = 0
        self.confusion = ConfusionView()
        self.confusion.setMinimumSize(360, 300)
        self.confusion.setMaximumHeight(440)
        self.confusion.setToolTip("Click a cell to see the held-out samples that fell there.")
        self.try_panel = TryPanel()
        self.try_panel.setMinimumWidth(320)
        self.mistakes = MistakesGallery()
        self.gallery = QWidget()
        self.gallery_layout = QHBoxLayout(self.gallery)
        self.visual = QStackedWidget()
        self.visual.addWidget(self.confusion)
        self.visual.addWidget(self.gallery)
        self.writing = QPlainTextEdit()
        self.writing.setObjectName("generated_text")
        self.writing.setReadOnly(True)
        self.writing.setMinimumHeight(260)
        self.writing_caption = QLabel()
        self.writing_box = QWidget()
        box = QVBoxLayout(self.writing_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.writing_caption)
        box.addWidget(self.writing, 1)
        self.visual.addWidget(self.writing_box)
        self.files = QLabel()
        self.files.setWordWrap(True)
        self.files.setTextInteractionFlags(Qt.TextSelectableByMouse)

        self.export_button = QPushButton("Export model")
        self.generate_button = QPushButton("Generate more images")
        self.open_button = QPushButton("Open run folder")
        self.again_button = QPushButton("Train again with changes")
        self.back_button = QPushButton("Back to the workflow")
        self.continue_button = QPushButton("Continue training")
        self.continue_button.setToolTip("Go on from the run's last checkpoint, in the same run folder.")
        self.continue_button.clicked.connect(self.continue_requested.emit)
        self.continue_button.setVisible(False)
        self.export_button.clicked.connect(self.export_requested.emit)
        self.generate_button.clicked.connect(self.generate_more_requested.emit)
        self.open_button.clicked.connect(self.open_folder)
        self.again_button.clicked.connect(self.train_again_requested.emit)
        self.back_button.clicked.connect(self.back_requested.emit)
        buttons = QHBoxLayout()
        for b in (self.continue_button, self.export_button, self.generate_button, self.open_button, self.again_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.back_button)

        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.addWidget(self.title)
        layout.addWidget(self.status)
        layout.addLayout(self.metrics)
        middle = QHBoxLayout()
        middle.addWidget(self.visual, 1)
        middle.addWidget(self.try_panel, 1)
        layout.addLayout(middle, 1)
        layout.addWidget(self.mistakes)
        layout.addWidget(self.files)
        layout.addLayout(buttons)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    def show_run(self, run_dir: str | Path, can_export: bool, is_generator: bool,
                 is_writer: bool = False) -> dict[str, Any]:
        """Fill the page from a run folder; returns its run.json."""
        from engine.store import read_run

        self.run_dir = Path(run_dir)
        info = read_run(self.run_dir)
        self.info = info
        self.title.setText(f"Results: {info.get('workflow', self.run_dir.name)}")
        status = info.get("status", "")
        took = info.get("duration_s")
        self.status.setText(f"The run {status}" + (f" in {took:.0f} s" if isinstance(took, (int, float)) else "")
                            + (f" on {info.get('device')}" if info.get("device") else "")
                            + (f": {info['message']}" if info.get("message") else "."))
        while self.metrics.count():
            item = self.metrics.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.headlines = []
        for label, value in headline_metrics(info):
            shown = QLabel(value)
            vfont = QFont(shown.font())
            vfont.setBold(True)
            vfont.setPointSizeF(vfont.pointSizeF() * 1.2)
            shown.setFont(vfont)
            self.headlines.append((QLabel(label), shown))
        self._place_headlines()
        self._fill_visual(info, is_writer)
        self.files.setText(f"Everything from this run is in <b>{self.run_dir}</b>: the workflow as it ran "
                           "(workflow.json), run.json, metrics.csv and one folder per step "
                           "(checkpoints, pictures, exported files).")
        self.export_button.setEnabled(can_export and status == RunStatus.SUCCEEDED)
        self.export_button.setToolTip("" if can_export else "This Loom has no export step for this kind of model.")
        self.generate_button.setText("Generate more text" if is_writer else "Generate more images")
        self.generate_button.setVisible(is_generator)
        self.generate_button.setEnabled(status == RunStatus.SUCCEEDED)
        self.continue_button.setVisible(status in CONTINUABLE)
        self._fill_classifier(info, is_generator or is_writer)
        return info

    def _fill_classifier(self, info: dict[str, Any], generative: bool) -> None:
        """Try it (any run that left a classifier card) and the surest mistakes (any evaluation that kept cells)."""
        classifier = not generative and has_classifier(info) and self.run_dir is not None
        self.try_panel.setVisible(classifier)
        if classifier:
            self.try_panel.set_run(self.run_dir)
        source = confusion_source(info) if not generative else None
        folder = self.run_dir / source[0] if source and self.run_dir else None
        self.confusion.set_folder(folder)
        kept = folder is not None and has_cells(folder)
        self.mistakes.setVisible(kept)
        if kept:
            self.mistakes.load(folder)

    def _fill_visual(self, info: dict[str, Any], is_writer: bool = False) -> None:
        while self.gallery_layout.count():
            item = self.gallery_layout.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        if is_writer and self.run_dir is not None:
            caption, text = latest_text(self.run_dir, info)
            self.writing_caption.setText(f"What the model wrote — {caption}" if caption else "")
            self.writing.setPlainText(text)
            self.visual.setCurrentWidget(self.writing_box)
            self.visual.setVisible(bool(text))
            return
        source = confusion_source(info)
        if source is not None:
            self.confusion.set_report(*source)
            self.visual.setCurrentWidget(self.confusion)
            self.visual.setVisible(True)
            return
        images = gallery_images(self.run_dir, info) if self.run_dir else []
        self.pictures = []
        self._beside_pictures = 0
        thumbs = QGridLayout()  # single generated images: a compact 3-wide block after the sample grids
        for caption, path in images:
            pix = QPixmap(str(path))
            picture = QLabel()
            picture.setToolTip(f"{caption}\n{path}")
            if pix.width() and pix.width() <= 64:
                picture.setPixmap(pix.scaledToWidth(72, Qt.FastTransformation))
                thumbs.addWidget(picture, thumbs.count() // 3, thumbs.count() % 3)
                continue
            picture = FitPicture(pix)
            picture.setToolTip(f"{caption}\n{path}")
            self.pictures.append(picture)
            box = QVBoxLayout()
            box.addWidget(picture)
            box.addWidget(QLabel(caption))
            box.addStretch(1)
            holder = QWidget()
            holder.setLayout(box)
            self.gallery_layout.addWidget(holder)
        if thumbs.count():
            self._beside_pictures = 3 * 72 + 48  # the block of single images takes this much of the row
            box = QVBoxLayout()
            box.addLayout(thumbs)
            box.addWidget(QLabel("generated images"))
            box.addStretch(1)
            holder = QWidget()
            holder.setLayout(box)
            self.gallery_layout.addWidget(holder)
        self.gallery_layout.addStretch(1)
        self.visual.setCurrentWidget(self.gallery)
        self.visual.setVisible(bool(images))
        self._fit_pictures()

    # -- the page follows its width --------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802, ANN001 - QResizeEvent
        super().resizeEvent(event)
        self._place_headlines()
        self._fit_pictures()

    def _place_headlines(self) -> None:
        """Two (label, number) pairs to a row where the page is wide enough, else one: nothing cut at 1024 px."""
        per_row = 2 if self.width() >= PAIRS_PER_ROW_FROM else 1
        for i, (name, shown) in enumerate(self.headlines):
            self.metrics.addWidget(name, i // per_row, (i % per_row) * 2)  # re-adding moves a widget's cell
            self.metrics.addWidget(shown, i // per_row, (i % per_row) * 2 + 1)

    def _fit_pictures(self) -> None:
        """Sample grids share the page's width (a 1920 px screen shows them large, 1024 px still side by side)."""
        if not self.pictures:
            return
        # the page's margins and scroll bar, the gaps between pictures, the block of single images
        room = self.width() - 80 - 24 * len(self.pictures) - self._beside_pictures
        low, high = PICTURE_WIDTHS
        width = max(low, min(high, room // len(self.pictures)))
        for picture in self.pictures:
            picture.fit(width)

    def open_folder(self) -> bool:
        if self.run_dir is None:
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.run_dir)))
