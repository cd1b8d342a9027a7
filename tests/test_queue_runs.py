"""The queue runs its entries as ordinary runs, in line order, and resumes an interrupted one from its checkpoint.

No window here: :class:`engine.queue.QueueRunner` drives ``Engine.start`` as
the app's runner does through its run controls (tests/test_gui_queue.py).
Order is read from the events and the run folders, never from durations.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

from engine import events as ev
from engine.queue import QueueRunner, QueueState, RunQueue
from engine.run_files import read_metrics
from engine.run_index import RunIndex
from engine.runner import Engine
from tests.fakes import DETERMINISTIC_CLI, kill_at_first_checkpoint
from tests.test_queue_store import dead_pid, tiny
from tests.test_resume_gan import small_gan


def test_three_queued_runs_finish_in_order_as_ordinary_runs(tmp_path):
    queue = RunQueue()
    entries = [queue.add(tiny(), f"run {n}", device="cpu") for n in (1, 2, 3)]
    queue.move(entries[2].id, 0)  # reordered: the third goes first
    seen: list[ev.Event] = []
    runner = QueueRunner(queue, Engine(index=RunIndex(), disk_cache=False), runs_root=tmp_path / "runs",
                         on_event=seen.append)
    try:
        results = runner.run_all()
    finally:
        runner.close()
    assert [r.status for r in results] == ["succeeded"] * 3
    order = [e.label for e in queue.list()]
    assert order == ["run 3", "run 1", "run 2"]
    assert [e.state for e in queue.list()] == [QueueState.DONE] * 3

    started = [Path(e.run_dir) for e in seen if isinstance(e, ev.RunStarted)]
    ended = [e for e in seen if isinstance(e, (ev.RunStarted, ev.RunFinished))]
    assert [type(e).__name__ for e in ended] == ["RunStarted", "RunFinished"] * 3  # one at a time, never overlapping
    assert started == [Path(e.run_dir) for e in queue.list()]  # each entry knows its own run folder
    assert len(set(started)) == 3 and all(p.parent == tmp_path / "runs" for p in started)
    for entry in queue.list():
        info = json.loads((Path(entry.run_dir) / "run.json").read_text())
        assert info["status"] == "succeeded" and info["queue"] == {"entry": entry.id, "label": entry.label}
    listed = {r["run_dir"] for r in RunIndex().list()}
    assert {str(p.resolve()) for p in started} <= listed  # in the Runs panel like any run


def test_a_run_killed_mid_way_is_resumed_from_its_checkpoint_not_restarted(tmp_path):
    wf = small_gan(epochs=1)  # 56 steps, a checkpoint every 5: killed at the first one
    flow = tmp_path / "flow.json"
    wf.save(flow)
    run = tmp_path / "killed"
    queue = RunQueue()
    entry = queue.add(wf, "overnight", device="cpu")
    queue.take_next(f"{socket.gethostname()}/{dead_pid()}/x")  # the app that took it has died...
    kill_at_first_checkpoint(DETERMINISTIC_CLI.format(imports=""), flow, run)  # ...and its run was killed
    queue.started(entry.id, run)
    before = read_metrics(run)
    checkpoint_step = max(int(r["step"]) for r in before) if before else 0

    runner = QueueRunner(queue, Engine(index=RunIndex(), disk_cache=False), runs_root=tmp_path / "runs")
    try:
        result = runner.run_next()
    finally:
        runner.close()
    assert result is not None and result.status == "succeeded"
    assert result.run_dir.resolve() == run.resolve()  # the same folder: continued, not a new run
    assert not (tmp_path / "runs").exists()
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "succeeded" and info["resumed_from"] == str(run.resolve())
    log = (run / "log.txt").read_text()
    assert "resumed at step" in log
    resumed_at = int(log.split("resumed at step ")[1].split()[0])
    assert resumed_at > 0 and resumed_at <= checkpoint_step
    steps = [int(r["step"]) for r in read_metrics(run) if r["name"] == "loss_g"]
    assert steps == list(range(1, 57))  # the dead run's rows after its checkpoint were rewound: no repeats
    assert queue.get(entry.id).state == QueueState.DONE


def test_a_cancel_from_another_window_stops_the_running_entry(tmp_path):
    queue = RunQueue()
    entry = queue.add(tiny(epochs=200), "long", device="cpu")
    other_window = RunQueue(RunIndex())

    def cancel_once_training(e: ev.Event) -> None:
        if isinstance(e, ev.MetricPoint) and not other_window.stop_requested(entry.id):
            other_window.cancel(entry.id)

    runner = QueueRunner(queue, Engine(index=RunIndex(), disk_cache=False), runs_root=tmp_path / "runs",
                         on_event=cancel_once_training)
    try:
        result = runner.run_next()
    finally:
        runner.close()
    assert result.status == "stopped"
    after = queue.get(entry.id)
    assert after.state == QueueState.CANCELLED and after.run_dir  # its folder stays, with its checkpoint
    assert runner.run_next() is None



def test_an_entry_that_cannot_start_fails_with_the_engines_words_and_the_next_one_runs(tmp_path):
    from engine.workflow import Workflow
    from tests.conftest import EXAMPLES

    photos = tmp_path / "photos"
    photos.mkdir()
    broken = Workflow.load(EXAMPLES / "classify_folder.json")
    broken.node("data").params.update(path=str(photos))
    queue = RunQueue()
    bad = queue.add(broken, "photos", device="cpu")  # the folder is there when it is queued...
    good = queue.add(tiny(), "digits", device="cpu")
    photos.rmdir()  # ...and gone by the time its turn comes
    runner = QueueRunner(queue, Engine(index=RunIndex(), disk_cache=False), runs_root=tmp_path / "runs")
    try:
        results = runner.run_all()
    finally:
        runner.close()
    assert [r.status for r in results] == ["failed", "succeeded"]
    failed = queue.get(bad.id)
    assert failed.state == QueueState.FAILED and str(photos) in failed.message and failed.run_dir is None
    assert queue.get(good.id).state == QueueState.DONE


def test_loom_queue_lines_up_lists_and_runs_from_a_terminal(tmp_path):
    import os
    import subprocess
    import sys

    flow = tmp_path / "flow.json"
    tiny().save(flow)
    root = Path(__file__).resolve().parents[1]

    def loom(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "engine.cli", "queue", *args], cwd=tmp_path, text=True,
                              capture_output=True, env={**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1"},
                              timeout=600)

    added = loom("add", str(flow), "--set", "train.epochs=2", "--label", "two epochs", "--device", "cpu")
    assert added.returncode == 0 and "queued #1 two epochs (device cpu)" in added.stdout
    refused = loom("add", str(flow), "--set", "train.epochs=-1")
    assert refused.returncode == 2 and "train" in refused.stderr and "epochs" in refused.stderr
    assert loom("add", str(flow), "--label", "second").returncode == 0
    assert loom("pause", "2").stdout.strip() == "#2: paused"
    listed = loom("list")
    assert listed.returncode == 0 and "#1    queued" in listed.stdout and "#2    paused" in listed.stdout
    ran = loom("run", "-q")
    assert ran.returncode == 0, ran.stderr
    assert "succeeded" in ran.stdout and "1 entry not run" in ran.stdout  # the paused one waits
    rows = json.loads(loom("list", "--json").stdout)
    assert [(r["label"], r["state"]) for r in rows] == [("two epochs", "done"), ("second", "paused")]
    run = Path(rows[0]["run_dir"])
    assert run.parent == (tmp_path / "runs").resolve()  # ./runs, like `loom run`
    nodes = json.loads((run / "workflow.json").read_text())["nodes"]
    assert next(n for n in nodes if n["id"] == "train")["params"]["epochs"] == 2  # the --set value ran
    assert loom("cancel", "9").returncode == 2
