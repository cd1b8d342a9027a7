"""Training a GAN end to end (tiny settings): metrics, live samples, saved generator, generate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from engine import events as ev
from engine.cli import main as loom
from engine.runner import Engine, WorkflowInvalid
from engine.store import read_metrics, read_run
from engine.workflow import Workflow
from tests.fakes import install_fake_clock

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"


def tiny(name: str = "gan_digits.json", **train: object) -> Workflow:
    """An example workflow shrunk for a unit test (a handful of steps)."""
    wf = Workflow.load(EXAMPLES / name)
    if wf.node("model").type == "dcgan":
        wf.node("data").params.update(size=16)  # small images keep the tests fast
        # unconditional: these tests are about the plain GAN (tests/test_conditional_*.py cover classes)
        wf.node("model").params.update(width=8, latent_dim=16, conditional="off")
    wf.node("train").params.update(
        {"epochs": 1, "batch_size": 32, "sample_every": 5, "samples": 16, "checkpoint_every": 4, **train}
    )
    wf.node("generate").params.update(n=6)
    return wf


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models gain nothing from more threads, and a single one is immune to a busy CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def gan_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gan") / "run"
    wf = tiny(split="train")  # 1437 images / 32 = 44 steps
    images: list[ev.ImageReady] = []
    result = Engine(disk_cache=False).run(wf, out_dir=out, device="cpu",
                          on_event=lambda e: images.append(e) if isinstance(e, ev.ImageReady) else None)
    assert result.status == "succeeded", result.message
    (out / "events.json").write_text(json.dumps([[e.node_id, e.name, e.step, list(e.pixels.shape)] for e in images]))
    return out


def test_every_step_logs_both_losses_and_both_discriminator_means(gan_run):
    rows = [r for r in read_metrics(gan_run) if r["node"] == "train"]
    by_name = {n: [r["step"] for r in rows if r["name"] == n] for n in ("loss_d", "loss_g", "d_real", "d_fake")}
    assert all(steps == list(range(1, 45)) for steps in by_name.values())
    probs = [r["value"] for r in rows if r["name"] in ("d_real", "d_fake")]
    assert all(0.0 <= p <= 1.0 for p in probs)


def test_sample_grids_are_written_from_step_zero_and_streamed(gan_run):
    folder = gan_run / "train" / "samples"
    names = sorted(p.name for p in folder.glob("*.png"))
    assert names[0] == "step_000000.png"  # the first preview does not wait for training
    assert {"step_000005.png", "step_000040.png", "step_000044.png"} <= set(names)
    with Image.open(folder / "step_000005.png") as im:
        assert im.size == (4 * 16 + 5 * 2,) * 2  # 16 samples: a 4x4 grid of 16 px images, 2 px padding
    events = json.loads((gan_run / "events.json").read_text())
    train_events = [e for e in events if e[0] == "train" and e[1] == "samples"]
    assert [e[2] for e in train_events][:3] == [0, 5, 10]
    assert train_events[0][3] == [74, 74, 3]  # HxWxC uint8 pixels for the GUI


def test_the_generator_is_saved_as_safetensors_with_a_card(gan_run):
    card_entry = [a for a in read_run(gan_run)["artifacts"] if a["kind"] == "generator"]
    assert card_entry and card_entry[0]["path"] == "train/generator.json"
    card = json.loads((gan_run / "train" / "generator.json").read_text())
    assert card["arch"] == "dcgan" and card["latent_dim"] == 16 and card["sample_shape"] == [1, 16, 16]
    assert card["normalization"] == {"mean": [0.5], "std": [0.5]}
    assert (gan_run / "train" / "generator.safetensors").exists()
    assert len(list((gan_run / "generate" / "images").glob("*.png"))) == 6


def test_loom_generate_writes_n_pngs_and_is_reproducible(gan_run, tmp_path):
    assert loom(["generate", str(gan_run), "--n", "3", "--out", str(tmp_path / "a"), "--seed", "7"]) == 0
    assert loom(["generate", str(gan_run), "--n", "3", "--out", str(tmp_path / "b"), "--seed", "7"]) == 0
    files = sorted((tmp_path / "a").glob("*.png"))
    assert [f.name for f in files] == ["sample_0000.png", "sample_0001.png", "sample_0002.png"]
    assert all(f.read_bytes() == (tmp_path / "b" / f.name).read_bytes() for f in files)
    with Image.open(files[0]) as im:
        assert im.size == (16, 16) and im.mode == "L"


def test_loom_generate_interpolation_strip(gan_run, tmp_path):
    assert loom(["generate", str(gan_run), "--n", "2", "--interpolate", "5", "--out", str(tmp_path)]) == 0
    with Image.open(tmp_path / "interpolation.png") as im:
        assert im.size == (5 * 16 + 6 * 2, 2 * 16 + 3 * 2)  # 2 strips of 5 images


def test_loom_generate_refuses_a_run_without_a_generator(tmp_path, capsys):
    (tmp_path / "run.json").write_text(json.dumps({"artifacts": []}))
    assert loom(["generate", str(tmp_path), "--n", "2", "--out", str(tmp_path / "o")]) == 2
    assert "no trained generator" in capsys.readouterr().err


def test_the_training_loop_uses_the_non_saturating_generator_loss(monkeypatch, tmp_path):
    from engine.training import gan

    seen: list[tuple[torch.Tensor, float]] = []
    real_fn = gan.generator_loss

    def spy(fake_logits: torch.Tensor) -> torch.Tensor:
        loss = real_fn(fake_logits)
        seen.append((fake_logits.detach().clone(), loss.item()))
        return loss

    monkeypatch.setattr(gan, "generator_loss", spy)
    wf = tiny("gan_mlp_digits.json", epochs=1, batch_size=256, sample_every=100)
    result = Engine().run(wf, out_dir=tmp_path / "run", device="cpu")
    assert result.status == "succeeded", result.message
    logged = [r["value"] for r in read_metrics(tmp_path / "run") if r["name"] == "loss_g"]
    assert len(seen) == len(logged) == 7  # 1797 // 256 steps, each through generator_loss
    for (logits, value), row in zip(seen, logged, strict=True):
        against_real = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.ones_like(logits)).item()
        assert value == pytest.approx(against_real, rel=1e-5)
        assert row == pytest.approx(value, rel=1e-4)


def test_a_diverging_loss_stops_the_run_and_keeps_the_last_good_checkpoint(monkeypatch, tmp_path):
    from engine.training import gan

    real_fn = gan.generator_loss
    calls = {"n": 0}

    def explode(fake_logits: torch.Tensor) -> torch.Tensor:
        calls["n"] += 1
        loss = real_fn(fake_logits)
        return loss * float("nan") if calls["n"] == 6 else loss

    monkeypatch.setattr(gan, "generator_loss", explode)
    result = Engine().run(tiny(), out_dir=tmp_path / "run", device="cpu")
    assert result.status == "failed"
    assert "loss_g became nan at step 6" in result.message and "checkpoint" in result.message
    ckpt = torch.load(tmp_path / "run" / "train" / "checkpoints" / "last.pt", weights_only=True)
    assert ckpt["position"]["step"] == 4  # the last checkpoint before the NaN


def test_a_vae_spec_is_refused_by_the_gan_trainer(tmp_path):
    wf = tiny()
    wf.node("model").type = "vae"
    wf.node("model").params = {}
    with pytest.raises(WorkflowInvalid, match="train it with a 'train_vae' step"):  # at validation, before any node
        Engine().run(wf, out_dir=tmp_path / "run", device="cpu")


@pytest.mark.parametrize("example", ["gan_digits.json", "vae_digits.json"])
def test_a_time_budget_ends_generative_training_gracefully(example, tmp_path, monkeypatch):
    install_fake_clock(monkeypatch, tick=0.02)  # the training clock advances with the loop, not the machine
    wf = Workflow.load(EXAMPLES / example)
    wf.node("data").params.update(size=16)
    wf.node("model").params.update(width=8, latent_dim=8)
    wf.node("train").params.update(epochs=100000, batch_size=32, sample_every=1000, samples=4, time_budget=0.01)
    wf.node("generate").params.update(n=2)
    run = tmp_path / "run"
    result = Engine(disk_cache=False).run(wf, out_dir=run, device="cpu")
    assert result.status == "succeeded", result.message
    report = read_run(run)["nodes"]["train"]["report"]
    assert report["stopped"] == "time_budget"
    assert 0 < report["steps"] < 1000, "0.6 s of training on the fake clock is a few steps, not 100,000 epochs"
    # It ends like a finished run: final samples, a checkpoint that knows the time spent, a usable generator.
    assert (run / "train" / "samples" / f"step_{report['steps']:06d}.png").exists()
    ckpt = torch.load(run / "train" / "checkpoints" / "last.pt", weights_only=True)
    assert ckpt["position"]["step"] == report["steps"] and ckpt["elapsed"] >= 0.6  # fake-clock seconds: the budget
    assert len(list((run / "generate").rglob("*.png"))) >= 2
    # Resuming a run whose budget is spent trains no further.
    assert Engine(disk_cache=False).run(wf, device="cpu", resume_from=run).status == "succeeded"
    assert read_run(run)["nodes"]["train"]["report"]["steps"] == report["steps"]


def test_a_batch_that_does_not_split_into_packs_is_refused_with_a_fix(tmp_path):
    wf = tiny(batch_size=30)
    wf.node("model").params["pack"] = 4
    result = Engine(disk_cache=False).run(wf, out_dir=tmp_path / "run", device="cpu")
    assert result.status == "failed"
    assert "'batch_size': 30 is not a multiple of the model's pack (4) — use e.g. 28" in result.message
