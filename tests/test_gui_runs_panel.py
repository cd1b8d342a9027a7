"""The Runs panel survives a restart: filled from the index as the app opens, updated as runs start and end.

No Refresh is pressed anywhere here.  A reopened run's log keeps the times
its lines were written (not when it was reopened), and the log of a run that
is still being written elsewhere keeps growing, whole lines only.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from engine.run_index import RunIndex  # noqa: E402
from gui.testing import HANG_MS, small_example  # noqa: E402


def fake_run(folder: Path, status: str, started: str, workflow: str = "digits") -> Path:
    """A run folder as the engine leaves it, as far as the panel and the dashboard read it."""
    folder.mkdir(parents=True)
    info = {"run_id": folder.name, "workflow": workflow, "status": status, "started": started, "device": "cpu",
            "nodes": {}, "artifacts": []}
    (folder / "run.json").write_text(json.dumps(info))
    (folder / "metrics.csv").write_text("node,name,step,epoch,value,time\n")
    return folder


def listed(window) -> dict[str, str]:
    """Run folder -> the first line of its entry in the panel."""
    panel = window.history.list
    return {panel.item(i).data(Qt.UserRole): panel.item(i).text().splitlines()[0] for i in range(panel.count())}


def test_the_panel_lists_the_indexed_runs_as_the_app_opens(qtbot, tmp_path):
    index = RunIndex()
    runs = [fake_run(tmp_path / name, status, f"2026-01-0{i + 1}T10:00:00+00:00")
            for i, (name, status) in enumerate([("a", "succeeded"), ("b", "stopped"), ("c", "failed")])]
    for run in runs:
        index.record(run, json.loads((run / "run.json").read_text()))
    from gui import tasks
    from gui.main_window import MainWindow

    window = MainWindow(probe_device=False)
    qtbot.addWidget(window)
    window.show()
    assert tasks.live_tasks(window.history) and not window.catalog.is_ready  # at once, not after torch loads
    qtbot.waitUntil(lambda: len(listed(window)) == 3, timeout=HANG_MS)
    window.catalog.wait()
    assert [window.history.list.item(i).data(Qt.UserRole) for i in range(3)] == [str(r.resolve()) for r in runs[::-1]]
    assert [line[0] for line in listed(window).values()] == ["✖", "■", "✔"]  # newest first, each with its status
    assert window.last_unfinished_run() == str(runs[2].resolve())  # what Continue from Checkpoint offers


def test_a_run_appears_when_it_starts_and_shows_how_it_ended(window, qtbot, tmp_path):
    window.load_workflow(small_example("gan_digits", data={"size": 16}, model={"width": 4, "latent_dim": 8},
                                       train={"epochs": 50, "batch_size": 32}))
    run = tmp_path / "run"
    assert window.start_run(out_dir=run, device="cpu") is not None
    key = str(run.resolve())
    qtbot.waitUntil(lambda: listed(window).get(key, "").startswith("…"), timeout=HANG_MS)  # running
    window.stop_run()
    qtbot.waitUntil(lambda: listed(window).get(key, "").startswith("■"), timeout=HANG_MS)  # stopped


def test_a_reopened_log_keeps_its_time_stamps_and_follows_new_lines(window, qtbot, tmp_path):
    run = fake_run(tmp_path / "elsewhere", "running", "2026-03-04T09:00:00+00:00")
    log = run / "log.txt"
    log.write_text("09:00:05 INFO    device: cpu (asked for)\n09:00:07 WARNING [train] slow disk\n")
    window.load_workflow(small_example("gan_digits"))  # another workflow on the canvas: left alone
    assert window.past_runs.open(run)
    qtbot.waitUntil(lambda: "slow disk" in window.console.plain_text(), timeout=HANG_MS)  # read in the background
    day = dt.datetime.fromisoformat("2026-03-04T09:00:00+00:00").astimezone()
    first = window.console.lines[-2]
    assert dt.datetime.fromtimestamp(first[0]).time() == dt.time(9, 0, 5)  # when it was written, on the run's day
    assert dt.datetime.fromtimestamp(first[0]).date() == day.date()
    assert "09:00:07 WARNING" in window.console.plain_text()

    # Another process keeps writing: whole lines appear, half a line waits for its end.
    with log.open("a") as f:
        f.write("09:01:00 INFO    [train] epoch 2\n09:01:30 INFO    [train] ep")
    qtbot.waitUntil(lambda: "epoch 2" in window.console.plain_text(), timeout=HANG_MS)
    assert "] ep\n" not in window.console.plain_text() + "\n"
    with log.open("a") as f:
        f.write("och 3\n")
    qtbot.waitUntil(lambda: "epoch 3" in window.console.plain_text(), timeout=HANG_MS)
    assert dt.datetime.fromtimestamp(window.console.lines[-1][0]).time() == dt.time(9, 1, 30)

    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "status": "stopped"}))  # the run ended there
    qtbot.waitUntil(lambda: not window.dashboard.follower.following, timeout=HANG_MS)


def test_log_reading_takes_whole_lines_only(tmp_path):
    from engine.logfile import read_complete_lines

    log = tmp_path / "log.txt"
    log.write_text("aaaa\nbbbb\ncc")
    assert read_complete_lines(log) == (["aaaa", "bbbb"], 10)  # "cc" is still being written
    assert read_complete_lines(log, 10) == ([], 10)
    assert read_complete_lines(log, limit=7) == (["bbbb"], 10)  # the tail of a long log, from a line's start
    assert read_complete_lines(log, limit=6) == ([], 10)  # a tail that starts mid-line skips to the next line
    assert read_complete_lines(log, 100) == (["aaaa", "bbbb"], 10)  # a log that shrank is read from its start
