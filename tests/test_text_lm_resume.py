"""Exact resume of train_lm: a run killed with SIGKILL continues to the very same weights, through the loop driver.

Deterministic CPU settings: one intra-op thread and
``torch.use_deterministic_algorithms(True)`` in every training process.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine.runner import Engine
from engine.store import read_metrics
from engine.workflow import Workflow
from tests.fakes import DETERMINISTIC_CLI, deterministic_torch, kill_at_first_checkpoint  # noqa: F401 (a fixture)
from tests.text_lm_support import lm_flow

ROOT = Path(__file__).resolve().parents[1]
DRIVER = DETERMINISTIC_CLI.format(imports="import tests.text_lm_support; ")

pytestmark = pytest.mark.usefixtures("deterministic_torch")


def curve(run: Path, name: str) -> list[tuple[int, float]]:
    return [(r["step"], r["value"]) for r in read_metrics(run) if r["node"] == "train" and r["name"] == name]


def weights(run: Path) -> dict[str, torch.Tensor]:
    saved = load_file(str(run / "train" / "language_model.safetensors"))
    ckpt = torch.load(run / "train" / "checkpoints" / "last.pt", weights_only=True)
    assert all(torch.equal(saved[k], ckpt["model"][k]) for k in saved)
    return {**saved, **{f"adam.{k}": v["exp_avg"] for k, v in ckpt["optimizer"]["state"].items()}}


@pytest.mark.parametrize("model", ["gpt", "gru_lm"])
def test_train_lm_killed_mid_epoch_resumes_to_bit_identical_weights_and_curves(tmp_path, model):
    flow = tmp_path / "flow.json"
    lm_flow(model, epochs=4, checkpoint_every=5, sample_every=3, model_params={"dropout": 0.2}).save(flow)
    reference = tmp_path / "reference"
    assert Engine(disk_cache=False).run(Workflow.load(flow), out_dir=reference, device="cpu").status == "succeeded"

    killed = tmp_path / "killed"
    kill_at_first_checkpoint(DRIVER, flow, killed)

    assert Engine(disk_cache=False).run(Workflow.load(flow), resume_from=killed, device="cpu").status == "succeeded"
    a, b = weights(reference), weights(killed)
    assert a.keys() == b.keys()
    assert [k for k in a if not torch.equal(a[k], b[k])] == []
    for name in ("train_loss", "val_loss"):
        resumed = dict(curve(killed, name))
        assert [s for s, _ in curve(killed, name)] == sorted(resumed)  # no repeated steps
        assert resumed == dict(curve(reference, name))
    last = sorted((reference / "train" / "samples").iterdir())[-1].name
    assert (killed / "train" / "samples" / last).read_text() == (reference / "train" / "samples" / last).read_text()
