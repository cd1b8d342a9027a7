"""Following in the app a run that another process writes: same dashboard, news as files appear, the end shown.

``loom run`` runs in a subprocess here, as it would in a terminal or on a
cluster; the app only reads its folder.  Waits are hang guards (``HANG_MS``):
the tests wait for what appears, in order, never for a duration.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QMessageBox  # noqa: E402

from engine import events as ev  # noqa: E402
from engine.fileio import atomic_write_json  # noqa: E402
from engine.run_files import read_metrics  # noqa: E402
from gui.follow import follow_folder  # noqa: E402
from gui.testing import HANG_MS, finish, small_example  # noqa: E402
from tests.conftest import ROOT, screenshots_dir  # noqa: E402


def start_loom_run(flow: Path, run: Path) -> subprocess.Popen:
    """``loom run FLOW --out RUN`` in its own process, one torch thread (the machine is shared)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "engine.cli", "run", str(flow), "--out", str(run), "--device", "cpu",
                             "--quiet"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def tap(follower) -> list[list]:
    """Every batch the followed run delivers to the dashboard, in order."""
    batches: list[list] = []
    follower.batch.connect(lambda events: batches.append(list(events)))
    return batches


def curve(window, name: str) -> list[tuple[int, float]]:
    series = window.dashboard.curves.series.get(("train", name))
    return list(zip(series.steps.tolist(), series.values.tolist(), strict=True)) if series is not None else []


def test_a_loom_run_in_another_process_is_followed_live_to_its_final_status(window, qtbot, tmp_path):
    flow, run = tmp_path / "gan.json", tmp_path / "run"
    small_example("gan_mlp_digits", model={"latent_dim": 8},
                  train={"epochs": 5000, "sample_every": 5, "samples": 16}, generate={"n": 4}).save(flow)
    proc = start_loom_run(flow, run)
    try:
        qtbot.waitUntil(lambda: (run / "run.json").exists() or proc.poll() is not None, timeout=HANG_MS)
        assert proc.poll() is None, proc.stdout.read().decode()
        assert finish(qtbot, follow_folder(window, run))  # File > Follow Run Folder… picks this folder
        follower = window.dashboard.follower
        batches = tap(follower)

        # While it runs: curve points, sample grids, the log, node states and progress arrive as written.
        qtbot.waitUntil(lambda: len(curve(window, "loss_g")) >= 3 and window.dashboard.preview.streams.get(
            "train: samples", []) and window.dashboard.progress.last is not None, timeout=HANG_MS)
        assert follower.following and proc.poll() is None
        assert window.scene.nodes["train"].state == "running"  # the canvas shows the run's workflow and states
        assert window.state_label.text() == "Following run"  # whose run the dashboard shows
        progress = window.dashboard.progress.last
        assert (progress.node_id, progress.total_epochs) == ("train", 5000) and progress.total_steps > 0
        assert "train:" in window.dashboard.progress.bar.format()
        assert "epochs x" in window.console.plain_text()  # the log, as the run writes it
        assert window.dashboard.preview.current_image().width() > 0  # a sample grid is on screen
        window.grab().save(str(screenshots_dir() / "follow_run.png"))  # the whole window, following
        assert not any(isinstance(e, ev.RunFinished) for batch in batches for e in batch)

        proc.send_signal(signal.SIGINT)  # Ctrl-C in the other terminal: the run stops, saving a checkpoint
        assert proc.wait(timeout=HANG_MS / 1000) == 130
        qtbot.waitUntil(lambda: not follower.following, timeout=HANG_MS)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    ending = [e for batch in batches for e in batch if isinstance(e, ev.RunFinished)]
    assert [e.status for e in ending] == ["stopped"]
    assert isinstance(batches[-1][-1], ev.RunFinished)  # the last thing drawn
    assert window.dashboard.progress.bar.format().startswith("train: stopped at step")
    assert window.scene.nodes["train"].state == "stopped"
    written = [(r["step"], r["value"]) for r in read_metrics(run) if r["node"] == "train" and r["name"] == "loss_g"]
    shown = curve(window, "loss_g")
    assert [s for s, _ in shown] == [s for s, _ in written]  # every point once, none lost
    assert [v for _, v in shown] == pytest.approx([v for _, v in written], rel=1e-5)
    frames = window.dashboard.preview.streams["train: samples"]
    assert [f.step for f in frames] == sorted({f.step for f in frames})  # each grid once, in step order
    assert "followed run run: stopped" in window.statusBar().currentMessage().lower()
    assert window.state_label.text() == "Idle · followed run stopped"


