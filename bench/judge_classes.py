"""Judge a class-conditional generator class by class: does "draw me a 7" give sevens?

    python bench/judge_classes.py RUN_DIR [--node train] [--n 100] [--threshold 0.9] [--seed 0]

For each class K of the run's generator card, N images are drawn exactly as
``loom generate RUN --class K --n N --seed S`` draws them (same latents, same
labels, rounded to 8-bit pixels as the PNGs are), and the judge of
``bench/judge_samples.py`` (a small CNN fitted on the run's own real images,
replayed from its workflow.json) labels them.  Reported per class: the share
labelled K (the acceptance figure: >= 85 %), and the share labelled K with
confidence >= threshold.  Exit status 0 always; it is a measuring tool.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from judge_samples import fit_judge, replay_data  # noqa: E402

from engine.generative.card import load_generator  # noqa: E402
from engine.generative.sampling import sample  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir")
    ap.add_argument("--node", default="train")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--threshold", type=float, default=0.9)
    ap.add_argument("--seed", type=int, default=0, help="the seed `loom generate` would be given (its default: 0)")
    args = ap.parse_args()
    run_dir = Path(args.run_dir)
    t0 = time.perf_counter()
    gen = load_generator(run_dir / args.node / "generator.json")
    if not gen.classes:
        print("the generator was not trained on classes: nothing to judge class by class", file=sys.stderr)
        return 0
    data = replay_data(run_dir, args.node)
    judge, x_te, y_te = fit_judge(data.x, data.labels, data.num_classes)
    mean = torch.tensor(gen.normalization["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(gen.normalization["std"]).view(1, -1, 1, 1)
    judged = {name: data.classes.index(name) if name in data.classes else None for name in gen.classes}
    per_class: dict[str, dict[str, float]] = {}
    with torch.no_grad():
        real_acc = float((judge(x_te).argmax(1) == y_te).float().mean())
        for k, name in enumerate(gen.classes):
            pixels = (sample(gen, args.n, args.seed, k) * 255).round() / 255  # as the PNGs hold them
            p = judge((pixels - mean) / std).softmax(1)
            conf, pred = p.max(1)
            target = judged[name]
            hit = pred == target if target is not None else torch.zeros_like(pred, dtype=torch.bool)
            per_class[name] = {"labelled_as_class": round(float(hit.float().mean()), 3),
                               "confidently_as_class": round(float((hit & (conf >= args.threshold)).float().mean()), 3)}
    shares = [v["labelled_as_class"] for v in per_class.values()]
    result = {
        "judge_accuracy_on_real": round(real_acc, 4),
        "samples_per_class": args.n,
        "per_class": per_class,
        "worst_class": min(per_class, key=lambda c: per_class[c]["labelled_as_class"]),
        "worst_share": min(shares),
        "mean_share": round(sum(shares) / len(shares), 3),
        "classes_at_or_above_85pct": f"{sum(s >= 0.85 for s in shares)}/{len(shares)}",
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
