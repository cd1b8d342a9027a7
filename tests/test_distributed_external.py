"""The app's way to train on several processes (Engine.start(processes=N) → loom run --nproc N, followed)
works from any working folder, with a relative run folder too."""

from __future__ import annotations

import json
from pathlib import Path

from engine import events as ev
from engine.runner import Engine
from engine.workflow import Workflow

CNN = Path(__file__).resolve().parents[1] / "resources" / "examples" / "classify_digits_cnn.json"

HANG_S = 300  # only catches a hang


def test_two_processes_started_by_the_engine_write_the_folder_the_caller_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not the repository's folder, where the launcher itself runs
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    wf = Workflow.load(CNN)
    wf.node("train").params.update(epochs=2)
    wf.node("export").params.update(onnx=False)
    seen: list[ev.Event] = []
    handle = Engine().start(wf, processes=2, out_dir="runs/two", on_event=seen.append)
    result = handle.wait(HANG_S)
    assert result is not None and result.status == "succeeded", result
    info = json.loads((tmp_path / "runs" / "two" / "run.json").read_text())
    assert (info["status"], info["world_size"]) == ("succeeded", 2)
    assert any(isinstance(e, ev.MetricPoint) and e.name == "train_loss" for e in seen), "the curves were followed"
