"""The inspector builds its form from the step declaration, validates as you type with the
engine's own rules, badges invalid nodes before Run, and every edit is undoable."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from engine.workflow import Workflow  # noqa: E402
from gui.fields import BoolField, ChoiceField, TextField  # noqa: E402
from gui.paths import examples_dir  # noqa: E402
from gui.testing import HANG_MS, make_window  # noqa: E402


@pytest.fixture
def window(qtbot):
    w = make_window(qtbot)
    w.load_workflow(Workflow.load(examples_dir() / "classify_digits.json"))
    return w


def test_form_is_generated_from_the_declaration(window):
    window.scene.select_nodes(["train"])
    inspector = window.inspector
    spec = window.catalog.get("train")
    assert inspector.node_id == "train"
    assert list(inspector.fields) == [p.name for p in spec.params]
    assert isinstance(inspector.fields["epochs"], TextField)
    assert isinstance(inspector.fields["optimizer"], ChoiceField)
    assert isinstance(inspector.fields["amp"], BoolField)
    assert inspector.fields["epochs"].edit.text() == "20"  # the workflow's value, not the default
    assert inspector.fields["seed"].roll is not None  # seeds can be re-rolled
    advanced = [p.name for p in spec.params if p.advanced]
    assert advanced and not inspector.fields[advanced[0]].isVisibleTo(inspector)
    inspector.advanced_toggle.setChecked(True)
    assert inspector.fields[advanced[0]].isVisibleTo(inspector)


def test_typing_validates_badges_the_node_and_undoes(window, qtbot):
    window.scene.select_nodes(["train"])
    field = window.inspector.fields["epochs"]
    qtbot.keyClicks(field.edit, "0")  # "20" -> "200": valid
    assert window.doc.workflow.node("train").params["epochs"] == 200
    assert field.problem() == ""
    field.edit.selectAll()
    qtbot.keyClicks(field.edit, "-3")
    assert "below the minimum 1" in field.problem()
    assert window.doc.workflow.node("train").params["epochs"] == -3
    qtbot.waitUntil(lambda: bool(window.problems.get("train")), timeout=HANG_MS)
    assert window.scene.nodes["train"].badge()[0] == "1 problem"
    assert window.start_run() is None  # Run refuses while a badge is up
    assert window.doc.undo_stack.count() == 1  # keystrokes in one field are one undo step
    window.doc.undo_stack.undo()
    assert window.doc.workflow.node("train").params["epochs"] == 20
    assert field.edit.text() == "20" and field.problem() == ""
    qtbot.waitUntil(lambda: not window.problems, timeout=HANG_MS)
    assert window.scene.nodes["train"].badge() == ("", "")


def test_choices_and_booleans_edit_the_document(window):
    window.scene.select_nodes(["train"])
    fields = window.inspector.fields
    combo = fields["optimizer"].combo
    combo.activated.emit(combo.findText("sgd"))
    fields["amp"].box.setChecked(False)
    params = window.doc.workflow.node("train").params
    assert params["optimizer"] == "sgd" and params["amp"] is False
    assert window.doc.undo_stack.count() == 2


def test_autosave_writes_a_recovery_file_that_the_next_launch_offers(window, qtbot):
    window.doc.set_param("train", "epochs", 7)
    assert window.autosaver.save_now()
    again = make_window(qtbot)
    assert again.offer_recovery()
    assert again.doc.workflow.node("train").params["epochs"] == 7
    assert again.doc.dirty  # restored work still needs saving
    assert not again.autosaver.path.exists()
