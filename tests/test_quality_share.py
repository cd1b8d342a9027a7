"""The quality work stays within its share of the training time, in short runs too (on a fake clock).

Every cost here is scripted: a training step takes 1 s, a step of the feature fit 5 ms, a check 0.5 s and
the probe before the first check estimates 0.4 s.  The checks then run only while the time spent on them
plus the next one's cost stays within 5 % of the training time so far; the rest are skipped and counted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.generative.quality import check as check_module
from engine.generative.quality.features import FeatureFit
from engine.runner import Engine
from engine.store import read_metrics
from engine.training.gan import GanTraining
from engine.workflow import Workflow
from tests.fakes import FakeClock, install_fake_clock

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"
TRAIN_STEP, FIT_STEP, CHECK, PROBE = 1.0, 0.005, 0.5, 0.4


def tiny(epochs: int, **train) -> Workflow:
    """16 steps per epoch (512 shapes, batch 32) of a tiny DCGAN; a check due every 4 steps."""
    wf = Workflow.load(EXAMPLES / "gan_shapes.json")
    wf.node("data").params.update(count=512, size=16)
    wf.node("model").params.update(width=4, latent_dim=8, pack=1, minibatch_std=False)
    wf.node("train").params.update({"epochs": epochs, "batch_size": 32, "sample_every": 1000, "samples": 4,
                                    "quality_every": 4, "checkpoint_every": 100000, **train})
    wf.remove_node("generate")
    return wf


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = install_fake_clock(monkeypatch)
    costs = {GanTraining: ("train_step", TRAIN_STEP), FeatureFit: ("step", FIT_STEP),
             check_module.QualityCheck: ("measure", CHECK)}
    for owner, (name, seconds) in costs.items():
        real = getattr(owner, name)

        def timed(self, *args, _real=real, _seconds=seconds):
            out = _real(self, *args)
            clock.advance(_seconds)
            return out

        monkeypatch.setattr(owner, name, timed)

    def probe(self, trained, n=32):
        clock.advance(0.02)
        return PROBE

    monkeypatch.setattr(check_module.QualityCheck, "probe", probe)
    return clock


def run(tmp_path: Path, wf: Workflow) -> tuple[Path, dict]:
    out = tmp_path / "run"
    result = Engine(disk_cache=False).run(wf, out_dir=out, device="cpu")
    assert result.status == "succeeded", result.message
    return out, json.loads((out / "run.json").read_text())["nodes"]["train"]["report"]


def quality_steps(run_dir: Path) -> list[int]:
    return [r["step"] for r in read_metrics(run_dir) if r["node"] == "train" and r["name"] == "quality"]


def test_a_run_too_short_to_fit_the_features_within_the_share_measures_nothing_and_says_so(tmp_path, scripted):
    # 16 steps = 16 s of training: 5 % is 0.8 s; the fit (<= 144 steps x 5 ms) and a first check (0.8 s expected)
    # would need more
    out, facts = run(tmp_path, tiny(epochs=1))
    assert quality_steps(out) == []
    assert facts["quality_checks"] == 0 and facts["quality_checks_skipped"] == 4  # due at 4, 8, 12, 16
    assert facts["quality_time_share"] <= 0.05
    assert "best_quality" not in facts
    log = (out / "log.txt").read_text()
    assert "quality checks: 0 ran, 4 skipped" in log and "too short to fit the quality features" in log


def test_a_longer_run_measures_as_often_as_the_share_allows_and_skips_the_rest(tmp_path, scripted):
    out, facts = run(tmp_path, tiny(epochs=6))  # 96 s of training: 4.8 s of quality work at most
    steps = quality_steps(out)
    ran, skipped = facts["quality_checks"], facts["quality_checks_skipped"]
    assert ran == len(steps) >= 3 and skipped > 0 and ran + skipped == 96 // 4
    assert steps[-1] >= 80  # spread over the run, not spent at its start
    assert sum(b - a >= 8 for a, b in zip(steps, steps[1:], strict=False)) >= len(steps) - 2  # mostly 10 s apart
    assert facts["quality_time_share"] <= 0.05
    assert facts["best_quality_step"] in steps
    assert f"quality checks: {ran} ran, {skipped} skipped" in (out / "log.txt").read_text()


def test_without_a_limit_every_due_check_runs_whatever_it_costs(tmp_path, scripted):
    out, facts = run(tmp_path, tiny(epochs=2, quality_share=1.0))
    assert quality_steps(out) == list(range(4, 33, 4))
    assert (facts["quality_checks"], facts["quality_checks_skipped"]) == (8, 0)
    assert facts["quality_time_share"] > 0.05  # 8 checks of 0.5 s (and the fit) in 32 s
