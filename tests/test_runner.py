"""The runner: order, events, cache reuse, failures, pause and stop."""

from __future__ import annotations

import json
import threading
import time

import pytest

from engine import Engine, Workflow
from engine import events as ev
from engine.context import StepContext
from engine.errors import UserInputError
from engine.params import Int
from engine.ports import IMAGE_DATASET, Port
from engine.runner import WorkflowInvalid
from engine.steps.registry import step
from engine.store import read_metrics, read_run
from engine.workflow import Endpoint, Link, Node
from tests.conftest import EXAMPLES


def quick_example(epochs: int = 3) -> Workflow:
    wf = Workflow.load(EXAMPLES / "classify_digits.json")
    wf.node("train").params["epochs"] = epochs
    return wf


class Recorder:
    def __init__(self) -> None:
        self.events: list[ev.Event] = []
        self.lock = threading.Lock()

    def __call__(self, event: ev.Event) -> None:
        with self.lock:
            self.events.append(event)

    def of(self, kind: type) -> list:
        with self.lock:
            return [e for e in self.events if isinstance(e, kind)]

    def states(self, node: str) -> list[str]:
        return [e.state for e in self.of(ev.NodeState) if e.node_id == node]


def test_a_run_streams_events_and_writes_the_run_folder(tmp_path):
    rec = Recorder()
    result = Engine().run(quick_example(), out_dir=tmp_path / "r", on_event=rec)
    assert result.status == "succeeded", result.message
    assert rec.states("train") == ["queued", "running", "done"]
    assert [type(e) for e in rec.events[:1]] == [ev.RunStarted]
    assert isinstance(rec.events[-1], ev.RunFinished) and rec.events[-1].status == "succeeded"
    assert len([m for m in rec.of(ev.MetricPoint) if m.name == "train_loss"]) == 3 * 23
    info = read_run(tmp_path / "r")
    assert info["status"] == "succeeded" and info["device"] == "cpu"
    assert info["nodes"]["evaluate"]["report"]["accuracy"] > 0.8
    assert {"torch", "torchvision", "python", "loom"} <= set(info["versions"])
    assert info["seeds"] == {"train.seed": 0}
    assert {"node": "train", "kind": "checkpoint", "path": "train/checkpoints/last.pt"} in info["artifacts"]
    assert json.loads((tmp_path / "r" / "workflow.json").read_text())["nodes"][3]["params"]["epochs"] == 3
    rows = read_metrics(tmp_path / "r")
    assert [r["step"] for r in rows if r["name"] == "train_loss"] == list(range(1, 70))


def test_editing_a_downstream_node_reuses_upstream_results(tmp_path):
    engine = Engine()
    engine.run(quick_example(1), out_dir=tmp_path / "a")
    rec = Recorder()
    result = engine.run(quick_example(2), out_dir=tmp_path / "b", on_event=rec)
    assert result.node_states["data"] == "cached"
    assert result.node_states["preprocess"] == "cached"
    assert result.node_states["train"] == "done"
    assert read_run(tmp_path / "b")["nodes"]["data"]["state"] == "cached"
    assert any("cached" in e.message for e in rec.of(ev.LogLine) if e.node_id == "data")


def test_datasets_are_cached_on_disk_across_engines(tmp_path):
    Engine().run(quick_example(1), out_dir=tmp_path / "a")
    result = Engine().run(quick_example(1), out_dir=tmp_path / "b")  # a new process would look the same
    assert result.node_states["data"] == "cached" and result.node_states["train"] == "done"


def test_invalid_workflows_are_refused_before_anything_runs(tmp_path):
    wf = quick_example()
    wf.node("train").params["epochs"] = -1
    with pytest.raises(WorkflowInvalid) as err:
        Engine().start(wf, out_dir=tmp_path / "r")
    assert err.value.problems[0].node_id == "train"
    assert not (tmp_path / "r").exists()


@step("test_fails", title="Fails", category="data", outputs=[Port("data", IMAGE_DATASET)],
      params=[Int("mode", 0, 0, 1)])
def _failing_step(ctx: StepContext) -> dict:
    if ctx.params["mode"] == 0:
        raise UserInputError("data file 'x.csv' has no column 'label' — pick an existing column")
    raise ZeroDivisionError("division by zero")


@pytest.mark.parametrize(("mode", "input_error", "needle"), [(0, True, "no column 'label'"), (1, False, "ZeroDivisionError")])
def test_a_failing_node_skips_its_dependants_with_a_readable_message(tmp_path, mode, input_error, needle):
    wf = Workflow(
        name="broken",
        nodes=[Node("data", "test_fails", {"mode": mode}), Node("prep", "normalize"), Node("other", "digits")],
        links=[Link(Endpoint("data", "data"), Endpoint("prep", "data"))],
    )
    result = Engine().run(wf, out_dir=tmp_path / "r")
    assert result.status == "failed" and result.input_error is input_error
    assert needle in result.message and "Traceback" not in result.message
    assert result.node_states == {"data": "failed", "prep": "skipped", "other": "done"}
    info = read_run(tmp_path / "r")
    assert "not run because 'data' failed" in info["nodes"]["prep"]["message"]
    if not input_error:
        assert "Traceback" in (tmp_path / "r" / "log.txt").read_text()


def test_stop_ends_training_at_the_next_batch_and_keeps_a_checkpoint_there(tmp_path):
    import torch

    rec = Recorder()
    holder: dict = {}

    def stop_at_step_30(e: ev.Event) -> None:
        rec(e)
        if isinstance(e, ev.MetricPoint) and e.name == "train_loss" and e.step == 30:
            holder["handle"].stop()

    holder["handle"] = Engine().start(quick_example(500), out_dir=tmp_path / "r", on_event=stop_at_step_30)
    result = holder["handle"].wait(300)
    assert result is not None and result.status == "stopped" and result.node_states["train"] == "stopped"
    assert max(m.step for m in rec.of(ev.MetricPoint)) == 30  # not one batch more
    assert read_run(tmp_path / "r")["status"] == "stopped"
    ckpt = torch.load(tmp_path / "r" / "train" / "checkpoints" / "last.pt", weights_only=True)
    assert ckpt["position"]["step"] == 30


def test_pause_holds_training_until_resumed(tmp_path):
    rec = Recorder()
    paused = threading.Event()
    holder: dict = {}

    def pause_at_step_5(e: ev.Event) -> None:
        rec(e)
        if isinstance(e, ev.MetricPoint) and e.step == 5 and not paused.is_set():
            holder["handle"].pause()
            paused.set()

    handle = holder["handle"] = Engine().start(quick_example(2), out_dir=tmp_path / "r", on_event=pause_at_step_5)
    assert paused.wait(300)
    time.sleep(0.5)  # a loop that ignored the pause would move on meanwhile
    assert max(m.step for m in rec.of(ev.MetricPoint)) == 5
    assert handle.running
    handle.resume()
    result = handle.wait(300)
    assert result is not None and result.status == "succeeded"
    assert max(m.step for m in rec.of(ev.MetricPoint)) > 5


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path, monkeypatch):
    from engine import runner

    monkeypatch.setattr(runner, "new_run_id", lambda name: "20261125-120000-classify-digits")
    folders = [runner.new_run_dir(tmp_path, "Classify digits") for _ in range(3)]
    assert [f.name for f in folders] == ["20261125-120000-classify-digits", "20261125-120000-classify-digits-2",
                                         "20261125-120000-classify-digits-3"]
    assert all(f.is_dir() for f in folders)
