"""Pages shared by the wizards: the data choice (with the folder scan), the budget and the review.

Every page validates in :meth:`validatePage` and, when it refuses, says why
in plain words in its red message line (Next stays clickable so the reason is
one click away, never a silently greyed button).  Pages write into the
wizard's choices dataclass only when they are left with Next, so Back keeps
whatever the analyst typed.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from gui.wizards.recipes import Budget, DataChoice, RecipeError, has_param
from gui.wizards.scan import FolderScan, TableScan, scan_folder, scan_table

if TYPE_CHECKING:
    from gui.wizards.base import LoomWizard



def in_background(fn: Callable[..., Any], *args: Any) -> cf.Future:
    """Run ``fn`` on its own thread and return a future for its result.

    Not a daemon: a thread killed inside torch at interpreter exit aborts the
    process, so long jobs (the timings) take a cancel event and finish quickly
    once the wizard closes.
    """
    future: cf.Future = cf.Future()

    def work() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # delivered to whoever waits on the future
            future.set_exception(exc)

    threading.Thread(target=work, name="loom-wizard").start()
    return future

BUILTIN_TEXT = {
    "digits": ("Built-in handwritten digits",
               "1,797 small pictures of the digits 0–9 (10 classes), shipped with Loom: no download."),
    "shapes": ("Built-in coloured shapes",
               "Circles, squares, triangles and stars drawn on varied backgrounds (4 classes): no download."),
}


def message_label() -> QLabel:
    """The red line where a page says why it cannot go on."""
    label = QLabel()
    label.setObjectName("wizardMessage")
    label.setWordWrap(True)
    label.setStyleSheet("color: #c92a2a; font-weight: 600;")
    label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    return label


def help_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


def pixmap_of(pixels: Any, max_side: int = 260) -> QPixmap:
    from gui.dashboard.images import to_qimage

    pix = QPixmap.fromImage(to_qimage(pixels))
    if max(pix.width(), pix.height()) > max_side:
        pix = pix.scaled(max_side, max_side, Qt.KeepAspectRatio, Qt.SmoothTransformation)
    elif max(pix.width(), pix.height()) < max_side // 2 and pix.width() > 0:
        factor = max(1, (max_side // 2) // max(pix.width(), pix.height()))
        pix = pix.scaled(pix.width() * factor, pix.height() * factor, Qt.KeepAspectRatio, Qt.FastTransformation)
    return pix


class _Relay(QObject):
    """Carries a background result onto the GUI thread (a queued signal)."""

    done = Signal(object, object)  # key, result

    def deliver(self, key: Any, future: cf.Future) -> None:
        """Any thread: pass the finished future on, unless the page was closed meanwhile."""
        with contextlib.suppress(RuntimeError):  # the page (and this relay) were deleted: nobody waits
            self.done.emit(key, future)


class LoomPage(QWizardPage):
    """A page with a help text at the top and a red message line at the bottom."""

    def __init__(self, title: str, subtitle: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(title)
        self.setSubTitle(subtitle)
        self.body = QVBoxLayout()
        self.message = message_label()
        outer = QVBoxLayout(self)
        outer.addLayout(self.body, 1)
        outer.addWidget(self.message)

    @property
    def loom_wizard(self) -> LoomWizard:
        return self.wizard()  # type: ignore[return-value]

    def refuse(self, text: str) -> bool:
        self.message.setText(text)
        return not text


# -- data ------------------------------------------------------------------------------------------------
class DataPage(LoomPage):
    """Built-in data, a folder of images or a CSV file; folders are scanned and checked before Next."""

    def __init__(self, choice: DataChoice, *, need_classes: bool, allow_csv: bool, subtitle: str) -> None:
        super().__init__("Your data", subtitle)
        self.choice = choice
        self.need_classes = need_classes
        self.group = QButtonGroup(self)
        self.source_buttons: dict[str, QRadioButton] = {}
        sources = ["digits"]
        if has_param("shapes", "count"):
            sources.append("shapes")
        sources.append("folder")
        if allow_csv and has_param("csv_table", "target"):
            sources.append("csv")
        titles = {"folder": "A folder of my images", "csv": "A CSV table (one row per example)"}
        grid = QGridLayout()
        for row, key in enumerate(sources):
            text = BUILTIN_TEXT[key][0] if key in BUILTIN_TEXT else titles[key]
            button = QRadioButton(text)
            button.setObjectName(f"source_{key}")
            self.group.addButton(button)
            self.source_buttons[key] = button
            grid.addWidget(button, row, 0)
        self.body.addLayout(grid)

        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("path")
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse)
        self.path_box = QWidget()
        self.path_box.setLayout(path_row)
        path_row.setContentsMargins(24, 0, 0, 0)
        self.body.addWidget(self.path_box)
        self.target_box = QComboBox()
        self.target_box.setObjectName("target")
        self.target_row = QWidget()
        target_layout = QHBoxLayout(self.target_row)
        target_layout.setContentsMargins(24, 0, 0, 0)
        target_layout.addWidget(QLabel("Column with the class of each row:"))
        target_layout.addWidget(self.target_box, 1)
        self.body.addWidget(self.target_row)

        info = QHBoxLayout()
        self.summary = QLabel()
        self.summary.setObjectName("summary")
        self.summary.setWordWrap(True)
        self.summary.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.thumbs = QLabel()
        self.thumbs.setAlignment(Qt.AlignTop | Qt.AlignRight)
        info.addWidget(self.summary, 1)
        info.addWidget(self.thumbs)
        self.body.addLayout(info, 1)

        self.scan: FolderScan | TableScan | None = None
        self._scan_key: tuple | None = None
        self._future: cf.Future | None = None
        self._relay = _Relay(self)
        self._relay.done.connect(self._scan_done)
        self._debounce = QTimer(self, singleShot=True, interval=350)
        self._debounce.timeout.connect(self._start_scan)
        self.path_edit.textChanged.connect(lambda _t: self._path_changed())
        self.group.buttonToggled.connect(lambda _b, on: on and self._source_changed())

        start = choice.source if choice.source in self.source_buttons else "digits"
        if choice.source in ("folder", "csv"):
            self.path_edit.setText(choice.path)
        self.source_buttons[start].setChecked(True)
        self._source_changed()

    # -- state ----------------------------------------------------------------------------------------
    def source(self) -> str:
        return next(k for k, b in self.source_buttons.items() if b.isChecked())

    def _source_changed(self) -> None:
        src = self.source()
        self.path_box.setVisible(src in ("folder", "csv"))
        self.target_row.setVisible(src == "csv")
        self.path_edit.setPlaceholderText(
            "Folder with one subfolder per class (cats/, dogs/)…" if self.need_classes and src == "folder"
            else "Folder of images…" if src == "folder" else "CSV file…")
        self.message.clear()
        self._path_changed(immediate=True)

    def _path_changed(self, immediate: bool = False) -> None:
        self.message.clear()
        if immediate:
            self._start_scan()
        else:
            self._debounce.start()

    def _key(self) -> tuple:
        src = self.source()
        return (src, self.path_edit.text().strip() if src in ("folder", "csv") else "")

    def _start_scan(self) -> None:
        key = self._key()
        if key == self._scan_key:
            return
        self._scan_key, self.scan = key, None
        src, path = key
        self.thumbs.clear()
        self.thumbs.setMinimumSize(0, 0)
        if src in BUILTIN_TEXT:
            self.summary.setText(BUILTIN_TEXT[src][1])
            fn: Callable[[], Any] = lambda: _builtin_thumbnails(src)  # noqa: E731
        elif not path:
            self.summary.setText("Choose a folder with Browse…, or type its path."
                                 if src == "folder" else "Choose a CSV file with Browse…, or type its path.")
            return
        else:
            self.summary.setText("Looking at the files…")
            labels = "auto" if self.need_classes else "none"
            fn = (lambda: scan_folder(path, labels)) if src == "folder" else (lambda: scan_table(path))
        future = in_background(fn)
        self._future = future
        future.add_done_callback(lambda f, k=key: self._relay.deliver(k, f))

    def _scan_done(self, key: tuple, future: cf.Future) -> None:
        if key != self._scan_key:
            return  # an older scan finished after the path changed
        try:
            result = future.result()
        except Exception as exc:  # a scan must never crash the wizard
            self.summary.setText(f"Could not look at the data: {exc}")
            return
        self._show(key[0], result)

    def _show(self, src: str, result: Any) -> None:
        if src in BUILTIN_TEXT:
            if result is not None:
                self._set_thumbs(result)
            return
        self.scan = result
        if isinstance(result, FolderScan):
            self.summary.setText(result.summary() if not result.error else "")
            if result.thumbnails is not None:
                self._set_thumbs(result.thumbnails)
            problem = result.problem(self.need_classes)
        else:
            if not result.error:
                self.summary.setText(f"{result.rows} rows, {len(result.columns)} columns.")
                current = self.target_box.currentText() or self.choice.target
                self.target_box.clear()
                self.target_box.addItems(result.columns)
                pick = current if current in result.columns else result.columns[-1]
                self.target_box.setCurrentText(pick)
            problem = result.problem(self.target_box.currentText())
        self.message.setText(problem)

    def _set_thumbs(self, pixels: Any) -> None:
        pix = pixmap_of(pixels)
        self.thumbs.setPixmap(pix)
        self.thumbs.setMinimumSize(pix.size())

    def wait_for_scan(self) -> None:
        """Finish the pending scan now (Next was pressed before it came back)."""
        self._debounce.stop()
        self._start_scan()
        if self._future is not None and self.scan is None and self._key()[0] not in BUILTIN_TEXT:
            QApplication.setOverrideCursor(Qt.WaitCursor)
            try:
                result = self._future.result()
            finally:
                QApplication.restoreOverrideCursor()
            self._show(self._key()[0], result)

    def _browse(self) -> None:
        if self.source() == "csv":
            path, _ = QFileDialog.getOpenFileName(self, "Choose a CSV file", self.path_edit.text(),
                                                  "CSV files (*.csv *.tsv *.txt);;All files (*)")
        else:
            path = QFileDialog.getExistingDirectory(self, "Choose a folder of images", self.path_edit.text())
        if path:
            self.path_edit.setText(path)

    # -- QWizardPage ----------------------------------------------------------------------------------------
    def validatePage(self) -> bool:  # noqa: N802
        src = self.source()
        if src in BUILTIN_TEXT:
            problem = ""
        else:
            if not self.path_edit.text().strip():
                return self.refuse("Choose a folder first." if src == "folder" else "Choose a CSV file first.")
            self.wait_for_scan()
            if isinstance(self.scan, FolderScan):
                problem = self.scan.problem(self.need_classes)
            elif isinstance(self.scan, TableScan):
                problem = self.scan.problem(self.target_box.currentText())
            else:
                problem = "The data could not be checked; choose it again."
        if not self.refuse(problem):
            return False
        self.choice.source = src
        self.choice.path = self.path_edit.text().strip() if src in ("folder", "csv") else ""
        self.choice.target = self.target_box.currentText() if src == "csv" else ""
        return True

    def data_facts(self) -> dict[str, Any]:
        """What later pages need to know: image channels, classes, training-set size."""
        src = self.source()
        if src == "digits":
            return {"channels": 1, "classes": 10, "images": 1797}
        if src == "shapes":
            return {"channels": 3, "classes": 4, "images": int(self.choice.shapes_count)}
        if isinstance(self.scan, FolderScan):
            return {"channels": 3, "classes": max(2, len(self.scan.classes)), "images": self.scan.estimated_usable()}
        if isinstance(self.scan, TableScan):
            return {"features": max(1, len(self.scan.columns) - 1), "rows": self.scan.rows,
                    "classes": self.scan.classes_per_column.get(self.target_box.currentText(), 2)}
        return {"channels": 3, "classes": 2, "images": 0}


def _builtin_thumbnails(source: str) -> Any:
    """The engine's own preview grid of a built-in dataset (a small slice is enough)."""
    from engine.data.preview import thumbnail_grid

    if source == "digits":
        from engine.data.builtin import load_digits

        data = load_digits(16)
    else:
        from engine.data.shapes import make_shapes

        data = make_shapes(count=64, size=32)
    return thumbnail_grid(data, per_class=6, max_rows=5)


