"""Exact resume with quality checks on: a GAN run SIGKILLed after a checkpoint ends on the very same weights.

The checks draw no random numbers from the training streams, and what they keep (the best quality, its
weights, the time spent) travels in the checkpoint, so the resumed run's quality curve and its kept-best
generator are those of an uninterrupted run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine.runner import Engine
from engine.store import read_metrics
from engine.workflow import Workflow
from tests.fakes import DETERMINISTIC_CLI, deterministic_torch, kill_at_first_checkpoint  # noqa: F401 (a fixture)

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"
DRIVER = DETERMINISTIC_CLI.format(imports="")

pytestmark = pytest.mark.usefixtures("deterministic_torch")


def flow() -> Workflow:
    """2 epochs x 56 steps of a tiny DCGAN on 16 px digits; a checkpoint every 5 steps, a quality check every 3.

    ``quality_share`` 1 lifts the checks' time limit: which checks run would otherwise depend on the machine's
    speed (the weights would not; keep-best would).  tests/test_quality_share.py covers the limit.
    """
    wf = Workflow.load(EXAMPLES / "gan_digits.json")
    wf.node("data").params.update(size=16)
    wf.node("model").params.update(width=8, latent_dim=16)
    wf.node("train").params.update(epochs=2, batch_size=32, sample_every=50, samples=4, checkpoint_every=5,
                                   quality_every=3, restore_best=True,
                                   quality_share=1.0)  # every check runs: a kept-best generator independent of speed
    wf.remove_node("generate")
    return wf


def curve(run: Path, name: str) -> dict[int, float]:
    return {r["step"]: r["value"] for r in read_metrics(run) if r["node"] == "train" and r["name"] == name}


def test_sigkill_then_resume_with_quality_on_matches_an_uninterrupted_run(tmp_path):
    torch.set_num_threads(1)
    reference = tmp_path / "reference"
    assert Engine(disk_cache=False).run(flow(), out_dir=reference, device="cpu").status == "succeeded"

    path = tmp_path / "flow.json"
    flow().save(path)
    killed = tmp_path / "killed"
    kill_at_first_checkpoint(DRIVER, path, killed)
    ckpt = torch.load(killed / "train" / "checkpoints" / "last.pt", weights_only=True)
    assert ckpt["position"]["step"] >= 5 and ckpt["quality"]["best"]["at"] == 3  # a check ran before the kill
    resumed = Engine(disk_cache=False).run(Workflow.load(path), resume_from=killed, device="cpu")
    assert resumed.status == "succeeded", resumed.message

    for name in ("generator.safetensors",):
        a, b = load_file(str(reference / "train" / name)), load_file(str(killed / "train" / name))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    ref_ckpt = torch.load(reference / "train" / "checkpoints" / "last.pt", weights_only=True)
    new_ckpt = torch.load(killed / "train" / "checkpoints" / "last.pt", weights_only=True)
    assert all(torch.equal(ref_ckpt["discriminator"][k], new_ckpt["discriminator"][k]) for k in ref_ckpt["discriminator"])
    ref_quality, new_quality = curve(reference, "quality"), curve(killed, "quality")
    assert len(ref_quality) == 112 // 3 + 1  # every 3 steps, and at the end
    resumed_part = {s: v for s, v in ref_quality.items() if s > ckpt["position"]["step"]}
    assert {s: new_quality[s] for s in resumed_part} == resumed_part
    ref_facts = json.loads((reference / "run.json").read_text())["nodes"]["train"]["report"]
    new_facts = json.loads((killed / "run.json").read_text())["nodes"]["train"]["report"]
    assert (new_facts["best_quality"], new_facts["best_quality_step"]) == (ref_facts["best_quality"],
                                                                          ref_facts["best_quality_step"])