def fake_running_run(folder: Path) -> Path:
    """A run folder as the store leaves it mid-run, written by hand."""
    folder.mkdir()
    small_example("gan_mlp_digits").save(folder / "workflow.json")
    atomic_write_json(folder / "run.json", {
        "run_id": folder.name, "workflow": "GAN digits (MLP)", "status": "running", "message": "", "device": "cpu",
        "started": "2026-03-04T09:00:00+00:00", "nodes": {"train": {"type": "train_gan", "state": "running"}},
        "artifacts": []})
    (folder / "metrics.csv").write_text("step,epoch,node,name,value,time\n"
                                        "1,1,train,loss_g,0.9,100.0\n2,1,train,loss_g,0.8,101.0\n")
    (folder / "log.txt").write_text("09:00:01 INFO    [train] training, 10 epochs x 4 steps, cpu, fp32\n")
    return folder


def test_a_torn_metrics_line_neither_errors_nor_loses_earlier_points(window, qtbot, tmp_path):
    run = fake_running_run(tmp_path / "elsewhere")
    assert window.past_runs.open(run)  # the Runs panel's Open dashboard on a run still running elsewhere
    qtbot.waitUntil(lambda: len(curve(window, "loss_g")) == 2, timeout=HANG_MS)
    follower = window.dashboard.follower
    assert follower.following

    def append(name: str, text: str) -> None:
        with open(run / name, "a", encoding="utf-8") as f:
            f.write(text)

    append("metrics.csv", "3,1,train,loss_g,0.7")  # the writer is mid-line
    append("log.txt", "09:00:03 INFO    [train] marker one\n")  # read by the same poll, after the metrics
    qtbot.waitUntil(lambda: "marker one" in window.console.plain_text(), timeout=HANG_MS)
    assert curve(window, "loss_g") == [(1, 0.9), (2, 0.8)]  # nothing lost, nothing half-read
    append("metrics.csv", "5,102.0\n4,1,train,loss_g,0.6,103.0\n")  # the line ends; another follows
    append("log.txt", "09:00:04 INFO    [train] marker two\n")
    qtbot.waitUntil(lambda: "marker two" in window.console.plain_text(), timeout=HANG_MS)
    assert curve(window, "loss_g") == [(1, 0.9), (2, 0.8), (3, 0.75), (4, 0.6)]
    assert window.dashboard.progress.last.step == 4 and window.dashboard.progress.last.total_steps == 40

    window.load_workflow(small_example("gan_digits"))  # the analyst opens something else: following stops
    assert window.dashboard.follower is None and not follower.following
    qtbot.waitUntil(lambda: window.state_label.text() == "Idle", timeout=HANG_MS)


def shown_messages(window) -> list[str]:
    return [box.text() for box in window.findChildren(QMessageBox) if box.isVisible()]


def test_a_folder_that_is_not_a_run_is_refused_with_a_message(window, qtbot, tmp_path):
    (tmp_path / "plain").mkdir()
    assert finish(qtbot, follow_folder(window, tmp_path / "plain")) is False
    assert any("not a Loom run folder (no run.json)" in text for text in shown_messages(window))
    assert finish(qtbot, follow_folder(window, tmp_path / "missing")) is False
    assert any("no such run folder" in text and "missing" in text for text in shown_messages(window))
    assert window.dashboard.follower is None


def test_loom_with_a_wrong_folder_says_so_before_the_app_opens(tmp_path, capsys):
    from engine.cli import main

    assert main([str(tmp_path / "missing")]) == 2
    (tmp_path / "plain").mkdir()
    assert main([str(tmp_path / "plain")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"loom: {tmp_path / 'missing'}: no such run folder — pass the folder a run wrote (see `loom runs`)",
                   f"loom: {tmp_path / 'plain'}: not a Loom run folder (no run.json) — pass the folder a run wrote"]


def test_loom_with_one_path_opens_the_app_and_a_command_stays_a_command():
    from engine.cli import opens_in_app

    assert opens_in_app(["runs/20260101-gan"]) and opens_in_app(["flow.json"])
    assert not opens_in_app(["runs"]) and not opens_in_app(["run"])  # `loom runs`, `loom run` are commands
    assert not opens_in_app(["--help"]) and not opens_in_app(["run", "flow.json"])