# -- budget ----------------------------------------------------------------------------------------------
class BudgetPage(LoomPage):
    """Epochs or minutes, and early stopping (on by default where the training step supports it)."""

    def __init__(self, budget: Budget, *, train_type: str, early_stopping: bool, estimate: Callable[[Budget], str] | None = None) -> None:
        super().__init__(
            "How long to train",
            "An epoch is one pass over all your training images. More epochs usually help, up to a point.",
        )
        self.budget = budget
        self.estimate = estimate
        self.epochs_radio = QRadioButton("A number of epochs:")
        self.minutes_radio = QRadioButton("A time limit, in minutes:")
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 10000)
        self.epochs.setValue(int(budget.epochs))
        self.minutes = QDoubleSpinBox()
        self.minutes.setRange(0.5, 10080)
        self.minutes.setDecimals(1)
        self.minutes.setSuffix(" min")
        self.minutes.setValue(float(budget.minutes))
        grid = QGridLayout()
        grid.addWidget(self.epochs_radio, 0, 0)
        grid.addWidget(self.epochs, 0, 1)
        grid.addWidget(self.minutes_radio, 1, 0)
        grid.addWidget(self.minutes, 1, 1)
        grid.setColumnStretch(2, 1)
        self.body.addLayout(grid)
        self.minutes_supported = has_param(train_type, "time_budget")
        if not self.minutes_supported:
            self.minutes_radio.setEnabled(False)
            self.minutes.setEnabled(False)
            self.minutes_radio.setToolTip("This training step has no time limit setting yet: choose epochs.")
        self.minutes_radio.setChecked(budget.kind == "minutes" and self.minutes_supported)
        self.epochs_radio.setChecked(not self.minutes_radio.isChecked())
        self.body.addWidget(help_label(
            "With a time limit, training stops gracefully when the time is up and keeps the best model so far."
            if self.minutes_supported else
            "This kind of training has no time limit setting yet: choose a number of epochs "
            "(you can press Stop at any time and keep what was learned)."))
        self.early = QCheckBox("Stop early when the model stops improving on held-out images (recommended)")
        self.early.setChecked(budget.early_stopping)
        self.early_offered = early_stopping and has_param(train_type, "patience")
        self.early.setVisible(self.early_offered)
        self.body.addWidget(self.early)
        self.estimate_label = QLabel()
        self.estimate_label.setWordWrap(True)
        self.body.addWidget(self.estimate_label)
        self.body.addStretch(1)
        for signal in (self.epochs.valueChanged, self.minutes.valueChanged, self.epochs_radio.toggled):
            signal.connect(lambda *_: self._update_estimate())

    def current(self) -> Budget:
        return Budget(
            kind="minutes" if self.minutes_radio.isChecked() else "epochs",
            epochs=self.epochs.value(), minutes=self.minutes.value(),
            early_stopping=self.early_offered and self.early.isChecked(),
            patience=self.budget.patience,
        )

    def initializePage(self) -> None:  # noqa: N802
        self._update_estimate()

    def _update_estimate(self) -> None:
        if self.estimate is not None:
            self.estimate_label.setText(self.estimate(self.current()))

    def validatePage(self) -> bool:  # noqa: N802
        b = self.current()
        if b.kind == "minutes" and b.minutes <= 0:
            return self.refuse("Give a time limit above zero minutes.")
        self.budget.kind, self.budget.epochs, self.budget.minutes = b.kind, b.epochs, b.minutes
        self.budget.early_stopping = b.early_stopping
        return self.refuse("")


