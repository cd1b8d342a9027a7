"""Exact resume with the weight average on: a GAN killed (SIGKILL) or stopped mid-epoch reaches the very same
raw weights AND the very same average as an uninterrupted run (bit-identical on the CPU)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine import events as ev
from engine.runner import Engine
from engine.workflow import Workflow
from tests.fakes import DETERMINISTIC_CLI, deterministic_torch, kill_at_first_checkpoint  # noqa: F401 (a fixture)

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"
pytestmark = pytest.mark.usefixtures("deterministic_torch")


def small(kind: str) -> Workflow:
    """One epoch (28 steps) of a tiny conditional model on 16 px digits, EMA on, a checkpoint every 5 steps."""
    wf = Workflow.load(EXAMPLES / f"{kind}_digits.json")
    wf.node("data").params.update(size=16)
    wf.node("model").params.update(width=8, latent_dim=8, conditional="on")
    wf.node("train").params.update(epochs=1, time_budget=0.0, batch_size=64, sample_every=9, samples=10,
                                   checkpoint_every=5, ema=0.95)
    wf.remove_node("generate")
    return wf


def state(run: Path, ema_key: str) -> dict[str, torch.Tensor]:
    card = {f"card.{k}": v for k, v in load_file(str(run / "train" / "generator.safetensors")).items()}
    ckpt = torch.load(run / "train" / "checkpoints" / "last.pt", weights_only=True)
    tensors = {f"{name}.{k}": v for name in ckpt if isinstance(ckpt[name], dict)
               for k, v in ckpt[name].items() if isinstance(v, torch.Tensor) and name != "rng"}
    assert ema_key in ckpt and ckpt[f"{ema_key}_updates"] == 28
    return {**card, **tensors}


def assert_identical(a: Path, b: Path, ema_key: str) -> None:
    sa, sb = state(a, ema_key), state(b, ema_key)
    assert sa.keys() == sb.keys()
    assert any(k.startswith(f"{ema_key}.") for k in sa)
    different = [k for k in sa if not torch.equal(sa[k], sb[k])]
    assert not different, f"differ after resume: {different[:5]}"


def test_a_gan_killed_after_a_checkpoint_resumes_to_the_same_raw_and_averaged_weights(tmp_path: Path) -> None:
    wf = small("gan")
    reference = tmp_path / "reference"
    assert Engine(disk_cache=False).run(wf, out_dir=reference, device="cpu").status == "succeeded"
    flow = tmp_path / "flow.json"
    wf.save(flow)
    killed = tmp_path / "killed"
    kill_at_first_checkpoint(DETERMINISTIC_CLI.format(imports=""), flow, killed)
    assert torch.load(killed / "train" / "checkpoints" / "last.pt", weights_only=True)["position"]["step"] < 28
    resumed = Engine(disk_cache=False).run(Workflow.load(flow), resume_from=killed, device="cpu")
    assert resumed.status == "succeeded", resumed.message
    assert_identical(reference, killed, "generator_ema")


def test_a_stopped_vae_resumes_to_the_same_decoder_average(tmp_path: Path) -> None:
    wf = small("vae")
    reference = tmp_path / "reference"
    assert Engine(disk_cache=False).run(wf, out_dir=reference, device="cpu").status == "succeeded"
    stopped, holder = tmp_path / "stopped", {}

    def stop_at_step_12(e: ev.Event) -> None:
        if isinstance(e, ev.MetricPoint) and e.name == "loss" and e.step == 12:
            holder["handle"].stop()

    holder["handle"] = Engine(disk_cache=False).start(wf, out_dir=stopped, device="cpu", on_event=stop_at_step_12)
    assert holder["handle"].wait().status == "stopped"
    resumed = Engine(disk_cache=False).run(wf, resume_from=stopped, device="cpu")
    assert resumed.status == "succeeded", resumed.message
    assert_identical(reference, stopped, "decoder_ema")
