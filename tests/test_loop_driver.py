"""The loop driver gives any algorithm budget, stop, pause, divergence handling and exact resume.

The algorithm under test is ``tests/toy_dae.py``: a denoising autoencoder
written in test code against the driver alone (no engine file knows it).
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import pytest
import torch

from engine import events as ev
from engine.errors import TrainingDiverged
from engine.runner import Engine
from engine.store import read_metrics, read_run
from engine.training.divergence import LossWatch
from engine.workflow import Workflow
from tests import toy_dae
from tests.fakes import DETERMINISTIC_CLI, deterministic_torch, install_fake_clock, kill_at_first_checkpoint  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
DRIVER = DETERMINISTIC_CLI.format(imports="import tests.toy_dae; ")
STEPS_PER_EPOCH = 45  # the 1437 training digits in batches of 32


pytestmark = pytest.mark.usefixtures("deterministic_torch")


def dae_flow(**train: object) -> Workflow:
    return Workflow.from_json({
        "schema": 1, "name": "dae",
        "nodes": [{"id": "data", "type": "digits", "params": {"size": 8}},
                  {"id": "train", "type": "train_dae", "params": {"epochs": 3, **train}}],
        "links": [{"source": "data.data", "target": "train.data"}],
    })


def checkpoint(run: Path) -> dict:
    return torch.load(run / "train" / "checkpoints" / "last.pt", weights_only=True)


def losses(run: Path) -> list[tuple[int, float]]:
    return [(r["step"], r["value"]) for r in read_metrics(run) if r["name"] == "loss"]


def test_a_new_algorithm_trains_through_the_driver_with_checkpoints_and_curves(tmp_path):
    run = tmp_path / "run"
    result = Engine(disk_cache=False).run(dae_flow(), out_dir=run, device="cpu")
    assert result.status == "succeeded", result.message
    assert [s for s, _ in losses(run)] == list(range(1, 3 * STEPS_PER_EPOCH + 1))
    assert losses(run)[-1][1] < losses(run)[0][1]
    final = checkpoint(run)
    assert final["finished"] and final["position"] == {"epoch": 4, "batch": 0, "step": 3 * STEPS_PER_EPOCH}
    assert set(final) >= {"net", "opt", "scaler", "rng", "elapsed"}
    assert read_run(run)["nodes"]["train"]["report"] == {"stopped": "finished", "steps": 3 * STEPS_PER_EPOCH}


def test_the_time_budget_ends_training_on_the_training_clock(tmp_path, monkeypatch):
    install_fake_clock(monkeypatch, tick=0.5)  # every reading of the clock is half a second later
    run = tmp_path / "run"
    result = Engine(disk_cache=False).run(dae_flow(epochs=1000, time_budget=0.5), out_dir=run, device="cpu")
    assert result.status == "succeeded", result.message
    report = read_run(run)["nodes"]["train"]["report"]
    assert report["stopped"] == "time_budget"
    assert 0 < report["steps"] < 1000 * STEPS_PER_EPOCH
    final = checkpoint(run)
    assert final["elapsed"] >= 30.0 and final["position"]["step"] == report["steps"]  # fake-clock seconds
    # A resumed run counts its earlier time: the budget is spent, so it trains no further.
    assert Engine(disk_cache=False).run(dae_flow(epochs=1000, time_budget=0.5), resume_from=run,
                                        device="cpu").status == "succeeded"
    assert read_run(run)["nodes"]["train"]["report"]["steps"] == report["steps"]


def test_stop_ends_the_loop_at_the_next_batch_with_a_checkpoint_there(tmp_path):
    holder: dict = {}

    def stop_at_step_20(e: ev.Event) -> None:
        if isinstance(e, ev.MetricPoint) and e.step == 20:
            holder["handle"].stop()

    holder["handle"] = Engine(disk_cache=False).start(dae_flow(), out_dir=tmp_path / "run", device="cpu",
                                                      on_event=stop_at_step_20)
    assert holder["handle"].wait().status == "stopped"
    assert checkpoint(tmp_path / "run")["position"] == {"epoch": 1, "batch": 20, "step": 20}
    assert max(s for s, _ in losses(tmp_path / "run")) == 20


def test_pause_holds_the_loop_and_paused_time_is_not_training_time(tmp_path, monkeypatch):
    clock = install_fake_clock(monkeypatch)  # time moves only when the test says so
    paused = threading.Event()
    seen: list[int] = []
    holder: dict = {}

    def pause_at_step_10(e: ev.Event) -> None:
        if isinstance(e, ev.MetricPoint):
            seen.append(e.step)
            if e.step == 10:
                holder["handle"].pause()
                paused.set()

    handle = holder["handle"] = Engine(disk_cache=False).start(dae_flow(epochs=1), out_dir=tmp_path / "run",
                                                               device="cpu", on_event=pause_at_step_10)
    assert paused.wait(120)
    time.sleep(0.5)  # give a loop that ignored the pause every chance to go on
    clock.advance(3600.0)  # an hour passes while paused
    assert max(seen) == 10
    handle.resume()
    assert handle.wait(120).status == "succeeded"
    assert max(seen) == STEPS_PER_EPOCH
    assert checkpoint(tmp_path / "run")["elapsed"] < 3600.0  # the fake clock's paused hour is not training time


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    step = toy_dae.DenoisingAutoencoder.train_step
    calls = {"n": 0}

    def nan_at_step_12(self, batch):  # noqa: ANN001, ANN202
        calls["n"] += 1
        (loss,) = step(self, batch)
        return (loss * float("nan"),) if calls["n"] == 12 else (loss,)

    monkeypatch.setattr(toy_dae.DenoisingAutoencoder, "train_step", nan_at_step_12)
    result = Engine(disk_cache=False).run(dae_flow(), out_dir=tmp_path / "run", device="cpu")
    assert result.status == "failed" and not result.input_error
    assert "loss became nan at step 12" in result.message and "last good checkpoint" in result.message
    assert checkpoint(tmp_path / "run")["position"]["step"] == 10  # checkpoint_every 5: the one before the NaN


def test_an_exploding_loss_stops_the_run_with_a_clear_message(tmp_path, monkeypatch):
    step = toy_dae.DenoisingAutoencoder.train_step
    calls = {"n": 0}

    def explode_from_step_30(self, batch):  # noqa: ANN001, ANN202
        calls["n"] += 1
        (loss,) = step(self, batch)
        return (loss * 1e9,) if calls["n"] >= 30 else (loss,)

    monkeypatch.setattr(toy_dae.DenoisingAutoencoder, "train_step", explode_from_step_30)
    result = Engine(disk_cache=False).run(dae_flow(), out_dir=tmp_path / "run", device="cpu")
    assert result.status == "failed"
    assert "loss jumped to" in result.message and "at step 30" in result.message
    assert checkpoint(tmp_path / "run")["position"]["step"] == 25


def test_a_loss_that_climbs_back_from_near_zero_is_not_called_divergence():
    watch = LossWatch("loss_d")
    values = [1.4] * 10 + [1e-3] * 200 + [1.4] * 200  # a GAN's discriminator: winning, then balanced again
    for i, v in enumerate(values, 1):
        watch.check(v, i)
    rising = LossWatch("loss")
    with pytest.raises(TrainingDiverged, match="a thousand times above"):
        for i in range(1, 400):
            rising.check(2.0 * math.exp(i / 30), i)  # steadily up by orders of magnitude


def test_sigkill_then_resume_gives_bit_identical_weights_and_curves(tmp_path):
    flow = tmp_path / "flow.json"
    dae_flow(epochs=12).save(flow)
    reference = tmp_path / "reference"
    assert Engine(disk_cache=False).run(Workflow.load(flow), out_dir=reference, device="cpu").status == "succeeded"

    killed = tmp_path / "killed"
    kill_at_first_checkpoint(DRIVER, flow, killed)

    assert Engine(disk_cache=False).run(Workflow.load(flow), resume_from=killed, device="cpu").status == "succeeded"
    a, b = checkpoint(reference), checkpoint(killed)
    assert a["position"] == b["position"]
    assert all(torch.equal(a["net"][k], b["net"][k]) for k in a["net"])
    resumed = dict(losses(killed))
    assert [s for s, _ in losses(killed)] == sorted(resumed)  # no repeated steps
    assert all(resumed[s] == v for s, v in losses(reference) if s in resumed)


def test_checkpoint_rng_states_are_cpu_tensors_and_are_restored_from_the_cpu(tmp_path, monkeypatch):
    import engine.training.checkpoint as checkpoint_module

    holder: dict = {}

    def stop_at_step_7(e: ev.Event) -> None:
        if isinstance(e, ev.MetricPoint) and e.step == 7:
            holder["handle"].stop()

    run = tmp_path / "run"
    holder["handle"] = Engine(disk_cache=False).start(dae_flow(), out_dir=run, device="cpu", on_event=stop_at_step_7)
    assert holder["handle"].wait().status == "stopped"
    rng = checkpoint(run)["rng"]
    tensors = [rng["torch"], rng["numpy"][1], *rng.get("cuda", [])]
    assert all(t.device.type == "cpu" for t in tensors)

    loads, restored = [], []
    real_load, real_set = torch.load, torch.set_rng_state
    monkeypatch.setattr(checkpoint_module.torch, "load",
                        lambda *a, **k: loads.append(k.get("map_location")) or real_load(*a, **k))
    monkeypatch.setattr(checkpoint_module.torch, "set_rng_state",
                        lambda t: restored.append(t.device.type) or real_set(t))
    assert Engine(disk_cache=False).run(dae_flow(), resume_from=run, device="cpu").status == "succeeded"
    assert loads and set(loads) == {"cpu"}, "a checkpoint is always read onto the CPU, whatever the device"
    assert restored == ["cpu"]
