"""Small truths (issue 17, item 7): *Save As* renames the workflow, so its runs are named after it;
*Start with an empty canvas* gives an empty canvas (after offering to save unsaved edits)."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

pytest.importorskip("pytestqt")

from engine.run_index import RunIndex  # noqa: E402
from gui.run_control import RunPhase  # noqa: E402
from gui.testing import HANG_MS, small_example  # noqa: E402


def answer_save_dialog(monkeypatch, path) -> None:
    monkeypatch.setattr("gui.window_files.QFileDialog.getSaveFileName",
                        lambda *_a, **_k: (str(path) if path else "", ""))


def test_save_as_names_the_workflow_and_its_next_run_after_the_file(window, qtbot, tmp_path, monkeypatch):
    window.load_workflow(small_example("classify_digits", train={"epochs": 1}))
    assert window.doc.workflow.name == "Classify digits (MLP)"
    target = tmp_path / "my digits.json"
    answer_save_dialog(monkeypatch, target)
    assert window.save_as()
    assert window.doc.workflow.name == "my digits"
    assert json.loads(target.read_text())["name"] == "my digits"
    assert not window.doc.dirty and window.doc.path == target
    assert "my digits.json" in window.windowTitle()

    handle = window.start_run()  # into the default runs folder: named by the workflow
    assert handle is not None
    qtbot.waitUntil(lambda: window.runs.state == RunPhase.IDLE, timeout=HANG_MS)
    assert handle.run_dir.name.endswith("-my-digits")
    listed = [r for r in RunIndex().list() if r["run_dir"] == str(handle.run_dir.resolve())]
    assert [r["workflow"] for r in listed] == ["my digits"]


def test_plain_save_and_a_cancelled_save_as_keep_the_name(window, tmp_path, monkeypatch):
    window.load_workflow(small_example("classify_digits"))
    answer_save_dialog(monkeypatch, None)  # the analyst cancels the dialog
    assert not window.save_as()
    assert window.doc.workflow.name == "Classify digits (MLP)"
    answer_save_dialog(monkeypatch, tmp_path / "digits.json")
    assert window.save_as()
    window.doc.workflow.name = "Renamed by hand"
    assert window.save()  # Save keeps whatever name the workflow has; only Save As takes the file's
    assert json.loads((tmp_path / "digits.json").read_text())["name"] == "Renamed by hand"


def on_canvas(win) -> bool:
    return win.pages.currentWidget() is win.view


def test_start_with_an_empty_canvas_replaces_what_the_canvas_held(wizard_window, qtbot):
    win = wizard_window
    win.load_workflow(small_example("classify_digits"))  # e.g. an example opened earlier
    win.wizards.show_welcome()
    assert win.pages.currentWidget() is win.wizards.welcome
    qtbot.mouseClick(win.wizards.welcome.empty_canvas, qtbot_left())
    qtbot.waitUntil(lambda: on_canvas(win) and not win.doc.workflow.nodes, timeout=HANG_MS)
    for _ in range(3):  # nothing queued afterwards sends the window back to the welcome screen
        QApplication.processEvents()
    assert on_canvas(win)
    assert win.doc.path is None and not win.doc.dirty and not win.scene.nodes


def test_an_empty_canvas_asks_about_unsaved_edits_first(wizard_window, qtbot):
    win = wizard_window
    win.load_workflow(small_example("classify_digits"))
    win.doc.set_param("train", "epochs", 3)
    asked: list[str] = []
    win.ask = lambda title, _text, _buttons: asked.append(title) or QMessageBox.Cancel
    win.wizards.show_welcome()
    qtbot.mouseClick(win.wizards.welcome.empty_canvas, qtbot_left())
    assert asked == ["Unsaved changes"]
    assert win.doc.workflow.node("train").params["epochs"] == 3  # cancelled: the edits are still there
    assert win.pages.currentWidget() is win.wizards.welcome

    win.ask = lambda *_a: QMessageBox.Discard
    qtbot.mouseClick(win.wizards.welcome.empty_canvas, qtbot_left())
    qtbot.waitUntil(lambda: on_canvas(win) and not win.doc.workflow.nodes, timeout=HANG_MS)


def test_an_empty_canvas_from_a_fresh_window_stays_on_the_canvas(wizard_window, qtbot):
    win = wizard_window
    qtbot.waitUntil(lambda: win.pages.currentWidget() is win.wizards.welcome, timeout=HANG_MS)
    qtbot.mouseClick(win.wizards.welcome.empty_canvas, qtbot_left())
    qtbot.waitUntil(lambda: on_canvas(win), timeout=HANG_MS)


def qtbot_left():
    return Qt.LeftButton
