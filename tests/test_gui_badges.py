"""Badges tell the truth (issue 17, item 5).

A node's badge says, most urgent first: what a run is doing to it now, its validation problems
(even when an earlier run left it *done*), that its result is *out of date* because the step or
something upstream was edited since, and finally how the last run left it.  The next run clears
*out of date*; undoing the edit does too, since the result matches the step again.
"""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from engine.workflow import Endpoint  # noqa: E402
from gui.canvas.items import STALE_COLOR  # noqa: E402
from gui.run_control import RunPhase  # noqa: E402
from gui.testing import HANG_MS, small_example  # noqa: E402
from gui.theme import STATE_COLORS  # noqa: E402


def run_to_end(window, qtbot, out) -> None:
    assert window.start_run(out_dir=out) is not None
    qtbot.waitUntil(lambda: window.runs.state == RunPhase.IDLE, timeout=HANG_MS)
    assert window.runs.last_status == "succeeded"


def badges(window) -> dict[str, str]:
    return {node_id: item.badge()[0] for node_id, item in window.scene.nodes.items()}


def test_problems_win_over_a_done_left_by_the_last_run_and_edits_mark_results_out_of_date(window, qtbot, tmp_path):
    window.load_workflow(small_example("classify_digits", train={"epochs": 1}))
    run_to_end(window, qtbot, tmp_path / "first")
    assert set(badges(window).values()) <= {"done", "cached"}

    # A bad value in a step that ran: the problem badge shows, not the old "done".
    window.doc.set_param("train", "epochs", -1)
    window.validate_now()
    train = window.scene.nodes["train"]
    assert train.state == "done"  # the last run's state is kept (its tooltip still tells it) ...
    text, color = train.badge()
    assert text == "1 problem" and color == STATE_COLORS["invalid"]  # ... but the badge shows the problem
    assert "epochs" in train.toolTip()
    # Its result and everything after it are out of date; what comes before it is not.
    assert badges(window)["evaluate"] == "out of date"
    assert window.scene.nodes["evaluate"].badge()[1] == STALE_COLOR
    assert "out of date" in window.scene.nodes["evaluate"].toolTip()
    assert badges(window)["data"] in ("done", "cached") and badges(window)["model"] in ("done", "cached")

    # Undo: the step is as it ran again, so its result is current again.
    window.doc.undo_stack.undo()
    window.validate_now()
    assert badges(window)["train"] in ("done", "cached") and badges(window)["evaluate"] in ("done", "cached")

    # A valid edit upstream: the step and all it feeds are out of date, nothing else.
    window.doc.set_param("model", "hidden", "32")
    window.validate_now()
    shown = badges(window)
    assert [n for n, b in shown.items() if b == "out of date"] == ["model", "train", "evaluate"]

    # The next run clears it.
    run_to_end(window, qtbot, tmp_path / "second")
    assert set(badges(window).values()) <= {"done", "cached"}
    assert not any(item.stale for item in window.scene.nodes.values())


def test_relinking_an_input_marks_the_step_out_of_date(window, qtbot, tmp_path):
    window.load_workflow(small_example("classify_digits", train={"epochs": 1}))
    run_to_end(window, qtbot, tmp_path / "run")
    assert window.doc.add_link(Endpoint("data", "data"), Endpoint("evaluate", "data")) == ""
    window.validate_now()
    shown = badges(window)
    assert shown["evaluate"] == "out of date"
    assert shown["train"] in ("done", "cached") and shown["preprocess"] in ("done", "cached")
    # A move changes nothing a result depends on.
    window.doc.move_nodes({"train": ((480.0, 80.0), (500.0, 120.0))})
    assert badges(window)["train"] in ("done", "cached")


def test_a_running_step_says_running_and_a_never_run_step_shows_its_problems(window):
    window.load_workflow(small_example("classify_digits", train={"epochs": -1}))
    train = window.scene.nodes["train"]
    assert train.badge()[0] == "1 problem"
    window.scene.set_node_state("train", "running", "", 0.5)
    assert train.badge()[0] == "running 50%"  # what a run does now outranks everything
    window.scene.set_node_state("train", "failed", "diverged")
    assert train.badge()[0] == "1 problem"


def test_a_refused_run_badges_the_step_whose_files_are_gone_even_if_it_was_done(window, qtbot, tmp_path):
    from tests.test_data_helpers import good_images

    folder = tmp_path / "pets"
    good_images(folder, classes=("cats", "dogs"), per_class=8)
    wf = small_example("classify_digits", train={"epochs": 1})
    wf.node("data").type = "image_folder"
    wf.node("data").params = {"path": str(folder), "size": 8}
    window.load_workflow(wf)
    run_to_end(window, qtbot, tmp_path / "first")
    assert window.scene.nodes["data"].badge()[0] in ("done", "cached")

    import shutil

    shutil.rmtree(folder)  # the data moved away after the run: only the file check (on Run) can see it
    assert window.start_run(out_dir=tmp_path / "second") is None
    data = window.scene.nodes["data"]
    assert data.badge() == ("1 problem", STATE_COLORS["invalid"])
    assert "does not exist" in data.toolTip()
