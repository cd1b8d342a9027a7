"""A study survives its process: SIGKILL mid-study, then the same command finishes it without repeating
a finished trial; two processes on one storage share a study and run exactly its trials between them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from engine.sweep import read_study
from tests.conftest import EXAMPLES, ROOT

MLP = str(EXAMPLES / "classify_digits.json")
HANG_GUARD_S = 180  # only against a hang; nothing here races training speed


def sweep_command(study: str, trials: int, epochs: int = 3) -> list[str]:
    return [sys.executable, "-m", "engine.cli", "sweep", MLP, "--set", f"train.epochs={epochs}",
            "--set", "data.size=8", "--set", "model.hidden=32", "--param", "train.lr=log:1e-3..1e-1",
            "--param", "train.batch_size=32,64", "--trials", str(trials), "--study", study]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's code, from any folder


def tagged_runs(runs: Path, study: str) -> list[dict]:
    found = []
    for run_json in sorted(runs.glob("*/run.json")):
        info = json.loads(run_json.read_text())
        if info.get("sweep", {}).get("study") == study:
            found.append(info)
    return found


def test_sigkill_mid_study_then_the_same_command_finishes_it_without_repeats(tmp_path):
    from engine.sweep import SweepConfig, parse_sweep_param
    from engine.sweep.study import open_study
    from engine.workflow import Workflow

    space = ["train.epochs=2..1000", "train.lr=log:1e-3..1e-1"]
    command = [sys.executable, "-m", "engine.cli", "sweep", MLP, "--set", "data.size=8", "--set", "model.hidden=32",
               *(a for p in space for a in ("--param", p)), "--trials", "3", "--study", "killed"]
    wf = Workflow.load(MLP)
    study = open_study(SweepConfig(wf, [parse_sweep_param(p, wf) for p in space], trials=3, study="killed"), 20)
    for epochs, lr in ((2, 0.01), (1000, 0.02), (2, 0.03), (2, 0.04)):  # trial 1 is long: the kill lands in it
        study.enqueue_trial({"train.epochs": epochs, "train.lr": lr})
    proc = subprocess.Popen(command, cwd=tmp_path, env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + HANG_GUARD_S
        for line in proc.stderr:  # event order: trial 1 starts only after trial 0 has finished
            if line.startswith("trial   1  running") or time.monotonic() > deadline:
                break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    before = read_study("killed")
    assert [(t.number, t.state) for t in before.trials] == [(0, "complete"), (1, "running")]

    again = subprocess.run(command, cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert again.returncode == 0, again.stderr
    after = read_study("killed")
    assert [(t.number, t.state) for t in after.trials] == [(0, "complete"), (1, "failed"), (2, "complete"),
                                                           (3, "complete")]
    assert (after.trials[0].run_dir, after.trials[0].value) == (before.trials[0].run_dir, before.trials[0].value)
    ran = [line.split()[1] for line in again.stdout.splitlines() if line.startswith("trial ")]
    assert ran == ["2", "3"]  # the second command ran only what was missing
    killed = json.loads((Path(after.trials[1].run_dir) / "run.json").read_text())
    assert killed["status"] == "running"  # its folder is left as the kill left it (a run folder is sacred)
    assert len(tagged_runs(tmp_path / "runs", "killed")) == 4  # one run folder per trial, none twice


def test_two_processes_share_one_study_without_duplicating_trials(tmp_path):
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    command = [*sweep_command("shared", trials=4), "--storage", storage]
    procs = [subprocess.Popen(command, cwd=tmp_path, env=env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=HANG_GUARD_S) for p in procs]
    for p, (_out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
    view = read_study("shared", storage)
    finished = [t for t in view.trials if t.state in ("complete", "pruned")]
    assert len(finished) == 4 and len(view.trials) == 4
    settings = {tuple(sorted(t.params.items())) for t in view.trials}
    assert len(settings) == 4  # the two processes did not draw the same settings (seeded per trial number)
    runs = tagged_runs(tmp_path / "runs", "shared")
    assert sorted(r["sweep"]["trial"] for r in runs) == sorted(t.number for t in view.trials)  # no trial ran twice
    lines = [line for out, _ in outputs for line in out.splitlines() if line.startswith("trial ")]
    assert len(lines) == 4  # each trial was reported by exactly one of the two processes
