"""Whole-process time of a Loom DCGAN run against the naive tutorial loop, on the same PNG folder.

    python bench/end_to_end_gan.py [--images 10000] [--epochs 2] [--rounds 4] [--folder DIR] [--warm-rounds 4]

A user feels the whole process: start-up, imports, reading the folder,
training, writing results, exit.  So both sides are timed as subprocesses,
start to exit:

* A: ``python -m engine.cli run FLOW.json --set train.epochs=E`` on a workflow
  ``image_folder -> normalize -> train_gan`` with a plain ``dcgan`` (Loom's
  defaults otherwise: sample grids, checkpoints, metrics.csv, run.json);
* B: ``bench/naive_gan_loop.py`` (torchvision ImageFolder + transforms +
  DataLoader, the same DCGAN, Adam, BCE) for the same number of optimisation
  steps as A took (A's run.json says how many; the bench checks it).

Both read the same folder of 32 px PNGs, drawn once from the built-in shapes
into class folders (``--folder`` reuses one).  Rounds alternate A B, B A
(bench/abba.py); every round's ratio (B's seconds / A's seconds: above 1 means
Loom's process finished sooner) is printed with the load average, then the
median and spread (target >= 1.5).  The cold figures give Loom a fresh node
cache every round, so it decodes the folder each time, as on a first run of a
folder; the machine's LOOM_HOME is shared, so the thread count is measured
once, by an untimed first run, as on a user's machine.  The warm figures,
printed separately, share one cache that a first run filled, as on every
later run of the same folder.  Exits by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from abba import abba, load_average, ratios, summary  # noqa: E402
from png_folder import write_shape_pngs  # noqa: E402

STEPS_PER_EPOCH_NOTE = "Loom drops the last partial batch of an epoch"
TARGET = 1.5


def make_png_folder(root: Path, count: int, size: int) -> None:
    """``count`` RGB shapes as PNG files, one subfolder per shape (Loom's shapes, centred layout, seed 0)."""
    write_shape_pngs(root, count, size, seed=0, layout="centred")


def flow(folder: Path) -> dict:
    """image_folder -> normalize -> train_gan with a plain DCGAN: what a user wires for their own folder.

    ``conditional: off`` keeps the model the naive loop's: Loom would
    otherwise condition on the class folders (``auto``), a bigger model.
    """
    return {
        "schema": 1,
        "name": "e2e gan",
        "nodes": [
            {"id": "data", "type": "image_folder", "params": {"path": str(folder), "size": 32, "channels": "3"},
             "position": [0, 0]},
            {"id": "preprocess", "type": "normalize", "params": {"channels": "3", "range": "-1..1"},
             "position": [240, 0]},
            {"id": "model", "type": "dcgan", "params": {"latent_dim": 100, "width": 32, "conditional": "off"},
             "position": [240, 160]},
            {"id": "train", "type": "train_gan", "params": {"epochs": 1, "batch_size": 64, "seed": 0},
             "position": [480, 80]},
        ],
        "links": [
            {"source": "data.data", "target": "preprocess.data"},
            {"source": "preprocess.data", "target": "train.data"},
            {"source": "model.model", "target": "train.model"},
        ],
    }


class Sides:
    """The two subprocesses, each timed start to exit."""

    def __init__(self, work: Path, folder: Path, epochs: int, steps: int, python: str, extra: list[str],
                 naive_threads: int = 0) -> None:
        self.work, self.folder, self.epochs, self.steps, self.python = work, folder, epochs, steps, python
        self.extra, self.naive_threads = extra, naive_threads
        self.flow = work / "flow.json"
        self.flow.write_text(json.dumps(flow(folder), indent=1))
        self.count = 0
        self.home = work / "home"  # the machine's LOOM_HOME: its thread count is measured once, by first_run
        self.warm_cache = work / "warm-cache"

    def _env(self, cache: Path) -> dict[str, str]:
        env = dict(os.environ)
        env.update(LOOM_HOME=str(self.home), LOOM_CACHE_DIR=str(cache), XDG_CACHE_HOME=str(self.home / "xdg"),
                   PYTHONPATH=str(ROOT))
        return env

    def first_run(self) -> float:
        """Loom's first run on this machine (untimed by the rounds): it measures the thread count once, as a user's does."""
        return self.loom(self.work / "first-cache")

    def loom(self, cache: Path | None = None) -> float:
        """Seconds (as a rate: 1/s) of one ``loom run``; a fresh node cache unless ``cache`` is given."""
        self.count += 1
        cache = cache or self.work / f"cache-{self.count}"
        out = self.work / f"run-{self.count}"
        cmd = [self.python, "-m", "engine.cli", "run", str(self.flow), "--out", str(out), "-q",
               "--set", f"train.epochs={self.epochs}", *self.extra]
        seconds = _timed(cmd, self._env(cache))
        took = json.loads((out / "run.json").read_text())
        steps = _steps_of(took)
        if steps is not None and steps != self.steps:
            raise SystemExit(f"Loom took {steps} steps, the naive loop {self.steps}: not the same work")
        return 1.0 / seconds

    def naive(self) -> float:
        cmd = [self.python, str(ROOT / "bench" / "naive_gan_loop.py"), str(self.folder), "--steps", str(self.steps),
               "--threads", str(self.naive_threads)]
        return 1.0 / _timed(cmd, self._env(self.work / "naive-cache"))


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds


def _steps_of(run: dict) -> int | None:
    """The train node's optimisation steps from run.json (None when it does not say)."""
    node = run.get("nodes", {}).get("train", {})
    for where in (node.get("report", {}), node.get("history", {}), node):
        if isinstance(where, dict) and isinstance(where.get("steps"), int):
            return where["steps"]
    return None


def seconds(rate: float) -> str:
    return f"{1 / rate:.1f} s"


def print_rounds(name: str, pairs: list[tuple[float, float]]) -> float:
    """Seconds per side per round, then the summary line; returns the median ratio (B's s / A's s)."""
    per_round = ratios(pairs)
    for i, (a, b) in enumerate(pairs, 1):
        print(f"    {name} round {i}: loom {1 / a:.2f} s, naive {1 / b:.2f} s, naive/loom {a / b:.3f}")
    line = summary(f"{name} whole process, naive seconds / loom seconds", per_round, TARGET)
    print(line, flush=True)
    import statistics

    return statistics.median(per_round)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--epochs", type=int, default=2, help="Loom's epochs; the naive loop takes as many steps")
    ap.add_argument("--rounds", type=int, default=4, help="cold-cache rounds (A B, B A, ...)")
    ap.add_argument("--warm-rounds", type=int, default=4, help="warm-cache rounds (0: skip)")
    ap.add_argument("--folder", help="a PNG class folder to use; drawn there first when it is missing or empty "
                    "(default: draw one into a temporary folder)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--loom-arg", action="append", default=[], help="extra argument for loom run (repeatable)")
    ap.add_argument("--naive-threads", type=int, default=0, help="torch threads of the naive loop (0: torch's "
                    "default, the figure the target is about; 1 shows what setting threads by hand gives)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="loom-e2e-") as tmp:
        work = Path(tmp)
        folder = Path(args.folder) if args.folder else work / "shapes"
        if not folder.is_dir() or not any(folder.iterdir()):
            t0 = time.perf_counter()
            make_png_folder(folder, args.images, 32)
            print(f"drew {args.images} PNGs into {folder} in {time.perf_counter() - t0:.1f} s", flush=True)
        n = sum(1 for _ in folder.rglob("*.png"))
        if n < args.batch_size:
            raise SystemExit(f"{folder}: {n} PNG files, fewer than one batch ({args.batch_size}); give an empty "
                             "or missing --folder to draw the shapes there")
        steps = args.epochs * (n // args.batch_size)
        sides = Sides(work, folder, args.epochs, steps, sys.executable, args.loom_arg, args.naive_threads)
        print(f"{n} PNGs, 32 px RGB; DCGAN width 32, batch {args.batch_size}, {steps} optimisation steps "
              f"({args.epochs} epochs; {STEPS_PER_EPOCH_NOTE}, the naive loop stops at the same count); "
              f"{os.cpu_count()} CPUs, {load_average()}", flush=True)
        naive = f"the naive loop ({args.naive_threads or 'torch default'} threads)"
        print(f"A = loom run (a fresh node cache each round), B = {naive}; ratio = naive seconds / loom seconds",
              flush=True)
        print(f"Loom's first run on this machine (measures its thread count once; not a round): "
              f"{seconds(sides.first_run())}", flush=True)
        cold = abba(sides.loom, sides.naive, args.rounds, label="cold", show=seconds)
        medians = [print_rounds("cold", cold)]
        if args.warm_rounds:
            sides.loom(sides.warm_cache)  # fills the shared cache: the decoded folder
            print(f"A = loom run with the node cache a first run filled, B = {naive}", flush=True)
            warm = abba(lambda: sides.loom(sides.warm_cache), sides.naive, args.warm_rounds, label="warm",
                        show=seconds)
            medians.append(print_rounds("warm", warm))
    ok = medians[0] >= TARGET
    print(f"target: Loom's whole process >= {TARGET}x faster (cold median): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
