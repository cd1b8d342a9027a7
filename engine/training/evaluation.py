"""Scoring a trained classifier on one split: numbers, pictures and files.

Produces the report kept in run.json (accuracy, macro and per-class
precision/recall/F1, the confusion matrix), the confusion matrix as an image
event, PNG and CSV, a grid of the most confident mistakes, optional FGSM
robustness, and for k-fold models the mean ± std over the fold models.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import torch

from engine.context import StepContext
from engine.data.datasets import ImageDataset, TensorDataset
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
    if mistakes > 0 and isinstance(data, ImageDataset):
        report["mistakes_shown"] = _mistakes(ctx, trained, data, split, result, mistakes, mistakes_grid, save_png)
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


def _mistakes(ctx: StepContext, trained: TrainedModel, data: ImageDataset, split: str, result: dict[str, Any],
              limit: int, grid, save) -> int:  # noqa: ANN001 - the figure helpers
    """Save the ``limit`` wrong predictions the model was surest of; returns how many."""
    wrong = torch.nonzero(result["pred"] != result["true"]).flatten()
    if len(wrong) == 0:
        return 0
    confidence = result["probs"][wrong].max(1).values
    order = wrong[confidence.argsort(descending=True)][:limit]
    idx = data.split(split)[order]
    images = data.pixels01(data.take(idx))
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
