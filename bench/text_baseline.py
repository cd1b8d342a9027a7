"""Text classifier presets vs TF-IDF + logistic regression, on the same split, side by side.

The baseline is word 1-2 gram TF-IDF (sublinear term frequency) and a
logistic regression whose C is picked on the validation split.  Each preset
(``engine/text_presets.py``: the fast GRU and the Transformer) runs as an
ordinary workflow: the data node, ``tokenize`` (a tokenizer learned from the
training split), the model, ``train`` within ``--minutes`` of training (3 by
default, the issue's budget) on ``--threads`` CPU threads (2), early stopping
keeping the best epoch, and ``evaluate`` on the test split.  All score the
same test split (accuracy is the figure here: each model runs once, and its
time is printed with the load average as context, not as a speed claim); the table gives each model's test accuracy and macro F1,
its time, its accuracy as a ratio of the baseline's, and the gap in points
(the acceptance: at most 2 points below).

    python bench/text_baseline.py                       # the built-in ui_languages set
    python bench/text_baseline.py --csv reviews.csv --text-column text --label-column label
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import torch  # noqa: E402
from abba import load_average  # noqa: E402

from engine import Engine, Workflow  # noqa: E402
from engine.context import RunControl, StepContext  # noqa: E402
from engine.events import EventBus  # noqa: E402
from engine.steps.registry import get_step  # noqa: E402
from engine.store import read_run  # noqa: E402
from engine.text_presets import PRESETS, TextPreset  # noqa: E402
from engine.validation import resolved_params  # noqa: E402


def data_node(args: argparse.Namespace) -> dict[str, Any]:
    if args.csv is None:
        return {"type": "text_builtin", "params": {"dataset": "ui_languages"}}
    return {"type": "text_csv", "params": {"path": str(args.csv.resolve()), "text_columns": args.text_column,
                                           "label": args.label_column, "seed": args.seed}}


def raw_texts(node: dict[str, Any], folder: Path):  # noqa: ANN201 - RawTexts
    """The data node's texts and splits, exactly as the workflows will see them."""
    spec = get_step(node["type"])
    ctx = StepContext("data", resolved_params(spec, node["params"]), {}, "cpu", folder, EventBus(), RunControl())
    return spec.run(ctx)["data"]


def baseline(texts: list[str], labels: torch.Tensor, splits: dict[str, torch.Tensor]) -> dict[str, Any]:
    """TF-IDF (word 1-2 grams) + logistic regression, C chosen on the validation split."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    t0 = time.perf_counter()
    part = {name: [texts[int(i)] for i in idx] for name, idx in splits.items()}
    y = {name: labels[idx].numpy() for name, idx in splits.items()}
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    x_train = vec.fit_transform(part["train"])
    best = None
    for c in (1.0, 10.0, 100.0):
        clf = LogisticRegression(C=c, max_iter=3000).fit(x_train, y["train"])
        val = accuracy_score(y["val"], clf.predict(vec.transform(part["val"])))
        if best is None or val > best[0]:
            best = (val, c, clf)
    _, c, clf = best
    pred = clf.predict(vec.transform(part["test"]))
    return {"name": f"TF-IDF 1-2 grams + logistic regression (C={c:g})",
            "accuracy": accuracy_score(y["test"], pred), "f1": f1_score(y["test"], pred, average="macro"),
            "seconds": time.perf_counter() - t0}


def run_preset(engine: Engine, preset: TextPreset, node: dict[str, Any], minutes: float, seed: int,
               out: Path) -> dict[str, Any]:
    flow = Workflow.from_json({
        "schema": 1, "name": f"bench {preset.key}",
        "nodes": [{"id": "data", **node},
                  {"id": "tokenize", "type": "tokenize", "params": dict(preset.tokenize)},
                  {"id": "model", "type": preset.model_type, "params": dict(preset.model)},
                  {"id": "train", "type": "train", "params": {**preset.train, "time_budget": minutes, "seed": seed}},
                  {"id": "evaluate", "type": "evaluate", "params": {"split": "test", "mistakes": 0}}],
        "links": [{"source": "data.data", "target": "tokenize.data"},
                  {"source": "tokenize.data", "target": "train.data"},
                  {"source": "model.model", "target": "train.model"},
                  {"source": "train.model", "target": "evaluate.model"},
                  {"source": "tokenize.data", "target": "evaluate.data"}],
    })
    t0 = time.perf_counter()
    result = engine.run(flow, out_dir=out, device="cpu")
    if result.status != "succeeded":
        sys.exit(f"{preset.title}: {result.message}")
    nodes = read_run(out)["nodes"]
    report, history = nodes["evaluate"]["report"], nodes["train"]["report"]
    return {"name": f"{preset.title} ({preset.model_type})", "accuracy": report["accuracy"],
            "f1": report["f1_macro"], "seconds": time.perf_counter() - t0,
            "detail": f"{history.get('steps')} steps, best epoch {history.get('best_epoch')}, "
                      f"stopped: {history.get('stopped')}, {history.get('train_seconds', 0):.0f} s training"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--csv", type=Path, help="one text per row (default: the built-in ui_languages set)")
    ap.add_argument("--text-column", default="text")
    ap.add_argument("--label-column", default="label")
    ap.add_argument("--minutes", type=float, default=3.0, help="training budget per preset (default 3)")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads for training (default 2)")
    ap.add_argument("--presets", default="fast_gru,transformer", help=f"comma-separated: {', '.join(PRESETS)}")
    ap.add_argument("--seed", type=int, default=0, help="the split's (CSV) and the training's seed")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    node = data_node(args)
    with tempfile.TemporaryDirectory() as tmp:
        data = raw_texts(node, Path(tmp))
        splits = {name: data.split(name) for name in ("train", "val", "test")}
        print(f"{data.name}: {len(data)} texts, {data.num_classes} classes; train/val/test "
              f"{len(splits['train'])}/{len(splits['val'])}/{len(splits['test'])}; {args.threads} threads, "
              f"{args.minutes:g} min per preset ({load_average()})", flush=True)
        base = baseline(data.texts, data.labels, splits)
        rows = [base]
        engine = Engine(cache_dir=Path(tmp) / "cache")  # the data node is read once and reused
        for key in [k.strip() for k in args.presets.split(",") if k.strip()]:
            rows.append(run_preset(engine, PRESETS[key], node, args.minutes, args.seed, Path(tmp) / key))
            print(f"  {rows[-1]['name']}: {rows[-1]['detail']} ({load_average()})", flush=True)

    print(f"\n{'model':<52} {'test acc':>9} {'macro F1':>9} {'seconds':>8} {'vs baseline':>12} {'points':>7}")
    for row in rows:
        ratio = row["accuracy"] / base["accuracy"] if base["accuracy"] else float("nan")
        points = 100 * (row["accuracy"] - base["accuracy"])
        print(f"{row['name']:<52} {row['accuracy']:>9.4f} {row['f1']:>9.4f} {row['seconds']:>8.1f} "
              f"{ratio:>12.3f} {points:>+7.1f}")
    worst = min(rows[1:], key=lambda r: r["accuracy"], default=None)
    if worst is not None:
        ok = 100 * (worst["accuracy"] - base["accuracy"]) >= -2.0
        print(f"\nevery preset within 2 points of the baseline: {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