# -- review -----------------------------------------------------------------------------------------------
class ReviewPage(LoomPage):
    """What will be built, in words, with the workflow it becomes; Finish builds it and starts the run."""

    def __init__(self) -> None:
        super().__init__("Review",
                         "This is the workflow the wizard will put on the canvas. You can open and change any "
                         "step there later.")
        self.text = QLabel()
        self.text.setObjectName("review")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.RichText)
        self.text.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.body.addWidget(self.text, 1)
        self.start = QCheckBox("Start training as soon as the workflow is on the canvas")
        self.start.setChecked(True)
        self.body.addWidget(self.start)
        self.workflow = None

    def initializePage(self) -> None:  # noqa: N802
        self.message.clear()
        try:
            self.workflow = self.loom_wizard.build_workflow()
        except RecipeError as exc:
            self.workflow = None
            self.text.setText("")
            self.message.setText(str(exc))
            return
        self.text.setText(describe(self.workflow))

    def validatePage(self) -> bool:  # noqa: N802
        if self.workflow is None:
            return self.refuse(self.message.text() or "The workflow could not be built.")
        return True


def describe(workflow) -> str:
    """The workflow in plain words: one line per step with the settings the wizard chose."""
    from engine.steps.registry import get_step

    rows = [f"<p><b>{workflow.name}</b></p><ol>"]
    for node in workflow.nodes:
        spec = get_step(node.type)
        title = spec.title if spec else node.type
        settings = []
        for name, value in node.params.items():
            param = spec.param(name) if spec else None
            unit = f" {param.unit}" if param is not None and getattr(param, "unit", "") else ""
            shown = value if not isinstance(value, str) or len(value) < 48 else "…" + value[-45:]
            settings.append(f"{name} = {shown}{unit}")
        inputs = ", ".join(sorted({lk.source.node for lk in workflow.links_into(node.id)}))
        feed = f" ← {inputs}" if inputs else ""
        rows.append(f"<li><code>{node.id}</code>: {title}{feed}<br><small>{'; '.join(settings) or 'defaults'}</small></li>")
    rows.append("</ol>")
    return "".join(rows)


def bold(label: QLabel) -> QLabel:
    font = QFont(label.font())
    font.setBold(True)
    label.setFont(font)
    return label
