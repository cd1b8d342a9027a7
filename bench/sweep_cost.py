"""What a sweep costs with Loom's node cache and median pruning, against the same trials run naively.

    python bench/sweep_cost.py [--epochs 3] [--trials 12] [--rounds 2]

On ``resources/examples/classify_digits_cnn.json`` as it is (15 epochs;
``--epochs`` sets fewer for a quicker look, where pruning has less to save).
On 2 idle CPU cores the whole bench takes a few minutes; on a machine shared
with other busy processes it can take many times longer, and its figures
swing with the neighbours (the load average printed with each round says so):

* A: ``run_sweep``: a TPE sweep (seeded) over ``train.lr=log:1e-4..1e-1`` and
  ``train.batch_size=32,64,128`` with median pruning; one Engine, so the data
  and preprocessing nodes come from its cache after the first trial.
* B: the same trials (A's first round's settings, in order) run to the end, each
  in a fresh Engine without a disk cache (everything recomputed), no pruning.

A and B alternate A B B A (bench/abba.py), each in a fresh Loom home, cache
and runs folder; every round's time ratio A/B is printed with the load
average, then the median (target < 0.60), for wall time and, as a check
less swayed by other processes on a shared machine, for CPU time.  Finally the best trial's test
accuracy next to the example's default settings at the same epochs (target:
at least as good); that default run goes first, untimed, so that every lazy
import (torch, ONNX export) is paid before A or B is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from abba import abba, load_average  # noqa: E402

EXAMPLE = ROOT / "resources" / "examples" / "classify_digits_cnn.json"
SPACE = ("train.lr=log:1e-4..1e-1", "train.batch_size=32,64,128")


def fresh_home(tag: str) -> Path:
    """A new Loom home, node cache and current folder: no side starts with the other's leftovers."""
    home = Path(tempfile.mkdtemp(prefix=f"loom-sweep-bench-{tag}-"))
    os.environ["LOOM_HOME"] = str(home / "home")
    os.environ["LOOM_CACHE_DIR"] = str(home / "cache")
    os.chdir(home)
    return home


def workflow(epochs: int) -> Any:
    from engine.workflow import Workflow

    wf = Workflow.load(EXAMPLE)
    wf.node("train").params["epochs"] = epochs
    return wf


class Bench:
    def __init__(self, epochs: int, trials: int) -> None:
        self.epochs, self.trials = epochs, trials
        self.plan: list[dict[str, Any]] = []  # A's first round's trial settings, in order
        self.best: tuple[float, dict[str, Any]] | None = None  # (test accuracy, settings) of A's best
        self.states: list[str] = []

    def sweep_a(self) -> tuple[float, float]:
        from engine.sweep import SweepConfig, parse_sweep_param, run_sweep

        home = fresh_home("A")
        wf = workflow(self.epochs)
        config = SweepConfig(wf, [parse_sweep_param(p, wf) for p in SPACE], trials=self.trials, sampler="tpe",
                             prune="median", study="bench", storage=f"sqlite:///{home / 'sweeps.db'}", device="cpu")
        t0, c0 = time.perf_counter(), time.process_time()
        view = run_sweep(config)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        settings = [t.params for t in view.trials]
        if not self.plan:
            self.plan = settings
        same = "same settings as round 1" if settings == self.plan else "settings differ from round 1"
        self.states = [t.state for t in view.trials]
        best = view.best
        if best is not None:
            info = json.loads((Path(best.run_dir) / "run.json").read_text())
            self.best = (info["nodes"]["evaluate"]["report"]["accuracy"], best.params)
        print(f"    A: {seconds:.1f} s ({cpu:.1f} s CPU), {self.states.count('complete')} complete, "
              f"{self.states.count('pruned')} pruned, {self.states.count('failed')} failed; {same}", flush=True)
        return seconds, cpu

    def trials_b(self) -> tuple[float, float]:
        from engine.run_index import RunIndex
        from engine.runner import Engine
        from engine.sweep.space import apply_params

        if not self.plan:
            raise SystemExit("B needs A's settings: the first round runs A first")
        fresh_home("B")
        wf = workflow(self.epochs)
        t0, c0 = time.perf_counter(), time.process_time()
        for settings in self.plan:
            result = Engine(index=RunIndex(), disk_cache=False).run(apply_params(wf, settings), device="cpu")
            if result.status != "succeeded":
                print(f"    B: a trial {result.status}: {result.message}", flush=True)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"    B: {seconds:.1f} s ({cpu:.1f} s CPU), {len(self.plan)} trials run to the end, nothing cached",
              flush=True)
        return seconds, cpu


def default_accuracy(epochs: int) -> float:
    from engine.runner import Engine

    fresh_home("default")
    result = Engine(disk_cache=False).run(workflow(epochs), device="cpu")
    info = json.loads((result.run_dir / "run.json").read_text())
    return info["nodes"]["evaluate"]["report"]["accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=15, help="train.epochs for every run (default: the "
                        "example's 15; fewer make a quicker but less telling bench)")
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2, help="A/B pairs, alternating A B B A (default 2)")
    args = parser.parse_args()
    import optuna  # noqa: F401
    import torch  # noqa: F401 - imported once, before any timing, for both sides

    print(f"sweep cost on {EXAMPLE.name}: {args.trials} trials, train.epochs={args.epochs}, "
          f"{', '.join(SPACE)} ({load_average()})", flush=True)
    t0 = time.perf_counter()
    reference = default_accuracy(args.epochs)  # also the warm-up: every lazy import (ONNX export...) happens here
    bench = Bench(args.epochs, args.trials)
    pairs = abba(bench.sweep_a, bench.trials_b, args.rounds)
    per_round = [a[0] / b[0] for a, b in pairs]
    cpu_round = [a[1] / b[1] for a, b in pairs]
    print(f"A/B wall time: median ratio {statistics.median(per_round):.3f} (target < 0.60), per-round "
          f"{min(per_round):.3f}..{max(per_round):.3f}, {len(per_round)} rounds, {load_average()}", flush=True)
    print(f"A/B CPU time (less swayed by other processes on the machine): median ratio "
          f"{statistics.median(cpu_round):.3f}, per-round {min(cpu_round):.3f}..{max(cpu_round):.3f}", flush=True)
    if bench.best is not None:
        accuracy, settings = bench.best
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in settings.items())
        print(f"best trial: test accuracy {accuracy:.4f} ({shown}); the example's default settings at "
              f"{args.epochs} epochs: {reference:.4f} ({'at least as good' if accuracy >= reference else 'WORSE'})")
    print(f"bench took {time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
