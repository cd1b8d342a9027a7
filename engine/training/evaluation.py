"""Scoring a trained classifier on one split: numbers, pictures and files.

Produces the report kept in run.json (accuracy, macro and per-class
precision/recall/F1, the confusion matrix), the confusion matrix as an image
event, PNG and CSV, the most confident mistakes (a grid of images; for texts
a table in the report and ``mistakes.csv``, with each text), optional FGSM
robustness, what fell in each confusion cell (:mod:`engine.training.cells`), and for k-fold models the mean ± std over the fold models.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import torch

from engine.context import StepContext
from engine.data.datasets import ImageDataset, TensorDataset
from engine.data.texts import TextDataset
from engine.errors import UserInputError
from engine.fileio import atomic_write_text
from engine.models import TrainedModel
from engine.training.metrics import classification_report, mean_std
from engine.training.scores import evaluate_split


def parse_epsilons(text: str, where: str) -> list[float]:
    """'0.01, 0.05' -> [0.0, 0.01, 0.05] (clean accuracy first); empty text -> []."""
    parts = [p.strip() for p in str(text).replace(";", ",").split(",") if p.strip()]
    try:
        values = sorted({float(p) for p in parts})
    except ValueError:
        raise UserInputError(f"{where}: {text!r} must be numbers separated by commas, e.g. 0.01,0.05") from None
    if any(v < 0 or v > 1 for v in values):
        raise UserInputError(f"{where}: each epsilon must be between 0 and 1 (pixel units)")
    return sorted({0.0, *values}) if values else []


def check_compatible(trained: TrainedModel, data: TensorDataset, node_id: str) -> None:
    if data.labels is None:
        raise UserInputError(f"node '{node_id}': the dataset '{data.name}' has no labels to score against")
    if tuple(data.sample_shape) != tuple(trained.sample_shape):
        raise UserInputError(
            f"node '{node_id}': the model was trained on samples of shape {list(trained.sample_shape)} but this "
            f"data has {list(data.sample_shape)} — feed it data prepared the same way"
        )
    tokenizer = trained.inputs.get("tokenizer_json")
    if tokenizer and isinstance(data, TextDataset) and data.tokenizer_json != tokenizer:
        raise UserInputError(f"node '{node_id}': these texts were tokenized with another tokenizer than the model's "
                             "— evaluate on the output of the tokenize step the model was trained from")
    if list(data.classes) != list(trained.classes):
        raise UserInputError(f"node '{node_id}': the data's classes {data.classes[:5]}… differ from the model's "
                             f"{trained.classes[:5]}…")


def write_confusion_csv(path, cm: list[list[int]], classes: list[str]) -> None:  # noqa: ANN001
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["true \\ predicted", *classes])
    for name, row in zip(classes, cm, strict=True):
        w.writerow([name, *row])
    atomic_write_text(path, buf.getvalue())


def evaluate_classifier(ctx: StepContext, trained: TrainedModel, data: TensorDataset, split: str,
                        mistakes: int, epsilons: list[float]) -> dict[str, Any]:
    from engine.training.figures import confusion_image, mistakes_grid, save_png

    check_compatible(trained, data, ctx.node_id)
    if len(data.split(split)) == 0:
        raise UserInputError(f"node '{ctx.node_id}', param 'split': the '{split}' split is empty — pick another")
    result = evaluate_split(trained.module, data, split, ctx.device)
    report = classification_report(result["true"], result["pred"], trained.classes)
    report.update(split=split, loss=round(result["loss"], 6))
    out = ctx.node_dir
    pixels = confusion_image(report["confusion_matrix"], trained.classes)
    save_png(pixels, out / "confusion_matrix.png")
    write_confusion_csv(out / "confusion_matrix.csv", report["confusion_matrix"], trained.classes)
    ctx.image("confusion_matrix", pixels, path=out / "confusion_matrix.png")
    ctx.artifact("confusion_matrix_csv", out / "confusion_matrix.csv")
    _cells(ctx, trained, data, split, result)
    if mistakes > 0 and isinstance(data, ImageDataset):
        report["mistakes_shown"] = _mistakes(ctx, trained, data, split, result, mistakes, mistakes_grid, save_png)
    elif mistakes > 0 and isinstance(data, TextDataset):
        report["mistakes"] = text_mistakes(ctx, trained, data, split, result, mistakes)
        report["mistakes_shown"] = len(report["mistakes"])
    if epsilons:
        from engine.training.adversarial import robustness

        acc = robustness(trained.module, data, split, epsilons, ctx.device)
        report["robustness_fgsm"] = acc
        ctx.log("accuracy under FGSM: " + ", ".join(f"eps {k}: {v:.4f}" for k, v in acc.items()))
    folds = trained.extra.get("fold_models")
    if folds:
        fold_reports = []
        for module in folds:
            r = evaluate_split(module, data, split, ctx.device)
            rep = classification_report(r["true"], r["pred"], trained.classes)
            rep["loss"] = r["loss"]
            fold_reports.append(rep)
        report["kfold"] = {"k": len(folds), **mean_std(fold_reports)}
        a, f = report["kfold"]["accuracy"], report["kfold"]["f1_macro"]
        ctx.log(f"{len(folds)} fold models on {split}: accuracy {a['mean']:.4f} ± {a['std']:.4f}, "
                f"macro F1 {f['mean']:.4f} ± {f['std']:.4f}")
    for name in ("accuracy", "f1_macro", "precision_macro", "recall_macro"):
        ctx.metric(f"{split}_{name}", report[name], step=0)
    return report


def _cells(ctx: StepContext, trained: TrainedModel, data: TensorDataset, split: str, result: dict[str, Any]) -> None:
    """Keep what fell in each confusion cell (predictions.csv, cells.json, thumbnails) for the app's drill-down."""
    from engine.training.cells import write_cells

    images = data.images01 if isinstance(data, ImageDataset) else None
    texts = (lambda i: sample_text(data, i)) if isinstance(data, TextDataset) else None
    for path in write_cells(ctx.node_dir, list(trained.classes), split, result, data.split(split), images, texts):
        ctx.artifact(path.name.replace(".", "_"), path)


