"""The Queue panel and Add to Queue in the app: entries shown in line order, reordered, paused, cancelled;
Run > Add to Queue lines up the canvas's workflow, the Runs panel's menu a past run's.

The queue is held in these tests (nothing starts), so they only read and write the queue."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from engine.queue import QueueState, RunQueue, new_owner  # noqa: E402
from engine.run_index import RunIndex  # noqa: E402
from engine.runner import Engine  # noqa: E402
from engine.workflow import Workflow  # noqa: E402
from gui.testing import HANG_MS, finish  # noqa: E402
from tests.conftest import screenshots_dir  # noqa: E402
from tests.test_queue_store import tiny  # noqa: E402

RUNS = Path("/home/analyst/.local/share/loom/runs")  # where the screenshot's runs seem to be (never written)


def held_queue(*labels: str, device: str = "cpu") -> RunQueue:
    queue = RunQueue()
    queue.set_paused(True)
    for label in labels:
        queue.add(tiny(), label, device=device)
    return queue


def shown(window) -> list[tuple[str, str]]:
    """(label, state) of each row of the Queue panel, top to bottom."""
    tree = window.queue.panel.list
    return [(tree.topLevelItem(i).text(1), tree.topLevelItem(i).text(3)) for i in range(tree.topLevelItemCount())]


def settle(window, qtbot, task) -> None:
    finish(qtbot, task)
    finish(qtbot, window.queue.refresh())


def test_the_panel_shows_reorders_pauses_and_cancels_entries(window, qtbot):
    queue = held_queue("first", "second", "third")
    window.queue_dock.show()
    window.queue_dock.raise_()
    settle(window, qtbot, window.queue.refresh())
    panel = window.queue.panel
    assert shown(window) == [("first", "queued"), ("second", "queued"), ("third", "queued")]
    assert panel.hold_button.text() == "Start queue" and "held" in panel.summary.text()
    assert not panel.up_button.isEnabled()  # nothing selected

    ids = [e.id for e in queue.list()]
    panel.select(ids[2])
    assert panel.up_button.isEnabled() and not panel.down_button.isEnabled()
    qtbot.mouseClick(panel.up_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: [x for x, _ in shown(window)] == ["first", "third", "second"], timeout=HANG_MS)
    assert panel.selected() == ids[2]  # the selection follows the entry
    assert [e.label for e in RunQueue().list()] == ["first", "third", "second"]  # in the index

    panel.list.moved.emit([ids[1], ids[0], ids[2]])  # what a drag in the list announces
    qtbot.waitUntil(lambda: [x for x, _ in shown(window)] == ["second", "first", "third"], timeout=HANG_MS)

    panel.select(ids[0])
    assert panel.pause_button.text() == "Pause"
    qtbot.mouseClick(panel.pause_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: ("first", "paused") in shown(window), timeout=HANG_MS)
    assert panel.pause_button.text() == "Continue"
    qtbot.mouseClick(panel.pause_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: ("first", "queued") in shown(window), timeout=HANG_MS)

    panel.select(ids[1])
    qtbot.mouseClick(panel.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: ("second", "cancelled") in shown(window), timeout=HANG_MS)
    assert RunQueue().get(ids[1]).state == QueueState.CANCELLED
    assert panel.remove_button.isEnabled() and not panel.cancel_button.isEnabled()
    qtbot.mouseClick(panel.remove_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: [x for x, _ in shown(window)] == ["first", "third"], timeout=HANG_MS)


def test_a_failed_entry_can_be_retried_and_the_panel_says_what_happened(window, qtbot, tmp_path):
    window.queue.timer.stop()  # this window must not start the entry while the test lets the queue go
    queue = held_queue("flaky")
    entry = queue.list()[0]
    queue.set_paused(False)
    assert queue.take_next(new_owner()).id == entry.id
    queue.set_paused(True)
    queue.started(entry.id, tmp_path)
    queue.finish(entry.id, QueueState.FAILED, "data: the folder is gone")
    settle(window, qtbot, window.queue.refresh())
    panel = window.queue.panel
    panel.select(entry.id)
    assert "data: the folder is gone" in panel.detail.text() and str(tmp_path.resolve()) in panel.detail.text()
    assert panel.pause_button.text() == "Retry" and panel.open_button.isEnabled()
    qtbot.mouseClick(panel.pause_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: shown(window) == [("flaky", "queued (resumes)")], timeout=HANG_MS)


def test_screenshot_of_the_queue_panel(qtbot):
    """A queue overnight, in every state (resources/screenshots/queue_panel.png)."""
    from gui.queue_panel import QueuePanel

    queue = held_queue("digits · lr 1e-3", "digits · lr 3e-3", "gan shapes · 40 epochs", "text lm · tiny",
                       "digits cnn · big batch", "digits · dropout 0.3")
    queue.set_paused(False)
    done, running, resumes, paused, failed, _waiting = queue.list()
    owner = new_owner()
    for e, state, message in ((done, QueueState.DONE, ""), (failed, QueueState.FAILED, "train: ran out of memory — "
                              "lower the batch size or image size")):
        queue.move(e.id, 0 if state == QueueState.DONE else 1)
        queue.take_next(owner, lambda x, e=e: x.id == e.id)
        queue.started(e.id, RUNS / e.label.split(" ")[0])
        queue.finish(e.id, state, message)
    queue.take_next(owner, lambda x: x.id == resumes.id)
    queue.started(resumes.id, RUNS / "20261203-031502-gan-shapes")
    queue.finish(resumes.id, QueueState.QUEUED, "interrupted (2026-12-03 03:40): resumes from its last checkpoint")
    queue.pause(paused.id)
    queue.take_next(owner, lambda x: x.id == running.id)
    queue.started(running.id, RUNS / "20261203-041210-digits")
    panel = QueuePanel()
    qtbot.addWidget(panel)
    panel.resize(460, 340)
    panel.show_entries(queue.list(), held=False)
    panel.select(resumes.id)
    panel.show()
    qtbot.waitExposed(panel)
    assert [panel.list.topLevelItem(i).text(3) for i in range(6)] == [
        "done", "failed", "running", "queued (resumes)", "paused", "queued"]
    assert "resumes from its last checkpoint" in panel.detail.text()
    panel.grab().save(str(screenshots_dir() / "queue_panel.png"))


def test_run_add_to_queue_lines_up_the_canvas_workflow(window, qtbot):
    held_queue()
    wf = tiny()
    window.load_workflow(wf)
    window.act.add_to_queue.trigger()
    qtbot.waitUntil(lambda: len(RunQueue().list()) == 1, timeout=HANG_MS)
    entry = RunQueue().list()[0]
    assert entry.label == wf.name and entry.device == "auto" and entry.state == QueueState.QUEUED
    assert entry.workflow["nodes"] == window.doc.workflow.to_json()["nodes"]  # the workflow as data, as it is now
    qtbot.waitUntil(lambda: shown(window) == [(wf.name, "queued")], timeout=HANG_MS)
    assert window.act.add_to_queue in window.menuBar().actions()[2].menu().actions()  # in the Run menu

    window.doc.workflow.node("train").params["epochs"] = -3  # a problem: refused, said on the canvas and in the log
    task = window.queue.add_current()
    assert finish(qtbot, task) is None
    assert len(RunQueue().list()) == 1
    assert "train" in window.problems and any("epochs" in p for p in window.problems["train"])
    assert "Not queued" in window.statusBar().currentMessage()


def test_the_runs_panel_adds_a_past_runs_workflow_to_the_queue(window, qtbot, tmp_path):
    held_queue()
    run = tmp_path / "past"
    wf = tiny(epochs=1)
    assert Engine(index=RunIndex(), disk_cache=False).run(wf, out_dir=run, device="cpu").status == "succeeded"
    menu = window.past_runs.menu_for([str(run)])
    action = next(a for a in menu.actions() if a.text() == "Add to Queue")
    assert action.isEnabled()
    action.trigger()
    qtbot.waitUntil(lambda: len(RunQueue().list()) == 1, timeout=HANG_MS)
    entry = RunQueue().list()[0]
    assert entry.workflow["nodes"] == Workflow.load(run / "workflow.json").to_json()["nodes"]  # as it ran
    assert entry.label == wf.name
