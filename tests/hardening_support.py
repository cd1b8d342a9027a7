"""Shared pieces of the hardening tests: tiny workflows, `loom` in-process, folder snapshots.

The hardening tests play a user (or an attacker) feeding Loom damaged
files and faults; these helpers keep each test down to the situation and
what the user must see.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine import Engine, Workflow
from engine.cli import main
from engine.workflow import Endpoint, Link, Node
from tests.conftest import EXAMPLES


def tiny_classifier(export: bool = False, epochs: int = 1) -> Workflow:
    """The MLP example shrunk to about a second: 8 px digits, 16 hidden units, one epoch (+ an Export step)."""
    wf = Workflow.load(EXAMPLES / "classify_digits.json")
    wf.node("data").params.update(size=8)
    wf.node("model").params.update(hidden="16")
    wf.node("train").params.update(epochs=epochs, batch_size=256)
    wf.node("evaluate").params.update(mistakes=0)
    if export:
        wf.add_node(Node("export", "export", {"onnx": False, "torchscript": False}, (960.0, 80.0)))
        wf.links += [Link(Endpoint("train", "model"), Endpoint("export", "model")),
                     Link(Endpoint("evaluate", "metrics"), Endpoint("export", "metrics"))]
    return wf


def tiny_gan(**train: object) -> Workflow:
    """The DCGAN example shrunk to seconds (16 px digits, 12 steps, a checkpoint every 4)."""
    wf = Workflow.load(EXAMPLES / "gan_digits.json")
    wf.node("data").params.update(size=16)
    wf.node("model").params.update(width=8, latent_dim=16, conditional="off")  # the plain GAN these tests are about
    wf.node("train").params.update(
        {"epochs": 1, "batch_size": 128, "sample_every": 50, "samples": 4, "checkpoint_every": 4, **train}
    )
    wf.node("generate").params.update(n=2)
    return wf


def rename_node(wf: Workflow, old: str, new: str) -> Workflow:
    """The same workflow with node ``old`` called ``new`` (links follow), bypassing load-time checks."""
    wf.node(old).id = new

    def end(e: Endpoint) -> Endpoint:
        return Endpoint(new, e.port) if e.node == old else e

    wf.links = [Link(end(lk.source), end(lk.target)) for lk in wf.links]
    return wf


def finished_run(wf: Workflow, out: Path) -> Path:
    result = Engine(disk_cache=False).run(wf, out_dir=out, device="cpu")
    assert result.status == "succeeded", result.message
    return out


def copy_run(run: Path, to: Path) -> Path:
    """A private copy of a module-scoped run, so a test may damage it."""
    shutil.copytree(run, to)
    return to


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.err.strip().splitlines()


def loom(capsys: pytest.CaptureFixture, *args: object) -> Outcome:
    """Run ``loom ARGS`` in this process, as a user would type it; returns exit code and output."""
    capsys.readouterr()  # forget what earlier steps printed
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return Outcome(code, out, err)


def assert_refused(outcome: Outcome, *needles: str, code: int = 2) -> None:
    """The documented exit code, no traceback, every line ``loom: ...``, and the message names what it must."""
    assert outcome.code == code, (outcome.code, outcome.err)
    assert "Traceback" not in outcome.err + outcome.out
    assert outcome.lines and all(line.startswith("loom: ") for line in outcome.lines), outcome.err
    for needle in needles:
        assert needle in outcome.err, (needle, outcome.err)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` with a hash of its bytes: equal snapshots = untouched."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        out[rel] = "<dir>" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out
