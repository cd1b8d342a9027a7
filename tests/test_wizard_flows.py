"""Clicking through the wizards in the real main window, with the mouse only, like an analyst.

Each test starts at the welcome screen, clicks the wizard's own buttons and
fields, and checks what lands on the canvas and that the run starts.  The GAN
test counts clicks from launch to the first sample grid on screen and prints
the time it took (printed, never asserted: waits are for events, with ceilings that only
catch hangs).  Every page is saved as wizard_*.png (see tests.conftest.screenshots_dir).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractButton, QCheckBox, QMessageBox, QRadioButton, QWidget, QWizard

from gui.testing import HANG_MS, stop_run
from tests.conftest import screenshots_dir  # noqa: E402

# A hang (a modal prompt) fails instead of stalling CI; training on a loaded 2-core machine does not.
pytestmark = pytest.mark.timeout(1800)
SHOTS = screenshots_dir()


class Clicker:
    """Left-clicks widgets with qtbot and counts every click."""

    def __init__(self, qtbot) -> None:
        self.qtbot = qtbot
        self.count = 0

    def __call__(self, widget: QWidget) -> None:
        assert widget.isVisible() and widget.isEnabled(), f"cannot click {widget!r}"
        if isinstance(widget, (QRadioButton, QCheckBox)):  # on the indicator, where a person aims
            self.qtbot.mouseClick(widget, Qt.LeftButton, pos=QPoint(8, widget.height() // 2))
        else:
            self.qtbot.mouseClick(widget, Qt.LeftButton)
        self.count += 1

    def type_into(self, widget: QWidget, text: str) -> None:
        self(widget)
        self.qtbot.keyClick(widget, Qt.Key_A, Qt.ControlModifier)
        self.qtbot.keyClicks(widget, text)


def shot(widget: QWidget, name: str) -> None:
    widget.grab().save(str(SHOTS / f"wizard_{name}.png"))


def next_button(wizard) -> QAbstractButton:
    return wizard.button(QWizard.NextButton)


def finish_button(wizard) -> QAbstractButton:
    return wizard.button(QWizard.FinishButton)


@pytest.fixture
def window(wizard_window):
    """The real main window with the wizards installed (tests.conftest.wizard_window)."""
    return wizard_window


def wizard_of(window, qtbot):
    qtbot.waitUntil(lambda: window.wizards.wizard is not None and window.wizards.wizard.isVisible(), timeout=HANG_MS)
    return window.wizards.wizard


def test_gan_wizard_reaches_a_sample_grid_in_six_clicks(qtbot) -> None:
    start = time.perf_counter()
    from gui.main_window import MainWindow
    from gui.wizards import install_wizards

    win = MainWindow(probe_device=False)
    win.ask = lambda *_a, **_k: QMessageBox.Discard
    controller = install_wizards(win)
    qtbot.addWidget(win)
    win.show()
    click = Clicker(qtbot)
    try:
        qtbot.waitUntil(lambda: win.pages.currentWidget() is controller.welcome, timeout=HANG_MS)
        shot(win, "welcome")
        click(controller.welcome.door_buttons["generate"])
        wiz = wizard_of(win, qtbot)
        pages = [wiz.data_page, wiz.resolution_page, wiz.model_page, wiz.budget_page]
        for page, name in zip(pages, ("gan_1_data", "gan_2_resolution", "gan_3_model", "gan_4_budget"), strict=True):
            assert wiz.currentPage() is page
            if page is wiz.data_page:
                qtbot.waitUntil(lambda: wiz.data_page.thumbs.pixmap() is not None
                                and not wiz.data_page.thumbs.pixmap().isNull(), timeout=HANG_MS)
            shot(wiz, name)
            click(next_button(wiz))
        assert wiz.currentPage() is wiz.review_page
        shot(wiz, "gan_5_review")
        click(finish_button(wiz))

        wf = win.doc.workflow
        assert {n.id: n.type for n in wf.nodes} == {"data": "digits", "preprocess": "normalize", "model": "dcgan",
                                                    "train": "train_gan", "generate": "generate"}
        assert ("model.model", "train.model") in {(str(lk.source), str(lk.target)) for lk in wf.links}
        assert win.runs.active, "Finish starts the run"
        preview = win.dashboard.preview
        assert win.dashboard.tabs.currentWidget() is preview, "the dashboard opens on the sample preview"
        qtbot.waitUntil(lambda: preview.current_stream.startswith("train") and len(preview.frames()) >= 1,
                        timeout=HANG_MS)
        elapsed = time.perf_counter() - start
        assert preview.current_stream.startswith("train")
        assert not preview.current_image().isNull()
        assert click.count <= 6
        print(f"\nlaunch -> first GAN sample grid: {click.count} clicks, {elapsed:.1f} s")
        shot(win, "gan_running")
    finally:
        if win.runs.active:
            stop_run(win, qtbot)
        win.doc.undo_stack.setClean()


def test_classify_wizard_fast_preset_one_epoch(window, qtbot, tmp_path: Path) -> None:
    click = Clicker(qtbot)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.wizards.welcome, timeout=HANG_MS)
    click(window.wizards.welcome.door_buttons["classify"])
    wiz = wizard_of(window, qtbot)
    assert wiz.data_page.source_buttons["digits"].isChecked()
    qtbot.waitUntil(lambda: not wiz.data_page.thumbs.pixmap().isNull(), timeout=HANG_MS)
    shot(wiz, "classify_1_data")
    click(next_button(wiz))
    page = wiz.preset_page
    click(page.buttons["fast"])
    qtbot.waitUntil(lambda: "on this" in page.times["fast"].text(), timeout=HANG_MS)
    qtbot.wait(50)
    shot(wiz, "classify_2_model")
    click(next_button(wiz))
    budget = wiz.budget_page
    assert budget.early.isChecked(), "early stopping is on by default"
    click.type_into(budget.epochs, "1")
    shot(wiz, "classify_3_budget")
    click(next_button(wiz))
    # Back keeps choices
    click(wiz.button(QWizard.BackButton))
    assert budget.epochs.value() == 1
    click(next_button(wiz))
    shot(wiz, "classify_4_review")
    click(finish_button(wiz))

    wf = window.doc.workflow
    assert {n.id: n.type for n in wf.nodes} == {"data": "digits", "preprocess": "normalize", "model": "cnn",
                                                "train": "train", "evaluate": "evaluate"}
    assert wf.node("train").params["epochs"] == 1 and wf.node("model").params["width"] == 16
    assert window.runs.active, "Finish starts the run"
    # one epoch of the small CNN: the run ends on the results page
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.wizards.results, timeout=HANG_MS)
    results = window.wizards.results
    results_dir = results.run_dir
    assert results.info["status"] == "succeeded" and results.visual.currentWidget() is results.confusion
    qtbot.wait(50)
    shot(window, "classify_results")

    # Export model: a dialog writes the run's saved weights as files; no step joins the workflow, no run starts
    from gui.export_dialog import ExportDialog

    assert results.export_button.isEnabled()
    click(results.export_button)
    dialog = window.findChild(ExportDialog)
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=HANG_MS)
    dialog.dest_edit.setText(str(tmp_path / "export"))
    click(dialog.export_button)
    qtbot.waitUntil(lambda: bool(dialog.written), timeout=HANG_MS)
    assert (tmp_path / "export" / "model_card.json").is_file() and (tmp_path / "export" / "model.onnx").is_file()
    assert "export" not in {n.id for n in window.doc.workflow.nodes} and not window.runs.active
    assert window.wizards.results.run_dir == results_dir
    dialog.close()

    # the wizard remembers the last choices
    from gui.wizards.classify import ClassifyWizard

    again = ClassifyWizard()
    qtbot.addWidget(again)
    assert again.preset_page.buttons["fast"].isChecked() and again.budget_page.epochs.value() == 1


def test_finetune_wizard_from_a_weights_file(window, qtbot, tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    from engine.models import ModelSpec, build_model, model_facts

    weights = tmp_path / "resnet.safetensors"
    model = build_model(ModelSpec("resnet18", {"weights": "none", "freeze": "none", "train_blocks": 1,
                                               "input_size": 0, "dropout": 0.0}), model_facts((3, 32, 32), 10))
    save_file({k: v.contiguous() for k, v in model.state_dict().items() if isinstance(v, torch.Tensor)}, str(weights))

    click = Clicker(qtbot)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.wizards.welcome, timeout=HANG_MS)
    click(window.wizards.welcome.door_buttons["finetune"])
    wiz = wizard_of(window, qtbot)
    src = wiz.source_page
    shot(wiz, "finetune_1_source")
    click(src.buttons["file"])
    click(next_button(wiz))
    assert wiz.currentPage() is src and "existing weights file" in src.message.text()
    click.type_into(src.file_edit, str(weights))
    click(next_button(wiz))
    assert wiz.currentPage() is wiz.data_page
    shot(wiz, "finetune_2_data")
    click(next_button(wiz))
    click(wiz.freeze_page.buttons["backbone"])
    shot(wiz, "finetune_3_freeze")
    click(next_button(wiz))
    click.type_into(wiz.budget_page.epochs, "1")
    shot(wiz, "finetune_4_budget")
    click(next_button(wiz))
    shot(wiz, "finetune_5_review")
    click(finish_button(wiz))

    wf = window.doc.workflow
    model_node = wf.node("model")
    assert model_node.type == "resnet18"
    assert model_node.params["weights"] == str(weights) and model_node.params["freeze"] == "backbone"
    assert ("model.model", "train.model") in {(str(lk.source), str(lk.target)) for lk in wf.links}
    assert window.runs.active
    stop_run(window, qtbot)


@pytest.mark.parametrize("layout,expected", [
    ("empty", "is empty"),
    ("one_class", "only one class (cats)"),
    ("not_images", "no usable images"),
])
def test_data_page_refuses_a_bad_folder(qtbot, tmp_path: Path, layout: str, expected: str) -> None:
    from PIL import Image

    from gui.wizards.classify import ClassifyWizard

    folder = tmp_path / layout
    folder.mkdir()
    if layout == "one_class":
        (folder / "cats").mkdir()
        for i in range(6):
            Image.new("RGB", (10, 10), (i * 30, 0, 0)).save(folder / "cats" / f"{i}.png")
    elif layout == "not_images":
        (folder / "a").mkdir()
        (folder / "a" / "notes.txt").write_text("hello")
        (folder / "a" / "photo.png").write_bytes(b"not really a png")
    wiz = ClassifyWizard()
    qtbot.addWidget(wiz)
    wiz.show()
    click = Clicker(qtbot)
    page = wiz.data_page
    click(page.source_buttons["folder"])
    click(next_button(wiz))
    assert wiz.currentPage() is page and "Choose a folder" in page.message.text()
    click.type_into(page.path_edit, str(folder))
    click(next_button(wiz))  # the folder is still being looked at: the page waits for the check
    qtbot.waitUntil(lambda: expected in page.message.text(), timeout=HANG_MS)
    assert wiz.currentPage() is page, "Next is refused"
    if layout == "one_class":
        shot(wiz, "refuses_one_class")


def test_next_during_a_folder_check_goes_on_by_itself_when_the_folder_is_good(qtbot, tmp_path: Path) -> None:
    from PIL import Image

    from gui.wizards.classify import ClassifyWizard

    for label, colour in (("cats", (200, 40, 40)), ("dogs", (40, 40, 200))):
        (tmp_path / label).mkdir()
        for i in range(12):
            Image.new("RGB", (16, 16), (colour[0], i * 20, colour[2])).save(tmp_path / label / f"{i}.png")
    wiz = ClassifyWizard()
    qtbot.addWidget(wiz)
    wiz.show()
    click = Clicker(qtbot)
    page = wiz.data_page
    click(page.source_buttons["folder"])
    click.type_into(page.path_edit, str(tmp_path))
    click(next_button(wiz))  # before the scan has even started: the wizard does not freeze on it
    assert wiz.currentPage() is page and page.message.text() == ""
    assert "goes on by itself" in page.summary.text()
    qtbot.waitUntil(lambda: wiz.currentPage() is wiz.preset_page, timeout=HANG_MS)
    assert page.scan.classes == ["cats", "dogs"]
    assert wiz.choices.data.path == str(tmp_path)


def test_welcome_opens_an_example_and_comes_back_on_an_empty_canvas(window, qtbot) -> None:
    welcome = window.wizards.welcome
    qtbot.waitUntil(lambda: window.pages.currentWidget() is welcome, timeout=HANG_MS)
    assert welcome.examples.count() >= 1
    titles = [welcome.examples.item(i).text() for i in range(welcome.examples.count())]
    welcome.examples.setCurrentRow(titles.index(next(t for t in titles if "GAN" in t)))
    qtbot.mouseClick(welcome.open_example, Qt.LeftButton)
    assert window.pages.currentWidget() is window.view
    assert any(n.type == "train_gan" for n in window.doc.workflow.nodes)
    window.new_workflow()  # File > New: an empty canvas shows the welcome screen again
    qtbot.waitUntil(lambda: window.pages.currentWidget() is welcome, timeout=HANG_MS)
    window.wizards.actions["classify"].trigger()  # the Start menu opens the same wizards
    assert wizard_of(window, qtbot).windowTitle() == "Classify images"


def test_classify_wizard_with_a_csv_table(qtbot, tmp_path: Path) -> None:
    from gui.wizards.classify import ClassifyWizard

    table = tmp_path / "flowers.csv"
    table.write_text("petal,sepal,colour,kind\n" + "".join(
        f"{i % 7 + 1}.{i % 3},{i % 5 + 2}.5,{'red' if i % 2 else 'blue'},{'ab'[i % 2]}\n" for i in range(40)))
    wiz = ClassifyWizard()
    qtbot.addWidget(wiz)
    wiz.show()
    click = Clicker(qtbot)
    page = wiz.data_page
    click(page.source_buttons["csv"])
    click.type_into(page.path_edit, str(table))
    qtbot.waitUntil(lambda: page.target_box.count() == 4, timeout=HANG_MS)
    assert page.target_box.currentText() == "kind"  # the last column is the usual place for the class
    assert "40 rows, 4 columns" in page.summary.text()
    click(next_button(wiz))
    assert wiz.currentPage() is wiz.preset_page
    assert "dense network" in wiz.preset_page.buttons["balanced"].text()
    click(next_button(wiz))
    click(next_button(wiz))
    wf = wiz.review_page.workflow
    assert {n.id: n.type for n in wf.nodes} == {"data": "csv_table", "model": "mlp", "train": "train",
                                                "evaluate": "evaluate"}
    assert wf.node("data").params == {"path": str(table), "target": "kind"}
    wiz.close()
