"""The data page: built-in data, a folder of images or a CSV table, checked before Next.

A folder is scanned in the background (:mod:`gui.tasks`) as soon as its path
is typed (counts per class, thumbnails, the cleaning report, see
:mod:`gui.wizards.scan`).  Next never freezes the wizard on a scan still
running: the page says it is still looking and moves on by itself once the
check passes, or refuses with the problem in words when the data cannot
train what the wizard builds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from gui.wizards.checked import CheckedSourcePage
from gui.wizards.pages import pixmap_of
from gui.wizards.recipes import DataChoice, has_param
from gui.wizards.scan import FolderScan, TableScan, scan_folder, scan_table

SHOWN_SKIPPED = 3  # skipped files named in the summary; Show all lists the rest

BUILTIN_TEXT = {
    "digits": ("Built-in handwritten digits",
               "1,797 small pictures of the digits 0–9 (10 classes), shipped with Loom: no download."),
    "shapes": ("Built-in coloured shapes",
               "Circles, squares, triangles and stars drawn on varied backgrounds (4 classes): no download."),
}


class DataPage(CheckedSourcePage):
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
        self.show_all = QPushButton("Show all skipped files…")
        self.show_all.setObjectName("show_all_skipped")
        self.show_all.setToolTip("Every file the run will skip, with the reason")
        self.show_all.clicked.connect(self.show_skipped)
        self.show_all.hide()
        column = QVBoxLayout()
        column.addWidget(self.summary)
        column.addWidget(self.show_all, 0, Qt.AlignLeft)  # right under the list it completes
        column.addStretch(1)
        info.addLayout(column, 1)
        info.addWidget(self.thumbs)
        self.body.addLayout(info, 1)

        self.init_checks()
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
        self.show_all.hide()
        self.path_changed(immediate=True)

    def needs_path(self, src: str) -> bool:
        return src in ("folder", "csv")

    def check_for(self, src: str, path: str) -> Callable[[], Any] | None:
        self.thumbs.clear()
        self.thumbs.setMinimumSize(0, 0)
        if src in BUILTIN_TEXT:
            self.summary.setText(BUILTIN_TEXT[src][1])
            return lambda: _builtin_thumbnails(src)
        if not path:
            self.summary.setText("Choose a folder with Browse…, or type its path."
                                 if src == "folder" else "Choose a CSV file with Browse…, or type its path.")
            return None
        self.summary.setText("Looking at the files…")
        labels = "auto" if self.need_classes else "none"
        return (lambda: scan_folder(path, labels)) if src == "folder" else (lambda: scan_table(path))

    def show_result(self, src: str, result: Any) -> None:
        if src in BUILTIN_TEXT:
            if result is not None:
                self._set_thumbs(result)
            return
        self.scan = result
        self.show_all.setVisible(isinstance(result, FolderScan) and len(result.skipped) > SHOWN_SKIPPED)
        if isinstance(result, FolderScan):
            self.summary.setText(result.summary(SHOWN_SKIPPED) if not result.error else "")
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

    def show_skipped(self) -> QMessageBox | None:
        """Every file the folder check found unusable, with its reason (non-modal; returns the box)."""
        if not isinstance(self.scan, FolderScan) or not self.scan.skipped:
            return None
        n = len(self.scan.skipped)
        box = QMessageBox(QMessageBox.Information, "Files that will be skipped",
                          f"{n} file{'s' if n != 1 else ''} in {self.scan.root} will be skipped — "
                          "open Show Details for the list.", QMessageBox.Ok, self)
        box.setDetailedText(self.scan.skipped_text())
        box.open()
        return box

    def _set_thumbs(self, pixels: Any) -> None:
        pix = pixmap_of(pixels)
        self.thumbs.setPixmap(pix)
        self.thumbs.setMinimumSize(pix.size())

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
            if self.still_checking():
                return False
            if isinstance(self.scan, FolderScan):
                problem = self.scan.problem(self.need_classes)
            elif isinstance(self.scan, TableScan):
                problem = self.scan.problem(self.target_box.currentText())
            else:
                problem = self.unchecked
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


