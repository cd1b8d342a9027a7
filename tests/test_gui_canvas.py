"""The canvas, driven with the mouse only: palette drags add steps, port drags link them,
incompatible ports refuse with a reason, every edit undoes and redoes, and the saved
file reopens to the same JSON."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QEvent, QPoint

pytest.importorskip("pytestqt")

from gui.main_window import MainWindow  # noqa: E402
from gui.testing import drag, drag_port_to_port, drag_step_to_canvas, make_window, mouse, view_point  # noqa: E402


@pytest.fixture
def window(qtbot):
    return make_window(qtbot, (1300, 850))


def test_build_a_workflow_with_the_mouse_undo_redo_save_and_reopen(window, tmp_path, qtbot):
    doc, view = window.doc, window.view
    vp = view.viewport().rect()
    spots = [QPoint(vp.width() * f // 10, vp.height() // 3) for f in (1, 3, 5)] + [QPoint(vp.width() * 3 // 10, vp.height() * 3 // 4)]
    data = drag_step_to_canvas(window, "digits", spots[0])
    prep = drag_step_to_canvas(window, "normalize", spots[1])
    train = drag_step_to_canvas(window, "train", spots[2])
    model = drag_step_to_canvas(window, "mlp", spots[3])
    assert [data, prep, train, model] == ["data", "normalize", "train", "mlp"]
    assert window.inspector.node_id == "mlp"  # a dropped step is selected for editing

    # An incompatible link is refused with a reason, and changes nothing.
    refusal = drag_port_to_port(window, ("mlp", "model", True), ("normalize", "data", False))
    assert "takes ImageDataset" in refusal and "gives Model" in refusal
    assert doc.workflow.links == []

    assert drag_port_to_port(window, ("data", "data", True), ("normalize", "data", False)) == ""
    assert drag_port_to_port(window, ("normalize", "data", True), ("train", "data", False)) == ""
    # Dragging from an input back to an output links too.
    assert drag_port_to_port(window, ("train", "model", False), ("mlp", "model", True)) == ""
    assert {str(lk.source) + ">" + str(lk.target) for lk in doc.workflow.links} == {
        "data.data>normalize.data", "normalize.data>train.data", "mlp.model>train.model"}
    assert window.validate_now() == {}  # complete: no problem badges

    # Move a node by its header.
    item = window.scene.nodes["mlp"]
    header = view_point(view, item.scenePos() + item.boundingRect().topLeft() + QPoint(60, 12).toPointF())
    old_pos = doc.workflow.node("mlp").position
    drag(view.viewport(), header, header + QPoint(0, 60))
    assert doc.workflow.node("mlp").position[1] == pytest.approx(old_pos[1] + 60 / view.zoom(), abs=1.5)

    final = doc.workflow.to_json()
    stack = doc.undo_stack
    edits = stack.count()
    assert edits == 8  # 4 adds, 3 links, 1 move
    snapshots = []
    while stack.canUndo():
        snapshots.append(json.dumps(doc.workflow.to_json()))
        stack.undo()
    assert doc.workflow.nodes == [] and window.scene.nodes == {} and window.scene.links == {}
    for expected in reversed(snapshots):
        stack.redo()
        assert json.dumps(doc.workflow.to_json()) == expected
        assert len(window.scene.nodes) == len(doc.workflow.nodes)
        assert len(window.scene.links) == len(doc.workflow.links)
    assert doc.workflow.to_json() == final

    path = tmp_path / "built.json"
    doc.path = path
    window.act.save.trigger()
    assert not doc.dirty
    reopened = MainWindow(probe_device=False)
    qtbot.addWidget(reopened)
    assert reopened.open_file(path)
    assert reopened.doc.workflow.to_json() == final == json.loads(path.read_text())
    assert len(reopened.scene.nodes) == 4 and len(reopened.scene.links) == 3


def test_rubber_band_select_copy_paste_duplicate_and_delete_are_undoable(window, qtbot):
    from engine.workflow import Workflow
    from gui.paths import examples_dir

    window.load_workflow(Workflow.load(examples_dir() / "classify_digits.json"))
    qtbot.wait(10)
    view, doc = window.view, window.doc
    window.view.fit_all()
    # Rubber band from an empty corner across the whole canvas.
    vp = view.viewport().rect()
    drag(view.viewport(), QPoint(2, 2), QPoint(vp.width() - 3, vp.height() - 3))
    assert sorted(window.scene.selected_node_ids()) == sorted(n.id for n in doc.workflow.nodes)

    mouse(view.viewport(), QEvent.MouseButtonPress, QPoint(2, 2))
    mouse(view.viewport(), QEvent.MouseButtonRelease, QPoint(2, 2))
    window.scene.select_nodes(["model", "train"])
    window.act.copy.trigger()
    window.act.paste.trigger()
    assert {"model_2", "train_2"} <= {n.id for n in doc.workflow.nodes}
    assert any(str(lk.source) == "model_2.model" and str(lk.target) == "train_2.model" for lk in doc.workflow.links)
    window.act.duplicate.trigger()  # duplicates the pasted pair
    assert len(doc.workflow.nodes) == 9
    window.act.delete.trigger()
    assert len(doc.workflow.nodes) == 7
    for _ in range(3):
        doc.undo_stack.undo()
    assert len(doc.workflow.nodes) == 5 and len(doc.workflow.links) == 5


def test_tidy_layout_puts_every_node_right_of_its_inputs(window):
    from engine.workflow import Workflow
    from gui.paths import examples_dir

    wf = Workflow.load(examples_dir() / "classify_digits.json")
    for node in wf.nodes:
        node.position = (0.0, 0.0)  # an imported workflow without a layout
    window.load_workflow(wf)
    pos = {n.id: n.position for n in window.doc.workflow.nodes}
    assert len(set(pos.values())) == len(pos)
    for link in window.doc.workflow.links:
        assert pos[link.source.node][0] < pos[link.target.node][0]
    window.doc.workflow.node("train").position = (999.0, 999.0)
    window.tidy_layout()
    assert window.doc.workflow.node("train").position != (999.0, 999.0)
    window.doc.undo_stack.undo()
    assert window.doc.workflow.node("train").position == (999.0, 999.0)
