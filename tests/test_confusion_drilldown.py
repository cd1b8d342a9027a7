"""The confusion matrix drill-down: every cell keeps its samples, and clicking one shows them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel

from engine.errors import UserInputError
from gui.testing import HANG_MS
from tests.conftest import screenshots_dir

pytestmark = pytest.mark.timeout(600)
SHOTS = screenshots_dir()


def test_the_evaluate_step_keeps_each_cells_samples(digits_run: Path) -> None:
    from engine.training.cells import read_cell, read_mistakes

    folder = digits_run / "evaluate"
    report = json.loads((digits_run / "run.json").read_text())["nodes"]["evaluate"]["report"]
    matrix = report["confusion_matrix"]
    with (folder / "predictions.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == report["samples"]
    cell = read_cell(folder, "3", "3")
    assert cell.count == matrix[3][3] == len(cell.items)
    assert all(item.image is not None and item.image.shape == (16, 16, 1) for item in cell.items)
    assert [i.confidence for i in cell.items] == sorted((i.confidence for i in cell.items), reverse=True)
    wrong = [(t, p) for t in range(10) for p in range(10) if t != p and matrix[t][p]]
    mistakes = read_mistakes(folder, 16)
    assert len(mistakes) == sum(matrix[t][p] for t, p in wrong)
    assert {(int(m.true), int(m.predicted)) for m in mistakes} == set(wrong)
    with pytest.raises(UserInputError, match="no class named"):
        read_cell(folder, "3", "eleven")


def test_clicking_a_confusion_cell_shows_that_cells_test_images(qtbot, digits_run: Path) -> None:
    from PySide6.QtCore import Qt

    from gui.dashboard.cells import CellDialog
    from gui.results import ResultsPage

    page = ResultsPage()
    qtbot.addWidget(page)
    page.resize(1280, 900)
    page.show()
    page.show_run(digits_run, can_export=True, is_generator=False)
    view = page.confusion
    matrix = view.matrix
    true, predicted = next((t, p) for t in range(10) for p in range(10) if t != p and matrix[t][p])
    with qtbot.waitSignal(view.cell_clicked, timeout=HANG_MS) as clicked:
        qtbot.mouseClick(view, Qt.LeftButton, pos=view.cell_center(true, predicted).toPoint())
    assert clicked.args == [str(true), str(predicted)]
    dialog = view.dialogs[-1]
    assert isinstance(dialog, CellDialog) and not dialog.isModal()
    qtbot.waitUntil(lambda: dialog.cell is not None, timeout=HANG_MS)
    assert dialog.cell.count == matrix[true][predicted] == len(dialog.tiles.captions)
    assert all(c.startswith(f"{true} → {predicted}") for c in dialog.tiles.captions)
    assert f"class <b>{true}</b> predicted as <b>{predicted}</b> (wrong)" in dialog.heading.text()
    dialog.grab().save(str(SHOTS / "confusion_cell.png"))
    with qtbot.waitSignal(view.cell_clicked, timeout=HANG_MS):
        qtbot.mouseClick(view, Qt.LeftButton, pos=view.cell_center(0, 0).toPoint())
    qtbot.waitUntil(lambda: view.dialogs[-1].cell is not None, timeout=HANG_MS)
    assert len(view.dialogs[-1].tiles.captions) == matrix[0][0]


def test_the_dashboard_confusion_tab_drills_down_too(qtbot, digits_run: Path) -> None:
    from PySide6.QtCore import Qt

    from gui.dashboard.panel import Dashboard

    dash = Dashboard()
    qtbot.addWidget(dash)
    dash.resize(1000, 700)
    dash.show()
    dash.load_run(digits_run)
    assert dash.confusion.folder == digits_run / "evaluate"
    dash.tabs.setCurrentWidget(dash.confusion)
    with qtbot.waitSignal(dash.confusion.cell_clicked, timeout=HANG_MS):
        qtbot.mouseClick(dash.confusion, Qt.LeftButton, pos=dash.confusion.cell_center(1, 1).toPoint())
    qtbot.waitUntil(lambda: dash.confusion.dialogs[-1].cell is not None, timeout=HANG_MS)
    assert dash.confusion.dialogs[-1].cell.true == "1"


def test_the_results_page_shows_the_surest_mistakes_large(qtbot, digits_run: Path) -> None:
    from gui.dashboard.cells import TILE
    from gui.results import ResultsPage

    page = ResultsPage()
    qtbot.addWidget(page)
    page.show()
    page.show_run(digits_run, can_export=True, is_generator=False)
    qtbot.waitUntil(lambda: bool(page.mistakes.items) or "No mistakes" in page.mistakes.heading.text(),
                    timeout=HANG_MS)
    confidences = [m.confidence for m in page.mistakes.items]
    assert confidences == sorted(confidences, reverse=True)
    pictures = [lb.pixmap() for lb in page.mistakes.tiles.findChildren(QLabel) if not lb.pixmap().isNull()]
    assert len(pictures) == len(page.mistakes.items) and all(p.width() >= TILE for p in pictures)
    captions = [lb.text() for lb in page.mistakes.tiles.findChildren(QLabel) if lb.objectName() == "caption"]
    assert captions == [m.caption for m in page.mistakes.items]


def test_a_text_confusion_cell_shows_its_texts(text_run: Path) -> None:
    from engine.training.cells import read_cell

    report = json.loads((text_run / "run.json").read_text())["nodes"]["evaluate"]["report"]
    cell = read_cell(text_run / "evaluate", "sport", "sport")
    assert cell.count == report["confusion_matrix"][0][0] and cell.items
    assert all(item.image is None and item.text for item in cell.items)
    assert not (text_run / "evaluate" / "cells.safetensors").exists()
