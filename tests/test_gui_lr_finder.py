"""*Find learning rate…* on a train step: the curve and the suggestion shown, applied as one undoable edit."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QPushButton  # noqa: E402

from engine.workflow import Workflow  # noqa: E402
from gui.paths import examples_dir  # noqa: E402
from gui.testing import HANG_MS, make_window  # noqa: E402
from tests.conftest import screenshots_dir  # noqa: E402

FINDER_MS = max(HANG_MS, 180_000)  # a hang guard only: the test waits on the dialog's state, never on a clock


@pytest.fixture
def window(qtbot):
    w = make_window(qtbot)
    w.load_workflow(Workflow.load(examples_dir() / "classify_digits.json"))
    return w


def open_finder(window, qtbot, node: str = "train"):
    window.scene.select_nodes([node])
    button = window.inspector.findChild(QPushButton, "find_lr_button")
    assert button is not None and button.text() == "Find learning rate…"
    qtbot.mouseClick(button, Qt.LeftButton)
    dialog = window.inspector.lr_finder
    assert dialog.isVisible()
    return dialog


def test_the_button_shows_on_train_steps_only(window):
    window.scene.select_nodes(["evaluate"])
    assert window.inspector.findChild(QPushButton, "find_lr_button") is None
    window.scene.select_nodes(["model"])
    assert window.inspector.findChild(QPushButton, "find_lr_button") is None
    window.scene.select_nodes(["train"])
    assert window.inspector.findChild(QPushButton, "find_lr_button") is not None
    window.inspector.grab().save(str(screenshots_dir() / "lr_finder_button.png"))


def test_the_curve_is_shown_and_apply_is_one_undoable_edit(window, qtbot):
    doc = window.doc
    edits_before = doc.undo_stack.count()
    dialog = open_finder(window, qtbot)
    assert dialog.state == "running" and not dialog.apply_button.isEnabled()
    assert doc.workflow.node("train").params["lr"] == 0.001, "nothing changes while the test runs"
    qtbot.waitUntil(lambda: dialog.state != "running", timeout=FINDER_MS)
    assert dialog.state == "done", dialog.message.text()

    result = dialog.result
    plot = dialog.plot
    assert plot is not None and plot.isVisible()
    assert dialog.suggestion_line in plot.getPlotItem().items
    assert dialog.suggestion_line.value() == pytest.approx(math.log10(result.suggestion))
    assert plot.getPlotItem().getAxis("bottom").logMode, "the learning rate is on a log axis"
    assert float(dialog.value.text()) == result.suggestion
    assert f"Suggested: {result.suggestion:g}" in dialog.message.text()
    dialog.grab().save(str(screenshots_dir() / "lr_finder_light.png"))

    qtbot.mouseClick(dialog.apply_button, Qt.LeftButton)
    assert doc.workflow.node("train").params["lr"] == result.suggestion
    assert doc.undo_stack.count() == edits_before + 1, "Apply is one edit"
    assert float(window.inspector.fields["lr"].edit.text()) == result.suggestion, "the form shows the new rate"
    doc.undo_stack.undo()
    assert doc.workflow.node("train").params["lr"] == 0.001, "one Ctrl+Z restores the old rate"


def test_an_edited_value_is_checked_and_applied(window, qtbot):
    dialog = open_finder(window, qtbot)
    qtbot.waitUntil(lambda: dialog.state != "running", timeout=FINDER_MS)
    assert dialog.state == "done", dialog.message.text()
    dialog.value.clear()
    qtbot.keyClicks(dialog.value, "99")
    assert not dialog.apply_button.isEnabled()
    assert dialog.message.text().startswith("train.lr: ") and "10" in dialog.message.text()
    dialog.value.clear()
    qtbot.keyClicks(dialog.value, "0.002")
    assert dialog.apply_button.isEnabled()
    dialog.apply()
    assert window.doc.workflow.node("train").params["lr"] == 0.002


def test_cancel_changes_nothing(window, qtbot):
    doc = window.doc
    edits_before = doc.undo_stack.count()
    dialog = open_finder(window, qtbot)
    control = dialog.control
    dialog.grab().save(str(screenshots_dir() / "lr_finder_busy.png"))
    qtbot.mouseClick(dialog.cancel_button, Qt.LeftButton)
    assert control.stop_requested, "the background test is asked to stop"
    assert doc.undo_stack.count() == edits_before
    assert doc.workflow.node("train").params["lr"] == 0.001


def test_a_missing_data_folder_is_said_in_words(qtbot, tmp_path):
    window = make_window(qtbot)
    flow = Workflow.load(examples_dir() / "classify_folder.json")
    flow.node("data").params["path"] = str(tmp_path / "gone")
    window.load_workflow(flow)
    dialog = open_finder(window, qtbot)
    qtbot.waitUntil(lambda: dialog.state != "running", timeout=FINDER_MS)
    assert dialog.state == "failed"
    text = dialog.busy_label.text()
    assert text.startswith("The test could not start: node 'data', param 'path': ") and "gone" in text
    assert dialog.cancel_button.text() == "Close"
    assert "Traceback" not in text and not dialog.apply_button.isEnabled()
    dialog.grab().save(str(screenshots_dir() / "lr_finder_error.png"))


def test_dark_theme_screenshot(window, qtbot):
    window.set_theme("dark")
    try:
        dialog = open_finder(window, qtbot)
        qtbot.waitUntil(lambda: dialog.state != "running", timeout=FINDER_MS)
        assert dialog.state == "done", dialog.message.text()
        assert dialog.plot.backgroundBrush().color().name() == "#1b1d22"
        dialog.grab().save(str(screenshots_dir() / "lr_finder_dark.png"))
    finally:
        window.set_theme("light")
