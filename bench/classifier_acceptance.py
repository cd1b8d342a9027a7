"""Classifier acceptance figures, measured: the CNN digits example and the transfer example.

    python bench/classifier_acceptance.py [--rounds 3] [--skip-transfer] [--out runs/bench]

Prints, for ``classify_digits_cnn.json`` run ``--rounds`` times: each round's
test accuracy (target >= 0.98) and wall time (target <= 90 s on 2 CPU cores)
with the load average, then the median and spread of the times (no best-of:
one round is as likely as another to have shared the machine), whether the
confusion-matrix PNG exists and per-class F1 is in run.json.  For ``transfer_shapes.json``: the
test accuracy of the fine-tuned (Loom-pretrained, frozen backbone) model next
to the same network trained from scratch on the same budget.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from abba import load_average  # noqa: E402

from engine import Engine, Workflow  # noqa: E402


def run_example(name: str, out: Path) -> tuple[dict, float]:
    wf = Workflow.load(ROOT / "resources" / "examples" / name)
    t0 = time.perf_counter()
    result = Engine(disk_cache=False).run(wf, out_dir=out, device="cpu")
    seconds = time.perf_counter() - t0
    if result.status != "succeeded":
        raise SystemExit(f"{name}: {result.status} — {result.message}")
    return json.loads((out / "run.json").read_text()), seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="runs/bench-classifiers")
    parser.add_argument("--rounds", type=int, default=3, help="runs of the digits CNN example")
    parser.add_argument("--skip-transfer", action="store_true")
    args = parser.parse_args(argv)
    out = Path(args.out)
    times, accuracies = [], []
    for r in range(1, args.rounds + 1):
        folder = out / f"digits_cnn-{r}"
        info, seconds = run_example("classify_digits_cnn.json", folder)
        ev = info["nodes"]["evaluate"]["report"]
        png = (folder / "evaluate" / "confusion_matrix.png").exists()
        f1 = all("f1" in c for c in ev["per_class"].values())
        times.append(seconds)
        accuracies.append(ev["accuracy"])
        print(f"  round {r}: classify_digits_cnn test accuracy {ev['accuracy']:.4f}, run {seconds:.1f} s "
              f"(train {info['timings']['train']:.1f} s), confusion PNG {png}, per-class F1 {f1} "
              f"({load_average()})", flush=True)
    print(f"classify_digits_cnn: test accuracy median {statistics.median(accuracies):.4f}, lowest "
          f"{min(accuracies):.4f} (target >= 0.98); run median {statistics.median(times):.1f} s, per-round "
          f"{min(times):.1f}..{max(times):.1f} s (target <= 90 s), {args.rounds} rounds, {load_average()}")
    if args.skip_transfer:
        return
    info, seconds = run_example("transfer_shapes.json", out / "transfer")
    nodes = info["nodes"]
    fine, scratch = nodes["evaluate"]["report"]["accuracy"], nodes["evaluate_scratch"]["report"]["accuracy"]
    source = nodes["pretrain"]["report"].get("val_accuracy")
    print(f"transfer_shapes: pretrain val accuracy {source:.4f}; target test accuracy fine-tuned {fine:.4f} vs "
          f"from scratch {scratch:.4f} (same epochs) — {'fine-tune wins' if fine > scratch else 'scratch wins'}; "
          f"run {seconds:.0f} s ({load_average()})")


if __name__ == "__main__":
    main()
