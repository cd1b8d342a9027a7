"""Run Settings: processes on this computer are remembered, and the cluster commands are ones `loom run` accepts."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication

from engine.launch_command import DistributedPlan, cluster_commands, loom_command, torchrun_command
from gui.run_settings import PROCESSES_KEY, RunSettingsDialog, batch_note, saved_processes
from gui.testing import HANG_MS
from tests.conftest import screenshots_dir


def test_one_machine_gets_one_loom_line_and_the_torchrun_form():
    plan = DistributedPlan("my flows/digits.json", nproc=2)
    assert loom_command(plan) == "loom run 'my flows/digits.json' --nproc 2"
    assert torchrun_command(plan) == "torchrun --nproc-per-node 2 -m engine.cli run 'my flows/digits.json'"
    assert loom_command(DistributedPlan("f.json")) == "loom run f.json"  # one process: a plain run


def test_a_cluster_gets_one_line_per_machine_each_with_its_rank():
    plan = DistributedPlan("f.json", nproc=4, nnodes=3, endpoint="node01:29500")
    lines = [line for line in cluster_commands(plan) if not line.startswith("#")]
    assert lines[:3] == [f"loom run f.json --nproc 4 --nnodes 3 --node-rank {r} --rdzv-endpoint node01:29500"
                         for r in range(3)]
    assert "--node-rank $NODE_RANK" in lines[3]  # left for the shell to expand, not quoted away
    assert plan.world_size == 12 and plan.problems() == []


@pytest.mark.parametrize(("plan", "words"), [
    (DistributedPlan("f.json", nproc=0), "processes per machine"),
    (DistributedPlan("f.json", nnodes=2, endpoint="node01"), "not HOST:PORT"),
    (DistributedPlan("f.json", nnodes=2, endpoint="node01:99999"), "not HOST:PORT"),
])
def test_a_plan_that_cannot_run_says_why(plan, words):
    assert any(words in p for p in plan.problems())


def test_the_note_says_what_the_world_size_does_to_the_batch():
    assert "plain run" in batch_note(1)
    note = batch_note(4)
    assert "batch_size × 4" in note and "learning rate" in note


def test_the_dialog_remembers_processes_and_copies_the_commands(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from gui.settings import AppSettings

    settings = AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    assert saved_processes(settings) == 1
    dialog = RunSettingsDialog(settings, Path("flows") / "digits.json")
    qtbot.addWidget(dialog)
    dialog.processes.setValue(2)
    dialog.machines.setValue(2)
    dialog.endpoint.setText("node01:29500")
    text = dialog.commands.toPlainText()
    assert "loom run flows/digits.json --nproc 2 --nnodes 2 --node-rank 1" in text
    assert "batch_size × 4" in dialog.note.text()
    dialog.copy_commands()
    assert QGuiApplication.clipboard().text() == text
    dialog.show()
    qtbot.waitUntil(lambda: "Counting" not in dialog.hardware.text(), timeout=HANG_MS)  # GPUs counted off the GUI thread
    assert "CPU cores" in dialog.hardware.text() or "GPU" in dialog.hardware.text()
    dialog.grab().save(str(screenshots_dir() / "run_settings.png"))  # the README's picture
    dialog.endpoint.setText("node01")
    assert "HOST:PORT" in dialog.problem.text() and not dialog.copy.isEnabled()
    dialog.accept()
    assert saved_processes(settings) == 2 == int(settings.q.value(PROCESSES_KEY))


def test_an_unsaved_workflow_is_named_flow_json_and_the_dialog_asks_to_save(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from gui.settings import AppSettings

    dialog = RunSettingsDialog(AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)), None)
    qtbot.addWidget(dialog)
    assert "loom run FLOW.json" in dialog.commands.toPlainText() and "Save the workflow" in dialog.note.text()


def test_run_settings_opens_from_the_run_menu_with_the_workflows_file(window, tmp_path, qtbot):
    path = tmp_path / "digits.json"
    window.doc.save(path)
    window.act.run_settings.trigger()
    qtbot.waitUntil(lambda: window.findChild(RunSettingsDialog) is not None)
    dialog = window.findChild(RunSettingsDialog)
    assert dialog.isVisible() and str(path) in dialog.commands.toPlainText()
    dialog.reject()


def test_with_two_processes_set_run_trains_on_two_and_the_dashboard_follows(window, qtbot, tmp_path, monkeypatch):
    """Run Settings → 2 processes: Run starts `loom run --nproc 2`; curves fill, pause is off, Stop stops both."""
    import json

    from engine import events as ev
    from gui.testing import HANG_MS, record_events, small_example, stop_run

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    window.settings.q.setValue(PROCESSES_KEY, 2)
    window.load_workflow(small_example("classify_digits", data={"size": 8}, model={"hidden": "32"},
                                       train={"epochs": 10000}))  # ends only when stopped
    seen = record_events(window)
    handle = window.start_run()
    assert handle is not None and not handle.can_pause
    qtbot.waitUntil(lambda: any(isinstance(e, ev.MetricPoint) and e.name == "train_loss" for e in seen),
                    timeout=HANG_MS)
    assert not window.act.pause.isEnabled() and window.act.stop.isEnabled()
    qtbot.waitUntil(lambda: ("train", "train_loss") in window.dashboard.curves.series, timeout=HANG_MS)
    assert len(window.dashboard.curves.series[("train", "train_loss")].steps) > 0
    stop_run(window, qtbot)
    info = json.loads((handle.run_dir / "run.json").read_text())
    assert (info["status"], info["world_size"]) == ("stopped", 2)
    assert window.runs.last_status == "stopped"
    assert (handle.run_dir / "train" / "checkpoints").is_dir()

    seen = record_events(window)  # Continue: on two processes again, from the checkpoint, in the same folder
    resumed = window.continue_run(handle.run_dir)
    assert resumed is not None and not resumed.can_pause
    qtbot.waitUntil(lambda: any(isinstance(e, ev.LogLine) and "resumed at step" in e.message for e in seen),
                    timeout=HANG_MS)
    qtbot.waitUntil(lambda: any(isinstance(e, ev.MetricPoint) and e.name == "train_loss" for e in seen),
                    timeout=HANG_MS)
    stop_run(window, qtbot)
    steps = list(window.dashboard.curves.series[("train", "train_loss")].steps)
    assert steps == sorted(set(steps))  # the earlier points once each, then the new ones: no repeats


def test_the_offered_lines_are_ones_loom_run_accepts():
    import shlex

    from engine.cli import build_parser

    plan = DistributedPlan("f.json", nproc=2, nnodes=3, endpoint="node01:29500")
    for rank in range(3):
        args = build_parser().parse_args(shlex.split(loom_command(plan, rank))[1:])
        assert (args.command, args.workflow, args.nproc, args.nnodes, args.node_rank, args.rdzv_endpoint) == (
            "run", "f.json", 2, 3, rank, "node01:29500")
