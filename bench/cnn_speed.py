"""The digits CNN per epoch: today's Loom (A) against the speed policy's defaults (B), side by side.

    python bench/cnn_speed.py [--rounds 4] [--epochs 15] [--out runs/bench-cnn-speed]

Each side is a fresh ``loom run resources/examples/classify_digits_cnn.json --device cpu`` process:

* A, "today's Loom" as issue 16 found it: the engine of commit ``--baseline`` (default 15a9f74, the
  commit the issue was measured on), unpacked with ``git archive`` into a temporary folder and run from
  there, with torch's default threads.  ``--baseline flags`` instead runs this checkout with the policy
  turned off (``--set train.amp=false --set train.compile=off --set train.channels_last=false --threads
  <torch's default>``): that leaves out everything else made faster since (fused optimisers, data);
* B, the policy's defaults: no flags (threads measured fastest on this machine once and remembered in the
  bench's own $LOOM_HOME, bf16 autocast where the CPU runs it natively, channels_last, compile auto).

``--same-threads N`` gives both sides N threads, to show what the rest of the policy is worth alone.

Per-epoch time comes from the run's own metrics.csv: the median gap between consecutive epochs'
``val_loss`` rows (training plus validation of one epoch, no start-up).  A and B alternate A B B A
(bench/abba.py); every round prints both sides' seconds per epoch and the ratio A/B (B's speed-up),
then the median, spread, load average and both sides' test accuracy (target: B >= 1.3x, accuracy >= 0.98).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.abba import abba, load_average, ratios, summary  # noqa: E402
from bench.old_tree import unpack_commit  # noqa: E402

EXAMPLE = ROOT / "resources" / "examples" / "classify_digits_cnn.json"
RUN_TIMEOUT_S = 1200  # one run that takes longer than this ends the bench (it never hangs)
TARGET_SPEEDUP = 1.3
TARGET_ACCURACY = 0.98
BASELINE = "15a9f74"  # "today's Loom" when issue 16 was filed


def torch_default_threads() -> int:
    """What a fresh process's torch uses when nobody sets it (asked of a fresh process, as A runs)."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", "import torch; print(torch.get_num_threads())"], env=env,
                         capture_output=True, text=True, check=True, timeout=300)
    return int(out.stdout.strip())


def epoch_seconds(run: Path) -> float:
    """Median gap between consecutive epochs' validation rows in metrics.csv."""
    times: dict[int, float] = {}
    with open(run / "metrics.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["node"] == "train" and row["name"] == "val_loss":
                times[int(row["epoch"])] = float(row["time"])
    ordered = [times[e] for e in sorted(times)]
    gaps = [b - a for a, b in zip(ordered, ordered[1:], strict=False)]
    if not gaps:
        raise SystemExit(f"{run}: fewer than 2 epochs in metrics.csv — use --epochs 3 or more")
    return statistics.median(gaps)


class Side:
    """One side of the bench: its flags, its runs, and what they reported."""

    def __init__(self, name: str, flags: list[str], out: Path, home: Path, epochs: int, code: Path = ROOT) -> None:
        self.name, self.flags, self.out, self.home, self.epochs, self.code = name, flags, out, home, epochs, code
        self.runs = 0
        self.accuracies: list[float] = []
        self.speed: dict = {}

    def __call__(self) -> tuple[float, float]:
        self.runs += 1
        run = self.out / f"{self.name}{self.runs}"
        shutil.rmtree(run, ignore_errors=True)
        example = self.code / EXAMPLE.relative_to(ROOT)
        cmd = [sys.executable, "-m", "engine.cli", "run", str(example), "--out", str(run), "--device", "cpu", "-q",
               "--no-cache", "--set", f"train.epochs={self.epochs}", *self.flags]
        env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
        env["LOOM_HOME"] = str(self.home)
        env["PYTHONPATH"] = str(self.code)  # this side's engine, not the installed one
        try:
            done = subprocess.run(cmd, cwd=self.code, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise SystemExit(f"{self.name}: one run took over {RUN_TIMEOUT_S} s ({load_average()}): stopped") from None
        if done.returncode != 0:
            raise SystemExit(f"{self.name}: loom run failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        info = json.loads((run / "run.json").read_text())
        self.speed = info["nodes"]["train"].get("speed", {})
        accuracy = float(info["nodes"]["evaluate"]["report"]["accuracy"])
        self.accuracies.append(accuracy)
        return epoch_seconds(run), accuracy


def describe(side: Side) -> str:
    s = side.speed
    if not s:
        return f"{side.name}: (no speed record: a Loom before the speed policy; torch's default threads)"
    return (f"{side.name}: {s['threads']} thread(s) ({s['threads_reason']}), {s['precision']}, "
            f"channels_last {s['channels_last']}, compile {s['compile']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=4, help="ABBA rounds (at least 4 for the acceptance figure)")
    parser.add_argument("--epochs", type=int, default=15, help="epochs per run (the example's own: 15)")
    parser.add_argument("--same-threads", type=int, metavar="N", help="give both sides N threads: what bf16, "
                        "channels_last and compile alone are worth, without the thread choice")
    parser.add_argument("--out", default=None, help="where the runs go (default: a temporary folder, removed)")
    parser.add_argument("--baseline", default=BASELINE, help="A's engine: a git commit (default: the one issue 16 "
                        "measured), or 'flags' for this checkout with the speed policy turned off")
    args = parser.parse_args()
    tmp = None
    if args.out is None:
        tmp = tempfile.mkdtemp(prefix="loom-cnn-speed-")
        out = Path(tmp)
    else:
        out = Path(args.out)
    home = out / "loom-home"  # B's thread measurement is made once here, as a user's first run makes it
    threads = args.same_threads or torch_default_threads()
    if args.baseline == "flags":
        a = Side("A", ["--set", "train.amp=false", "--set", "train.compile=off", "--set", "train.channels_last=false",
                       "--threads", str(threads)], out, home, args.epochs)
    else:
        old = unpack_commit(args.baseline, out / f"loom-{args.baseline}")
        if args.same_threads:
            raise SystemExit("--same-threads needs --baseline flags (the old engine has no --threads)")
        a = Side("A", [], out, home, args.epochs, old)
    print(f"A: {'this checkout, policy off' if args.baseline == 'flags' else 'Loom at ' + args.baseline}; "
          "B: this checkout, the policy's defaults", flush=True)
    b = Side("B", ["--threads", str(args.same_threads)] if args.same_threads else [], out, home, args.epochs)
    print(f"digits CNN, {args.epochs} epochs per run, {args.rounds} ABBA rounds; figures are seconds per epoch, "
          f"ratio = A/B = B's speed-up ({load_average()})", flush=True)
    try:
        pairs = abba(a, b, args.rounds)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    per_round = ratios(pairs)
    print(describe(a))
    print(describe(b))
    print(f"A seconds/epoch median {statistics.median(p[0][0] for p in pairs):.3f}, "
          f"B {statistics.median(p[1][0] for p in pairs):.3f}")
    print(summary("B's per-epoch speed-up over A", per_round, TARGET_SPEEDUP))
    acc_a, acc_b = min(a.accuracies), min(b.accuracies)
    print(f"test accuracy: A min {acc_a:.4f} (median {statistics.median(a.accuracies):.4f}), "
          f"B min {acc_b:.4f} (median {statistics.median(b.accuracies):.4f}); target >= {TARGET_ACCURACY}")
    met = statistics.median(per_round) >= TARGET_SPEEDUP and acc_b >= TARGET_ACCURACY
    print("acceptance met" if met else "acceptance NOT met")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
