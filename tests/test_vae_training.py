"""Training the conv VAE end to end (tiny settings): both loss terms, reconstructions, sampling."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from engine.cli import main as loom
from engine.generative.vae import build_vae
from engine.runner import Engine
from engine.store import read_metrics
from engine.training.vae import vae_loss
from engine.workflow import Workflow

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models gain nothing from more threads, and a single one is immune to a busy CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_vae_loss_is_reconstruction_plus_beta_times_kl():
    x = torch.zeros(2, 1, 4, 4)
    recon = torch.ones(2, 1, 4, 4)
    mu, logvar = torch.ones(2, 3), torch.zeros(2, 3)
    total, rec, kl = vae_loss(recon, x, mu, logvar, beta=0.5)
    assert rec.item() == 16.0  # per-image sum of squared errors, batch mean
    assert kl.item() == 1.5  # 0.5 * sum(mu^2) over 3 latent dims
    assert total.item() == 16.0 + 0.5 * 1.5


def test_vae_is_sized_from_the_images():
    for shape in [(1, 28, 28), (3, 32, 32), (3, 64, 64)]:
        vae = build_vae({"latent_dim": 5, "width": 8}, shape)
        recon, mu, logvar = vae(torch.randn(2, *shape))
        assert recon.shape == (2, *shape) and mu.shape == (2, 5) and logvar.shape == (2, 5)


def test_train_vae_reports_both_terms_and_streams_reconstructions(tmp_path):
    wf = Workflow.load(EXAMPLES / "vae_digits.json")
    wf.node("data").params.update(size=16)  # small images keep the test fast
    wf.node("model").params.update(width=8, latent_dim=4)
    wf.node("train").params.update(epochs=1, batch_size=64, sample_every=10, samples=9)
    wf.node("generate").params.update(n=2, mode="interpolate", steps=4)
    run = tmp_path / "run"
    result = Engine().run(wf, out_dir=run, device="cpu")
    assert result.status == "succeeded", result.message
    rows = read_metrics(run)
    for name in ("loss", "recon", "kl"):
        assert [r["step"] for r in rows if r["name"] == name] == list(range(1, 29))
    loss = {r["step"]: r["value"] for r in rows if r["name"] == "loss"}
    parts = {(r["name"], r["step"]): r["value"] for r in rows if r["name"] in ("recon", "kl")}
    assert abs(loss[28] - (parts["recon", 28] + parts["kl", 28])) < 1e-3 * loss[28]  # beta = 1
    assert loss[28] < loss[1]
    with Image.open(run / "train" / "reconstructions" / "step_000010.png") as im:
        assert im.size == (8 * 16 + 9 * 2, 2 * 16 + 3 * 2)  # 8 inputs over their 8 reconstructions
    assert (run / "train" / "samples" / "step_000000.png").exists()
    assert (run / "generate" / "interpolation.png").exists()
    assert loom(["generate", str(run), "--n", "3", "--out", str(tmp_path / "gen")]) == 0
    assert len(list((tmp_path / "gen").glob("sample_*.png"))) == 3
