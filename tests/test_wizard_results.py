"""The results page: headline numbers, confusion matrix or sample gallery, and its buttons.

Run folders are written by hand here (the layout is the engine's documented
contract), so these tests cost no training time.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from gui.results import ResultsPage, headline_metrics
from gui.testing import HANG_MS
from gui.wizards.recipes import ClassifyChoices, GenerateChoices, classify_workflow, generate_workflow
from tests.conftest import screenshots_dir  # noqa: E402

pytestmark = pytest.mark.timeout(600)  # a hang (a modal prompt) fails instead of stalling CI
SHOTS = screenshots_dir()


def classifier_run(root: Path) -> Path:
    run = root / "run-classify"
    run.mkdir()
    matrix = [[18, 0, 2], [1, 16, 1], [0, 3, 15]]
    info = {
        "run_id": run.name, "workflow": "Classify built-in digits (fast)", "status": "succeeded",
        "device": "cpu", "duration_s": 42.0,
        "nodes": {
            "train": {"type": "train", "state": "done",
                      "report": {"best_epoch": 7, "val_accuracy": 0.9, "stopped": "early stopping"}},
            "evaluate": {"type": "evaluate", "state": "done",
                         "report": {"accuracy": 0.875, "f1_macro": 0.871, "confusion_matrix": matrix,
                                    "classes": ["a", "b", "c"], "split": "test"}},
        },
        "artifacts": [],
    }
    (run / "run.json").write_text(json.dumps(info))
    (run / "workflow.json").write_text(classify_workflow(ClassifyChoices(preset="fast")).dumps())
    return run


def gan_run(root: Path) -> Path:
    run = root / "run-gan"
    rng = np.random.default_rng(0)
    (run / "train" / "samples").mkdir(parents=True)
    (run / "generate" / "images").mkdir(parents=True)
    for step in (0, 20, 40):
        Image.fromarray(rng.integers(0, 255, (274, 274, 3), dtype=np.uint8)).save(
            run / "train" / "samples" / f"step_{step:06d}.png")
    for i in range(8):
        Image.fromarray(rng.integers(0, 255, (32, 32), dtype=np.uint8)).save(run / "generate" / "images" / f"{i:04d}.png")
    info = {"run_id": run.name, "workflow": "Generate built-in digits (DCGAN)", "status": "succeeded",
            "nodes": {"train": {"type": "train_gan", "state": "done", "report": {"steps": 560}}},
            "artifacts": [{"node": "generate", "kind": "images", "path": "generate/images"}]}
    (run / "run.json").write_text(json.dumps(info))
    return run


def test_headlines_come_from_the_node_reports(tmp_path: Path) -> None:
    info = json.loads((classifier_run(tmp_path) / "run.json").read_text())
    shown = dict(headline_metrics(info))
    assert shown["Accuracy on held-out images"] == "87.5 %"
    assert shown["Best epoch"] == "7" and shown["Training ended"] == "early stopping"


def test_classifier_results_show_the_confusion_matrix(qtbot, tmp_path: Path) -> None:
    page = ResultsPage()
    qtbot.addWidget(page)
    page.resize(1000, 760)
    page.show()
    page.show_run(classifier_run(tmp_path), can_export=False, is_generator=False)
    assert page.visual.currentWidget() is page.confusion
    qtbot.waitUntil(lambda: any(label.text() == "87.5 %" and label.isVisible()
                                for label in page.findChildren(QLabel)), timeout=HANG_MS)
    assert str(tmp_path / "run-classify") in page.files.text()
    assert not page.export_button.isEnabled() and "no export step" in page.export_button.toolTip()
    assert not page.generate_button.isVisibleTo(page)
    page.grab().save(str(SHOTS / "wizard_results_classifier.png"))


def test_gan_results_show_a_gallery(qtbot, tmp_path: Path) -> None:
    page = ResultsPage()
    qtbot.addWidget(page)
    page.show()
    page.show_run(gan_run(tmp_path), can_export=False, is_generator=True)
    assert page.visual.currentWidget() is page.gallery
    shown = [page.gallery_layout.itemAt(i).widget() for i in range(page.gallery_layout.count())]
    boxes = [w for w in shown if w is not None]
    # the first and last sample grids, then a block of the first six generated images
    assert [b.findChildren(QLabel)[-1].text() for b in boxes] == ["train: step 0", "train: step 40", "generated images"]
    assert len([lb for lb in boxes[2].findChildren(QLabel) if lb.pixmap() and not lb.pixmap().isNull()]) == 6
    assert page.generate_button.isVisibleTo(page) and page.generate_button.isEnabled()


@pytest.fixture
def window(wizard_window):
    """The real main window with the wizards installed (tests.conftest.wizard_window)."""
    return wizard_window


def test_results_buttons_open_the_folder_reopen_the_wizard_and_go_back(window, qtbot, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtGui import QDesktopServices

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    controller = window.wizards
    run = classifier_run(tmp_path)
    window.load_workflow(classify_workflow(ClassifyChoices(preset="fast")))
    controller.wizard_runs[str(run)] = "classify"
    controller.show_results(run)
    assert window.pages.currentWidget() is controller.results
    qtbot.mouseClick(controller.results.open_button, Qt.LeftButton)
    assert opened == [str(run)]
    qtbot.mouseClick(controller.results.again_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: controller.wizard is not None and controller.wizard.isVisible(), timeout=HANG_MS)
    assert controller.wizard_kind == "classify"
    controller.wizard.close()
    qtbot.mouseClick(controller.results.back_button, Qt.LeftButton)
    assert window.pages.currentWidget() is window.view


def test_generate_more_opens_a_dialog_and_changes_no_step(window, qtbot, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from gui.generate_dialog import GenerateDialog

    controller = window.wizards
    started = []
    monkeypatch.setattr(window, "start_run", lambda *a, **k: started.append(True))
    window.load_workflow(generate_workflow(GenerateChoices()))
    controller.show_results(gan_run(tmp_path))
    seed = window.doc.workflow.node("generate").params["seed"]
    qtbot.mouseClick(controller.results.generate_button, Qt.LeftButton)
    dialog = window.findChild(GenerateDialog)
    assert dialog is not None and dialog.isVisible()
    # this hand-made run folder has no saved generator: the dialog says so, in words
    qtbot.waitUntil(lambda: "no trained generator" in dialog.message.text(), timeout=HANG_MS)
    assert window.doc.workflow.node("generate").params["seed"] == seed
    assert started == [] and window.pages.currentWidget() is controller.results
    dialog.close()