def sample_text(data: TextDataset, i: int) -> str:
    return data.texts[i] if i < len(data.texts) else data.tokenizer.decode(data.x[i])


def most_confident_mistakes(result: dict[str, Any], limit: int) -> torch.Tensor:
    """Positions (within the split) of the ``limit`` wrong predictions the model was surest of, surest first."""
    wrong = torch.nonzero(result["pred"] != result["true"]).flatten()
    confidence = result["probs"][wrong].max(1).values
    return wrong[confidence.argsort(descending=True, stable=True)][:limit]


def _mistakes(ctx: StepContext, trained: TrainedModel, data: ImageDataset, split: str, result: dict[str, Any],
              limit: int, grid, save) -> int:  # noqa: ANN001 - the figure helpers
    """Save the ``limit`` wrong predictions the model was surest of; returns how many."""
    order = most_confident_mistakes(result, limit)
    if len(order) == 0:
        return 0
    idx = data.split(split)[order]
    images = data.images01(idx)
    captions = [
        f"true {trained.classes[int(result['true'][i])]}\n"
        f"-> {trained.classes[int(result['pred'][i])]} {float(result['probs'][i].max()):.0%}"
        for i in order
    ]
    pixels = grid(images, captions)
    path = ctx.node_dir / "mistakes.png"
    save(pixels, path)
    ctx.image("mistakes", pixels, path=path)
    return len(order)


SHOWN_CHARS = 300  # of each mistaken text in the report (the GUI's table); mistakes.csv has them whole


def text_mistakes(ctx: StepContext, trained: TrainedModel, data: TextDataset, split: str, result: dict[str, Any],
                  limit: int) -> list[dict[str, Any]]:
    """The most confident wrong predictions with their text: a report list (for the GUI's table) and mistakes.csv."""
    order = most_confident_mistakes(result, limit)
    idx = data.split(split)[order]
    rows = []
    for rank, (pos, i) in enumerate(zip(order.tolist(), idx.tolist(), strict=True), 1):
        probs = result["probs"][pos]
        text = sample_text(data, i)
        rows.append({"rank": rank, "sample": i, "true": trained.classes[int(result["true"][pos])],
                     "predicted": trained.classes[int(result["pred"][pos])],
                     "confidence": round(float(probs.max()), 4),
                     "p_true": round(float(probs[int(result["true"][pos])]), 4), "text": text})
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["rank", "sample", "true", "predicted", "confidence", "p_true", "text"])
    writer.writeheader()
    writer.writerows(rows)
    path = ctx.node_dir / "mistakes.csv"
    atomic_write_text(path, buf.getvalue())
    ctx.artifact("mistakes_csv", path)
    if rows:
        top = rows[0]
        ctx.log(f"surest mistake: {top['true']} read as {top['predicted']} ({top['confidence']:.0%}): "
                f"{_shorten(top['text'], 120)!r} — all {len(rows)} in {path.name}")
    return [{**row, "text": _shorten(row["text"], SHOWN_CHARS)} for row in rows]


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
