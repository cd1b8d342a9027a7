"""The quality curve in generator training: metrics.csv, run.json, early stopping and keep-best on quality."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine.generative.quality.check import QualityCheck
from engine.runner import Engine
from engine.store import read_metrics
from engine.workflow import Workflow

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"


def tiny(name: str = "gan_shapes", **train) -> Workflow:
    """A test-sized copy of an example: 512 (shapes) or all (digits) 16 px images, a tiny model, 2 epochs."""
    wf = Workflow.load(EXAMPLES / f"{name}.json")
    if name == "gan_shapes":
        wf.node("data").params.update(count=512, size=16)
        wf.node("model").params.update(width=8, latent_dim=16, pack=1, minibatch_std=False)
    else:
        wf.node("data").params.update(size=16)
        wf.node("model").params.update(width=8, latent_dim=8)
    # quality_share 1: every due check runs (the time limit has its own tests, on a fake clock)
    wf.node("train").params.update({"epochs": 2, "batch_size": 32, "sample_every": 50, "samples": 4,
                                    "quality_share": 1.0, **train})
    wf.remove_node("generate")
    return wf


def rows(run: Path, name: str) -> list[tuple[int, float]]:
    return [(r["step"], r["value"]) for r in read_metrics(run) if r["node"] == "train" and r["name"] == name]


def report(run: Path) -> dict:
    return json.loads((run / "run.json").read_text())["nodes"]["train"]["report"]


def test_a_gan_run_writes_its_quality_curve_and_the_time_share(tmp_path):
    run = tmp_path / "run"
    result = Engine(disk_cache=False).run(tiny(quality_every=10), out_dir=run, device="cpu")
    assert result.status == "succeeded", result.message
    steps = 2 * (512 // 32)
    quality = rows(run, "quality")
    assert [s for s, _ in quality] == [10, 20, 30, steps]  # every 10 steps, and once at the end
    assert all(v >= 0 for _, v in quality)
    confident, classes = rows(run, "confident"), rows(run, "classes")
    assert [s for s, _ in confident] == [s for s, _ in quality] == [s for s, _ in classes]
    assert all(0 <= v <= 1 for _, v in confident) and all(0 <= v <= 4 for _, v in classes)
    facts = report(run)
    assert facts["quality_reference"] > 0 and facts["quality_samples"] == 256  # two halves of the 512 images
    assert 0 < facts["quality_time_share"] <= 1 and facts["quality_seconds"] > 0
    assert facts["best_quality"] == pytest.approx(min(v for _, v in quality), rel=1e-4)  # metrics.csv rounds
    log = (run / "log.txt").read_text()
    assert "two halves of the real images score" in log
    assert "quality checks: 4 ran, 0 skipped; they took" in log and "s training (" in log


def test_quality_every_0_turns_the_checks_off(tmp_path):
    run = tmp_path / "run"
    assert Engine(disk_cache=False).run(tiny(quality_every=0, epochs=1), out_dir=run, device="cpu").status == "succeeded"
    assert rows(run, "quality") == []
    assert "quality_reference" not in report(run)


def test_a_vae_run_reports_quality_too(tmp_path):
    wf = Workflow.load(EXAMPLES / "vae_digits.json")
    wf.node("data").params.update(size=16)
    wf.node("model").params.update(width=8, latent_dim=4)
    wf.node("train").params.update(epochs=1, batch_size=64, sample_every=50, samples=4, quality_every=10,
                                   quality_share=1.0)
    for node in [n.id for n in wf.nodes if n.id not in ("data", "preprocess", "model", "train")]:
        wf.remove_node(node)
    run = tmp_path / "run"
    assert Engine(disk_cache=False).run(wf, out_dir=run, device="cpu").status == "succeeded"
    assert [s for s, _ in rows(run, "quality")][:2] == [10, 20]
    assert len(rows(run, "classes")) == len(rows(run, "quality"))  # digits have labels


def test_early_stopping_on_quality_keeps_the_best_generator(tmp_path, monkeypatch):
    """Scripted checks (best at the 2nd, worse after): patience 2 stops at the epoch's end, on the best weights."""
    scripted = iter([5.0, 3.0, 4.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0])
    seen: dict[int, dict[str, torch.Tensor]] = {}

    def measure(self, trained):
        seen[len(seen) + 1] = {k: v.detach().clone() for k, v in trained.module.state_dict().items()}
        return {"quality": next(scripted)}

    monkeypatch.setattr(QualityCheck, "measure", measure)
    run = tmp_path / "run"
    result = Engine(disk_cache=False).run(tiny(quality_every=2, patience=2, epochs=3), out_dir=run, device="cpu")
    assert result.status == "succeeded", result.message
    facts = report(run)
    assert facts["stopped"] == "early_stopping"
    assert facts["steps"] == 16  # patience ran out at step 8; the stop comes at the end of epoch 1 (16 steps)
    assert (facts["best_quality"], facts["best_quality_step"]) == (3.0, 4)
    assert "early stopping: quality has not improved for 2 checks" in (run / "log.txt").read_text()
    saved = load_file(str(run / "train" / "generator.safetensors"))
    best = seen[2]  # the 2nd check, at step 4
    assert all(torch.equal(saved[k], best[k]) for k in saved)
    assert not all(torch.equal(saved[k], seen[len(seen)][k]) for k in saved)  # not the last generator


def test_restore_best_off_ends_on_the_last_generator(tmp_path, monkeypatch):
    scripted = iter([1.0] + [2.0] * 20)
    seen: list[dict[str, torch.Tensor]] = []

    def measure(self, trained):
        seen.append({k: v.detach().clone() for k, v in trained.module.state_dict().items()})
        return {"quality": next(scripted)}

    monkeypatch.setattr(QualityCheck, "measure", measure)
    run = tmp_path / "run"
    assert Engine(disk_cache=False).run(tiny(quality_every=8, restore_best=False, epochs=1), out_dir=run,
                                        device="cpu").status == "succeeded"
    saved = load_file(str(run / "train" / "generator.safetensors"))
    assert all(torch.equal(saved[k], seen[-1][k]) for k in saved)
