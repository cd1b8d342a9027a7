"""The generator's weight average (EMA): its arithmetic, its warm-up, 'off', and what a run shows and saves."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from engine.generative.ema import WARMUP, WeightAverage, effective_decay
from engine.runner import Engine
from engine.workflow import Workflow

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"


def test_the_decay_warms_up_then_holds_at_the_chosen_value() -> None:
    assert effective_decay(0.999, 1) == pytest.approx(2 / (WARMUP + 1))  # the first update mostly takes the raw weights
    assert effective_decay(0.999, 90) == pytest.approx(91 / 100)
    assert effective_decay(0.999, 100_000) == 0.999  # capped at the param
    assert effective_decay(0.5, 1000) == 0.5


def test_each_update_moves_the_average_by_one_minus_decay_towards_the_raw_weights() -> None:
    raw = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        raw.weight.fill_(0.0)
    avg = WeightAverage(raw, decay=0.9)
    assert avg.module is not raw and not avg.module.training and not avg.module.weight.requires_grad
    for n in range(1, 201):
        with torch.no_grad():
            raw.weight.fill_(1.0)
        before = avg.module.weight.clone()
        avg.update(raw)
        keep = effective_decay(0.9, n)
        assert torch.allclose(avg.module.weight, keep * before + (1 - keep) * raw.weight)
    assert avg.updates == 200
    assert torch.allclose(avg.module.weight, torch.ones(1, 2), atol=1e-6)  # converges on a raw module that stays put


def test_batch_norm_statistics_are_copied_not_averaged() -> None:
    raw = nn.BatchNorm1d(3)
    avg = WeightAverage(raw, decay=0.999)
    raw(torch.randn(16, 3) * 5 + 2)  # training-mode forward moves the running statistics
    avg.update(raw)
    assert torch.equal(avg.module.running_mean, raw.running_mean)
    assert torch.equal(avg.module.running_var, raw.running_var)
    assert torch.equal(avg.module.num_batches_tracked, raw.num_batches_tracked)


def test_a_decay_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        WeightAverage(nn.Linear(1, 1), 1.0)


def test_the_state_round_trips_and_a_checkpoint_without_one_restarts_from_the_raw_weights() -> None:
    raw = nn.Linear(3, 2)
    avg = WeightAverage(raw, 0.99)
    with torch.no_grad():
        raw.weight.add_(1.0)
    avg.update(raw)
    state = avg.state("generator_ema")
    assert set(state) == {"generator_ema", "generator_ema_updates"} and state["generator_ema_updates"] == 1
    other = WeightAverage(nn.Linear(3, 2), 0.99)
    assert other.load_state(state, "generator_ema", raw)
    assert torch.equal(other.module.weight, avg.module.weight) and other.updates == 1
    assert not other.load_state({}, "generator_ema", raw)
    assert torch.equal(other.module.weight, raw.weight) and other.updates == 0


def tiny_gan(**train: object) -> Workflow:
    wf = Workflow.load(EXAMPLES / "gan_digits.json")
    wf.node("data").params.update(size=16)
    wf.node("model").params.update(width=8, latent_dim=16)
    wf.node("train").params.update(epochs=1, time_budget=0.0, batch_size=64, sample_every=10, samples=10, **train)
    wf.remove_node("generate")
    return wf


def test_the_card_holds_the_average_and_the_checkpoint_holds_both(tmp_path: Path) -> None:
    run = tmp_path / "ema"
    assert Engine(disk_cache=False).run(tiny_gan(ema=0.9), out_dir=run, device="cpu").status == "succeeded"
    card = load_file(str(run / "train" / "generator.safetensors"))
    ckpt = torch.load(run / "train" / "checkpoints" / "last.pt", weights_only=True)
    assert ckpt["generator_ema_updates"] == ckpt["position"]["step"] == 28
    for name, tensor in card.items():
        assert torch.equal(tensor, ckpt["generator_ema"][name])
    weights = [n for n in card if n.endswith("weight")]
    assert any(not torch.equal(card[n], ckpt["generator"][n]) for n in weights), "the average is not the raw weights"


def test_ema_zero_saves_and_shows_the_raw_weights(tmp_path: Path) -> None:
    run = tmp_path / "raw"
    assert Engine(disk_cache=False).run(tiny_gan(ema=0.0), out_dir=run, device="cpu").status == "succeeded"
    card = load_file(str(run / "train" / "generator.safetensors"))
    ckpt = torch.load(run / "train" / "checkpoints" / "last.pt", weights_only=True)
    assert "generator_ema" not in ckpt
    assert all(torch.equal(tensor, ckpt["generator"][name]) for name, tensor in card.items())
