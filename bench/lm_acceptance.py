"""Language-model acceptance figures, measured: first text sample, perplexity over a time budget, generate.

    python bench/lm_acceptance.py [FLOW] [--minutes 3] [--threads N] [--preload MODULE] [--out DIR]

Runs ``loom run FLOW`` (default ``resources/examples/lm_python_docs.json``)
in a fresh process with ``train.time_budget`` set, and prints: seconds from
launching the process to the first live sample file (target <= 10 s; the
app, with torch already loaded, is faster), the validation perplexity of the
untrained model (step 0), after the first epoch and at the end, with the
ratios (target: falls at least 3x within 3 minutes on 2 CPU cores), and the
start of one ``loom generate --prompt`` continuation.  ``--preload`` imports
a module first (a test-only data step, e.g. ``tests.text_lm_support``).
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from abba import load_average  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("flow", nargs="?", default=str(ROOT / "resources" / "examples" / "lm_python_docs.json"))
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    parser.add_argument("--preload", default="", help="a module to import first (test-only steps)")
    parser.add_argument("--node", default="train")
    parser.add_argument("--out", default="runs/bench-lm")
    args = parser.parse_args()
    out = Path(args.out)
    if out.exists():
        raise SystemExit(f"{out} exists: pass a new --out")
    code = ("import sys, torch; sys.path.insert(0, '.'); "
            + (f"torch.set_num_threads({args.threads}); " if args.threads else "")
            + (f"import {args.preload}; " if args.preload else "")
            + "from engine.cli import main; sys.exit(main(sys.argv[1:]))")
    first = out / args.node / "samples" / "step_000000.txt"
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", code, "run", args.flow, "--out", str(out), "-q", "--set",
                             f"{args.node}.time_budget={args.minutes}"], cwd=ROOT)
    while not first.exists() and proc.poll() is None:
        time.sleep(0.01)
    latency = time.monotonic() - t0
    if proc.wait() != 0:
        raise SystemExit(f"the run failed (exit {proc.returncode}): see {out / 'log.txt'}")
    with open(out / "metrics.csv", newline="", encoding="utf-8") as f:
        curve = [(int(r["step"]), float(r["value"])) for r in csv.DictReader(f)
                 if r["node"] == args.node and r["name"] == "val_perplexity"]
    print(f"first sample        {latency:6.1f} s after launch (target <= 10 s; one launch, {load_average()})")
    if len(curve) >= 2:
        (s0, p0), (s1, p1), (sn, pn) = curve[0], curve[1], curve[-1]
        print(f"val perplexity      step {s0}: {p0:.2f}   epoch 1 (step {s1}): {p1:.2f}   end (step {sn}): {pn:.2f}")
        print(f"falls               {p0 / pn:.1f}x from the untrained model, {p1 / pn:.1f}x from the first epoch "
              f"(target >= 3x in {args.minutes:g} min)")
    gen = subprocess.run([sys.executable, "-c", code, "generate", str(out), "--prompt", "The", "--n", "1",
                          "--max-tokens", "120", "--seed", "1"], cwd=ROOT, capture_output=True, text=True)
    print(f"loom generate       exit {gen.returncode}: {gen.stdout.strip()[:200]!r}")
    print(f"machine             {load_average()} at the end of the run")


if __name__ == "__main__":
    main()
