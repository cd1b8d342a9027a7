"""Exact resume: a GAN run stopped or killed mid-epoch continues to the very same weights.

Deterministic CPU settings: one intra-op thread and
``torch.use_deterministic_algorithms(True)`` in every training process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine import events as ev
from engine.runner import Engine
from engine.store import read_metrics
from engine.workflow import Workflow
from tests.fakes import DETERMINISTIC_CLI, deterministic_torch  # noqa: F401 (a fixture)

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"
ROOT = Path(__file__).resolve().parents[1]
DRIVER = DETERMINISTIC_CLI.format(imports="")


pytestmark = pytest.mark.usefixtures("deterministic_torch")


def small_gan(epochs: int = 2, checkpoint_every: int = 5) -> Workflow:
    """2 epochs x 56 steps of a tiny DCGAN on 16 px digits, a checkpoint every 5 steps."""
    wf = Workflow.load(EXAMPLES / "gan_digits.json")
    wf.node("data").params.update(size=16)  # small images keep the test fast
    wf.node("model").params.update(width=8, latent_dim=16)
    wf.node("train").params.update(
        epochs=epochs, batch_size=32, sample_every=7, samples=4, checkpoint_every=checkpoint_every, label_smoothing=0.1
    )
    wf.remove_node("generate")
    return wf


def weights(run: Path) -> dict[str, torch.Tensor]:
    gen = load_file(str(run / "train" / "generator.safetensors"))
    ckpt = torch.load(run / "train" / "checkpoints" / "last.pt", weights_only=True)
    disc = {f"D.{k}": v for k, v in ckpt["discriminator"].items()}
    return {**gen, **disc}


def assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    different = [k for k in wa if not torch.equal(wa[k], wb[k])]
    assert not different, f"weights differ after resume: {different[:5]}"


def curve(run: Path, name: str = "loss_g") -> list[tuple[int, float]]:
    return [(r["step"], r["value"]) for r in read_metrics(run) if r["node"] == "train" and r["name"] == name]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The uninterrupted run both tests compare against."""
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    run = tmp_path_factory.mktemp("resume") / "reference"
    assert Engine(disk_cache=False).run(small_gan(), out_dir=run, device="cpu").status == "succeeded"
    return run


def test_stop_mid_epoch_then_resume_matches_an_uninterrupted_run(tmp_path, reference):
    wf = small_gan()

    stopped = tmp_path / "stopped"
    holder: dict = {}

    def stop_at_step_32(e: ev.Event) -> None:
        if isinstance(e, ev.MetricPoint) and e.name == "loss_g" and e.step == 32:
            holder["handle"].stop()

    engine = Engine(disk_cache=False)
    holder["handle"] = engine.start(wf, out_dir=stopped, device="cpu", on_event=stop_at_step_32)
    assert holder["handle"].wait().status == "stopped"
    ckpt = torch.load(stopped / "train" / "checkpoints" / "last.pt", weights_only=True)
    assert ckpt["position"] == {"epoch": 1, "batch": 32, "step": 32}  # saved on Stop (the last periodic one was 30)

    resumed = Engine(disk_cache=False).run(wf, resume_from=stopped, device="cpu")
    assert resumed.status == "succeeded", resumed.message
    assert_same_weights(reference, stopped)
    assert curve(stopped) == curve(reference)  # no gap, no repeat, same values


def test_sigkill_after_a_checkpoint_then_resume_reaches_the_same_weights(tmp_path, reference):
    wf = small_gan()
    flow = tmp_path / "flow.json"
    wf.save(flow)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    killed = tmp_path / "killed"
    ckpt_path = killed / "train" / "checkpoints" / "last.pt"
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, "run", str(flow), "--out", str(killed), "--device", "cpu", "-q"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not ckpt_path.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    info = json.loads((killed / "run.json").read_text())
    assert info["status"] == "running"  # it really died mid-run: nothing finalised
    step_at_kill = torch.load(ckpt_path, weights_only=True)["position"]["step"]
    assert 5 <= step_at_kill < 112

    resumed = Engine(disk_cache=False).run(Workflow.load(flow), resume_from=killed, device="cpu")
    assert resumed.status == "succeeded", resumed.message

    assert_same_weights(reference, killed)
    resumed_curve, reference_curve = curve(killed), dict(curve(reference))
    steps = [s for s, _ in resumed_curve]
    assert steps == sorted(set(steps))  # rows the dead run wrote after its checkpoint were rewound: no repeats
    assert set(range(step_at_kill + 1, 113)) <= set(steps)  # the resumed part has every step
    # Rows before the checkpoint can only be missing if the killed process had not flushed
    # them yet (the recorder flushes metrics.csv about once a second).
    assert set(range(1, 113)) - set(steps) <= set(range(1, step_at_kill + 1))
    assert all(value == reference_curve[s] for s, value in resumed_curve)
    assert json.loads((killed / "run.json").read_text())["status"] == "succeeded"
