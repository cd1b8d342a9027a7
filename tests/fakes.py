"""Test doubles and settings shared by several test files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest


class FakeClock:
    """Stands in for ``engine.training.clock.now``: time moves only by ``tick`` per reading, or when told.

    Time budgets, ETAs and pause accounting then depend on the loop's own
    progress, never on how busy the machine is.
    """

    def __init__(self, tick: float = 0.0) -> None:
        self.tick = tick
        self._t = 1000.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            self._t += self.tick
            return self._t

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._t += seconds


def install_fake_clock(monkeypatch: pytest.MonkeyPatch, tick: float = 0.0) -> FakeClock:
    import engine.training.clock

    fake = FakeClock(tick)
    monkeypatch.setattr(engine.training.clock, "now", fake)
    return fake


# A training subprocess that must match in-process runs bit for bit: one thread, deterministic kernels.
DETERMINISTIC_CLI = ("import sys, torch; torch.set_num_threads(1); torch.use_deterministic_algorithms(True); "
                     "sys.path.insert(0, '.'); {imports}from engine.cli import main; sys.exit(main(sys.argv[1:]))")


@pytest.fixture
def deterministic_torch():
    """One intra-op thread and deterministic algorithms for the test, as in ``DETERMINISTIC_CLI``."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    yield
    torch.use_deterministic_algorithms(False)
    torch.set_num_threads(threads)


ROOT = Path(__file__).resolve().parents[1]


def kill_at_first_checkpoint(driver: str, flow: Path, out: Path) -> None:
    """Run ``loom run FLOW --out OUT`` in a child (``driver``: a ``DETERMINISTIC_CLI`` script) and SIGKILL it
    as soon as its train node's first checkpoint exists: the run folder is left as a crash leaves it."""
    proc = subprocess.Popen([sys.executable, "-c", driver, "run", str(flow), "--out", str(out), "--device", "cpu",
                             "-q"], cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt = out / "train" / "checkpoints" / "last.pt"
    deadline = time.monotonic() + 300  # only catches a hang
    while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert json.loads((out / "run.json").read_text())["status"] == "running"
