"""The text data page: built-in texts, a CSV of texts or a folder of .txt files, checked before Next.

A CSV's header is read in the background (:mod:`gui.tasks`) as soon as its
path is typed, and the page offers its columns: tick the column(s) holding
the texts, pick the one holding the class.  A folder gets a quick background
look (classes and text files counted from names and sizes, see
:mod:`gui.wizards.text_scan`).  As on the image data page, Next never
freezes on a check still running: the page says it is still looking and goes
on by itself once the check passes, or refuses in its red message line with
the reason the run would refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QWidget,
)

from gui.wizards.checked import CheckedSourcePage
from gui.wizards.text_recipes import TextDataChoice, column_names
from gui.wizards.text_scan import TextFolderScan, TextTableScan, scan_text_folder, scan_text_table

SOURCE_TITLES = {"csv": "A CSV file (one text per row, a column with its class)", "folder": ""}


class TextDataPage(CheckedSourcePage):
    """Built-in texts, a CSV file (labelled only) or a folder; CSVs and folders are checked before Next."""

    looking = "Looking at the texts…"
    unchecked = "The texts could not be checked; choose them again."

    def __init__(self, choice: TextDataChoice, *, labelled: bool, builtin: tuple[str, str], subtitle: str) -> None:
        super().__init__("Your texts", subtitle)
        self.choice = choice
        self.labelled = labelled
        self.builtin_text = builtin[1]
        self.group = QButtonGroup(self)
        self.source_buttons: dict[str, QRadioButton] = {}
        titles = {"builtin": builtin[0], "csv": SOURCE_TITLES["csv"],
                  "folder": "A folder with one subfolder of .txt files per class (pos/, neg/)" if labelled
                  else "A folder of my own .txt files"}
        for key in ("builtin", "csv", "folder") if labelled else ("builtin", "folder"):
            button = QRadioButton(titles[key])
            button.setObjectName(f"source_{key}")
            self.group.addButton(button)
            self.source_buttons[key] = button
            self.body.addWidget(button)

        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("path")
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._browse)
        self.path_box = QWidget()
        path_row = QHBoxLayout(self.path_box)
        path_row.setContentsMargins(24, 0, 0, 0)
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse)
        self.body.addWidget(self.path_box)

        self.columns = QListWidget()  # tick the text column(s)
        self.columns.setObjectName("text_columns")
        self.columns.setMaximumHeight(110)
        self.label_box = QComboBox()
        self.label_box.setObjectName("label")
        self.csv_box = QWidget()
        form = QFormLayout(self.csv_box)
        form.setContentsMargins(24, 0, 0, 0)
        form.addRow("Column(s) with the texts:", self.columns)
        form.addRow("Column with the class:", self.label_box)
        self.body.addWidget(self.csv_box)

        self.summary = QLabel()
        self.summary.setObjectName("summary")
        self.summary.setWordWrap(True)
        self.summary.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.body.addWidget(self.summary, 1)

        self._filling = False  # the column widgets are being filled from a scan: not the analyst's edits
        self.init_checks()
        self.group.buttonToggled.connect(lambda _b, on: on and self._source_changed())
        self.columns.itemChanged.connect(lambda _i: self._columns_changed())
        self.label_box.currentTextChanged.connect(lambda _t: self._columns_changed())

        start = choice.source if choice.source in self.source_buttons else "builtin"
        if start != "builtin":
            self.path_edit.setText(choice.path)
        self.source_buttons[start].setChecked(True)
        self._source_changed()

    # -- state ----------------------------------------------------------------------------------------
    def source(self) -> str:
        return next(k for k, b in self.source_buttons.items() if b.isChecked())

    def text_columns(self) -> list[str]:
        return [self.columns.item(i).text() for i in range(self.columns.count())
                if self.columns.item(i).checkState() == Qt.Checked]

    def label(self) -> str:
        return self.label_box.currentText()

    def _source_changed(self) -> None:
        src = self.source()
        self.path_box.setVisible(src != "builtin")
        self.csv_box.setVisible(src == "csv")
        self.path_edit.setPlaceholderText("CSV file…" if src == "csv" else "Folder…")
        self.path_changed(immediate=True)

    def needs_path(self, src: str) -> bool:
        return src != "builtin"

    def check_for(self, src: str, path: str) -> Callable[[], Any] | None:
        if src == "builtin":
            self.summary.setText(self.builtin_text)
            return None
        if not path:
            self.summary.setText("Choose a CSV file with Browse…, or type its path." if src == "csv"
                                 else "Choose a folder with Browse…, or type its path.")
            return None
        self.summary.setText("Looking at the file…" if src == "csv" else "Looking at the folder…")
        labelled = self.labelled
        return (lambda: scan_text_table(path)) if src == "csv" else (lambda: scan_text_folder(path, labelled))

    def show_result(self, src: str, result: TextTableScan | TextFolderScan) -> None:
        self.scan = result
        if isinstance(result, TextTableScan):
            self._fill_columns(result)
        self.summary.setText(result.summary() if not result.error else "")
        self.message.setText(self.problem())

    def _fill_columns(self, scan: TextTableScan) -> None:
        """Offer the header's columns; keep the analyst's earlier picks where they still exist, else guess."""
        wanted_label = self.label() or self.choice.label
        label = wanted_label if wanted_label in scan.columns else scan.guess_label()
        wanted = [c for c in (self.text_columns() or column_names(self.choice.text_columns)) if c in scan.columns]
        texts = [c for c in wanted if c != label] or scan.guess_text(label)
        self._filling = True
        try:
            self.columns.clear()
            self.label_box.clear()
            for name in scan.columns:
                item = QListWidgetItem(name)
                item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsUserCheckable)
                item.setCheckState(Qt.Checked if name in texts else Qt.Unchecked)
                self.columns.addItem(item)
            self.label_box.addItems(scan.columns)
            self.label_box.setCurrentText(label)
        finally:
            self._filling = False

    def _columns_changed(self) -> None:
        if not self._filling and isinstance(self.scan, TextTableScan):
            self.message.setText(self.problem())

    def problem(self) -> str:
        """Why Next must refuse the current choice (empty text when it may go on)."""
        if isinstance(self.scan, TextTableScan):
            return self.scan.problem(self.text_columns(), self.label())
        if isinstance(self.scan, TextFolderScan):
            return self.scan.problem()
        return self.unchecked

    def _browse(self) -> None:
        if self.source() == "csv":
            path, _ = QFileDialog.getOpenFileName(self, "Choose a CSV file", self.path_edit.text(),
                                                  "CSV files (*.csv *.tsv *.txt);;All files (*)")
        else:
            path = QFileDialog.getExistingDirectory(self, "Choose a folder of text files", self.path_edit.text())
        if path:
            self.path_edit.setText(path)

    def prompt(self) -> str:
        """The first words of the chosen corpus (a folder), for the samples to continue; '' for built-in texts."""
        return self.scan.prompt if isinstance(self.scan, TextFolderScan) and self.source() == "folder" else ""

    # -- QWizardPage ----------------------------------------------------------------------------------------
    def validatePage(self) -> bool:  # noqa: N802
        src = self.source()
        if src != "builtin":
            if not self.path_edit.text().strip():
                return self.refuse("Choose a CSV file first." if src == "csv" else "Choose a folder first.")
            if self.still_checking():
                return False
            if not self.refuse(self.problem()):
                return False
        self.choice.source = src
        self.choice.path = self.path_edit.text().strip() if src != "builtin" else ""
        if src == "csv":
            self.choice.text_columns = ", ".join(self.text_columns())
            self.choice.label = self.label()
        return self.refuse("")
