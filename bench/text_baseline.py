"""Text classifier presets vs TF-IDF + logistic regression, on the same split, side by side.

The baseline is word 1-2 gram TF-IDF (sublinear term frequency) and a
logistic regression whose C is picked on the validation split.  Each preset
(``engine/text_presets.py``: the fast GRU and the Transformer) trains
through the engine's ``train`` step, with its own tokenizer learned from the
training split, within ``--minutes`` of training (3 by default, the issue's
budget) and on ``--threads`` CPU threads (2); early stopping keeps the best
epoch.  All score the same test split; the table gives each model's test
accuracy and macro F1, its time, and its accuracy as a ratio of the
baseline's and the gap in points (the acceptance: at most 2 points below).

    python bench/text_baseline.py --csv reviews.csv --text-column text --label-column label
    python bench/text_baseline.py --csv reviews.csv --text-column text --label-column label --minutes 1

Until the built-in classification set lands, the data is a CSV file: one
row per text, the text and label columns named.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from engine import Engine, Workflow  # noqa: E402
from engine.data.splits import DEFAULT_FRACTIONS, stratified_split  # noqa: E402
from engine.data.texts import TextDataset  # noqa: E402
from engine.data.tokenizer import TextTokenizer  # noqa: E402
from engine.names import CachePolicy  # noqa: E402
from engine.params import Text  # noqa: E402
from engine.ports import TEXT_DATASET, Port  # noqa: E402
from engine.steps.registry import step  # noqa: E402
from engine.store import read_run  # noqa: E402
from engine.text_presets import PRESETS, TextPreset  # noqa: E402

PREPARED: dict[str, TextDataset] = {}  # preset key -> its tokenized data, handed to the bench's data step


@step("bench_texts", title="Bench texts", category="data", outputs=[Port("data", TEXT_DATASET)],
      cache=CachePolicy.NONE, params=[Text("preset", "", "Which preset's tokenized data.")])
def bench_texts(ctx) -> dict:  # noqa: ANN001 - the bench's stand-in for text_csv + tokenize
    return {"data": PREPARED[ctx.params["preset"]]}


def read_csv(path: Path, text_column: str, label_column: str) -> tuple[list[str], list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in (text_column, label_column) if c not in (reader.fieldnames or [])]
        if missing:
            sys.exit(f"{path}: no column {missing[0]!r} (it has {', '.join(reader.fieldnames or [])})")
        rows = [(r[text_column].strip(), r[label_column].strip()) for r in reader]
    rows = [(t, y) for t, y in rows if t and y]
    return [t for t, _ in rows], [y for _, y in rows]


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


def tokenized(preset: TextPreset, texts: list[str], labels: torch.Tensor, classes: list[str],
              splits: dict[str, torch.Tensor]) -> TextDataset:
    """The data as the preset's tokenize step makes it: a tokenizer learned from the training split only."""
    tok = preset.tokenize
    train_texts = [texts[int(i)] for i in splits["train"]]
    tokenizer = TextTokenizer.train(train_texts, tok["method"], tok["vocab_size"], tok.get("lowercase", False))
    x, cut = tokenizer.encode_batch(texts, tok["max_len"])
    print(f"  {preset.title}: {tokenizer.vocab_size} tokens ({tok['method']}), {cut} of {len(texts)} texts cut to "
          f"{tok['max_len']}", flush=True)
    return TextDataset(x=x, labels=labels, classes=classes, name="bench", splits=splits, texts=texts,
                       tokenizer_json=tokenizer.to_json(), tokenizer_method=tok["method"], pad_id=tokenizer.pad_id)


def run_preset(preset: TextPreset, minutes: float, seed: int, out: Path) -> dict[str, Any]:
    flow = Workflow.from_json({
        "schema": 1, "name": f"bench {preset.key}",
        "nodes": [{"id": "data", "type": "bench_texts", "params": {"preset": preset.key}},
                  {"id": "model", "type": preset.model_type, "params": dict(preset.model)},
                  {"id": "train", "type": "train",
                   "params": {**preset.train, "time_budget": minutes, "seed": seed}},
                  {"id": "evaluate", "type": "evaluate", "params": {"split": "test", "mistakes": 0}}],
        "links": [{"source": "data.data", "target": "train.data"}, {"source": "model.model", "target": "train.model"},
                  {"source": "train.model", "target": "evaluate.model"},
                  {"source": "data.data", "target": "evaluate.data"}],
    })
    t0 = time.perf_counter()
    result = Engine(disk_cache=False).run(flow, out_dir=out, device="cpu")
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
    ap.add_argument("--csv", type=Path, required=True, help="one text per row")
    ap.add_argument("--text-column", default="text")
    ap.add_argument("--label-column", default="label")
    ap.add_argument("--minutes", type=float, default=3.0, help="training budget per preset (default 3)")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads for training (default 2)")
    ap.add_argument("--presets", default="fast_gru,transformer", help=f"comma-separated: {', '.join(PRESETS)}")
    ap.add_argument("--seed", type=int, default=0, help="the split's and the training's seed")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    texts, names = read_csv(args.csv, args.text_column, args.label_column)
    classes = sorted(set(names))
    labels = torch.tensor([classes.index(n) for n in names])
    splits = stratified_split(labels, len(texts), DEFAULT_FRACTIONS, seed=args.seed)
    print(f"{args.csv}: {len(texts)} texts, {len(classes)} classes; train/val/test "
          f"{len(splits['train'])}/{len(splits['val'])}/{len(splits['test'])}; {args.threads} threads, "
          f"{args.minutes:g} min per preset", flush=True)

    base = baseline(texts, labels, splits)
    rows = [base]
    with tempfile.TemporaryDirectory() as tmp:
        for key in [k.strip() for k in args.presets.split(",") if k.strip()]:
            preset = PRESETS[key]
            PREPARED[key] = tokenized(preset, texts, labels, classes, splits)
            rows.append(run_preset(preset, args.minutes, args.seed, Path(tmp) / key))
            print(f"  {rows[-1]['name']}: {rows[-1]['detail']}", flush=True)

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
