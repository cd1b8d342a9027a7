"""The queue in the app, end to end: queued runs go one after another through the window's run controls,
closing the app keeps what is left (the running one resumes from its checkpoint when the app reopens), and a
run killed with the app is resumed, not restarted.

Order is read from the engine's events and the run folders; waits are hang guards only (gui.testing.HANG_MS).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from engine import events as ev  # noqa: E402
from engine.queue import QueueState, RunQueue  # noqa: E402
from gui.testing import HANG_MS, make_window, record_events  # noqa: E402
from tests.conftest import screenshots_dir  # noqa: E402
from tests.fakes import DETERMINISTIC_CLI, kill_at_first_checkpoint  # noqa: E402
from tests.test_queue_store import dead_pid, tiny  # noqa: E402
from tests.test_resume_gan import small_gan  # noqa: E402


def states(queue: RunQueue) -> list[str]:
    return [str(e.state) for e in queue.list()]


def test_three_queued_runs_finish_in_order_through_the_windows_run_controls(window, qtbot):
    queue = RunQueue()
    queue.set_paused(True)
    entries = [queue.add(tiny(), f"variant {n}", device="cpu") for n in (1, 2, 3)]
    queue.move(entries[1].id, 0)
    window.load_workflow(small_gan())  # the analyst edits another workflow meanwhile (it has a 'train' node too)
    seen = record_events(window)
    phases: list[str] = []
    window.run_state_changed.connect(phases.append)
    window.queue_dock.raise_()
    qtbot.waitUntil(lambda: window.queue.panel.hold_button.text() == "Start queue", timeout=HANG_MS)
    qtbot.mouseClick(window.queue.panel.hold_button, Qt.LeftButton)  # Start queue

    qtbot.waitUntil(lambda: states(queue) == ["done"] * 3, timeout=HANG_MS)
    done = queue.list()
    assert [e.label for e in done] == ["variant 2", "variant 1", "variant 3"]
    started = [Path(e.run_dir) for e in seen if isinstance(e, ev.RunStarted)]
    assert started == [Path(e.run_dir) for e in done]  # in line order, each in its own new folder
    bounds = [type(e).__name__ for e in seen if isinstance(e, (ev.RunStarted, ev.RunFinished))]
    assert bounds == ["RunStarted", "RunFinished"] * 3  # never two at once
    assert phases.count("running") == 3  # the window's run controls showed each one as a run
    for entry in done:
        assert json.loads((Path(entry.run_dir) / "run.json").read_text())["status"] == "succeeded"
    assert window.runs.last_status == "succeeded"
    qtbot.waitUntil(lambda: not window.runs.active and window.queue.current is None, timeout=HANG_MS)
    assert {item.state for item in window.scene.nodes.values()} == {""}  # no badges from runs of other workflows
    assert window.canvas_follows_run


def test_closing_the_app_keeps_the_queue_and_the_running_entry_resumes_when_it_reopens(qtbot):
    queue = RunQueue()
    queue.set_paused(True)
    first = queue.add(tiny(epochs=40), "long", device="cpu")
    queue.add(tiny(), "second", device="cpu")
    queue.add(tiny(), "third", device="cpu")
    queue.set_paused(False)

    window = make_window(qtbot)
    training: list[ev.Event] = []
    post = window.runs.bridge.post
    window.runs.bridge.post = lambda e: (training.append(e) if isinstance(e, ev.MetricPoint) else None, post(e))
    qtbot.waitUntil(lambda: bool(training), timeout=HANG_MS)  # the first entry is training
    assert window.queue.current.id == first.id and window.runs.active
    window.close()  # "Stop the run and quit?" is answered Yes: the run stops at a checkpoint, then the window closes
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=HANG_MS)
    qtbot.waitUntil(lambda: RunQueue().get(first.id).state == QueueState.QUEUED, timeout=HANG_MS)

    kept = RunQueue().list()
    assert [(e.label, e.state) for e in kept] == [("long", "queued"), ("second", "queued"), ("third", "queued")]
    run = Path(kept[0].run_dir)
    assert kept[0].resumes and json.loads((run / "run.json").read_text())["status"] == "stopped"

    reopened = make_window(qtbot)  # the app opens again: the queue goes on, the stopped run from its checkpoint
    seen = record_events(reopened)
    try:
        qtbot.waitUntil(lambda: states(RunQueue()) == ["done"] * 3, timeout=HANG_MS)
    finally:
        if reopened.runs.active:
            reopened.stop_run()
    started = [Path(e.run_dir) for e in seen if isinstance(e, ev.RunStarted)]
    assert started[0] == run  # the same folder: continued, not a new run
    assert len(set(started)) == 3
    assert "resumed at step" in (run / "log.txt").read_text()
    assert json.loads((run / "run.json").read_text())["resumed_from"] == str(run)


def test_a_run_killed_with_the_app_is_resumed_when_the_queue_restarts(qtbot, tmp_path):
    wf = small_gan(epochs=1)
    flow = tmp_path / "flow.json"
    wf.save(flow)
    queue = RunQueue()
    entry = queue.add(wf, "gan overnight", device="cpu")
    queue.take_next(f"{socket.gethostname()}/{dead_pid()}/x")  # the app that ran it crashed...
    run = tmp_path / "crashed"
    kill_at_first_checkpoint(DETERMINISTIC_CLI.format(imports=""), flow, run)  # ...taking its run with it
    queue.started(entry.id, run)

    window = make_window(qtbot)
    seen = record_events(window)
    try:
        qtbot.waitUntil(lambda: RunQueue().get(entry.id).state == QueueState.DONE, timeout=HANG_MS)
    finally:
        if window.runs.active:
            window.stop_run()
    assert [Path(e.run_dir) for e in seen if isinstance(e, ev.RunStarted)] == [run]
    log = (run / "log.txt").read_text()
    assert "resumed at step" in log
    assert json.loads((run / "run.json").read_text())["status"] == "succeeded"
    shown = list(window.dashboard.curves.series[("train", "loss_g")].steps)
    assert shown == list(range(1, 57))  # the dashboard has the recorded points and the resumed ones, no repeats
    qtbot.waitUntil(lambda: window.queue.panel.list.topLevelItemCount() == 1, timeout=HANG_MS)
    window.queue_dock.raise_()
    window.queue_dock.grab().save(str(screenshots_dir() / "queue_panel_resumed.png"))


def test_stop_pauses_the_entry_and_holds_the_queue_continue_resumes_it_and_cancel_moves_on(window, qtbot):
    queue = RunQueue()
    queue.set_paused(True)
    long = queue.add(tiny(epochs=10000), "long", device="cpu")  # never ends by itself within this test
    short = queue.add(tiny(), "short", device="cpu")
    panel = window.queue.panel
    training: list[ev.Event] = []
    post = window.runs.bridge.post
    window.runs.bridge.post = lambda e: (training.append(e) if isinstance(e, ev.MetricPoint) else None, post(e))
    window.queue.hold(False)
    qtbot.waitUntil(lambda: bool(training), timeout=HANG_MS)

    window.stop_run()  # the analyst wants the machine back: the entry pauses and nothing else starts
    qtbot.waitUntil(lambda: RunQueue().get(long.id).state == QueueState.PAUSED and RunQueue().paused, timeout=HANG_MS)
    stopped = RunQueue().get(long.id)
    assert stopped.resumes and RunQueue().get(short.id).state == QueueState.QUEUED
    qtbot.waitUntil(lambda: panel.hold_button.text() == "Start queue", timeout=HANG_MS)
    assert not window.runs.active

    panel.select(long.id)
    qtbot.mouseClick(panel.pause_button, Qt.LeftButton)  # Continue
    qtbot.waitUntil(lambda: ("long", "queued (resumes)") in [(panel.list.topLevelItem(i).text(1),
                                                             panel.list.topLevelItem(i).text(3)) for i in range(2)],
                    timeout=HANG_MS)
    training.clear()
    qtbot.mouseClick(panel.hold_button, Qt.LeftButton)  # Start queue: the long run resumes in its folder
    qtbot.waitUntil(lambda: bool(training), timeout=HANG_MS)
    assert window.runs.run_dir == Path(stopped.run_dir)
    qtbot.waitUntil(lambda: panel.entry(long.id) is not None and panel.entry(long.id).state == QueueState.RUNNING,
                    timeout=HANG_MS)
    panel.select(long.id)
    qtbot.mouseClick(panel.cancel_button, Qt.LeftButton)  # cancel the running entry: it stops, the next one runs
    qtbot.waitUntil(lambda: RunQueue().get(short.id).state == QueueState.DONE, timeout=HANG_MS)
    assert RunQueue().get(long.id).state == QueueState.CANCELLED
    assert "resumed at step" in (Path(stopped.run_dir) / "log.txt").read_text()
