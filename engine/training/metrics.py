"""Classification metrics from predictions, computed once from a confusion matrix."""

from __future__ import annotations

from typing import Any

import torch


def confusion_matrix(true: torch.Tensor, pred: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Rows are true classes, columns predicted classes."""
    idx = true.long() * num_classes + pred.long()
    return torch.bincount(idx, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def classification_report(true: torch.Tensor, pred: torch.Tensor, classes: list[str]) -> dict[str, Any]:
    """Accuracy, macro and per-class precision/recall/F1 (0 where undefined)."""
    k = len(classes)
    cm = confusion_matrix(true, pred, k).double()
    tp = cm.diag()
    predicted = cm.sum(0)
    actual = cm.sum(1)
    precision = torch.where(predicted > 0, tp / predicted.clamp(min=1), torch.zeros_like(tp))
    recall = torch.where(actual > 0, tp / actual.clamp(min=1), torch.zeros_like(tp))
    denom = precision + recall
    f1 = torch.where(denom > 0, 2 * precision * recall / denom.clamp(min=1e-12), torch.zeros_like(tp))
    present = actual > 0  # macro averages over classes present in the split
    macro = lambda t: float(t[present].mean()) if present.any() else 0.0  # noqa: E731
    return {
        "accuracy": float(tp.sum() / cm.sum().clamp(min=1)),
        "precision_macro": macro(precision),
        "recall_macro": macro(recall),
        "f1_macro": macro(f1),
        "per_class": {
            name: {
                "precision": round(float(precision[i]), 6),
                "recall": round(float(recall[i]), 6),
                "f1": round(float(f1[i]), 6),
                "support": int(actual[i]),
            }
            for i, name in enumerate(classes)
        },
        "confusion_matrix": cm.long().tolist(),
        "samples": int(cm.sum()),
    }


def macro_f1(true: torch.Tensor, pred: torch.Tensor, num_classes: int) -> float:
    """Macro F1 over the classes present in ``true`` (the validation metric of the loop)."""
    cm = confusion_matrix(true, pred, num_classes).double()
    tp, predicted, actual = cm.diag(), cm.sum(0), cm.sum(1)
    precision = tp / predicted.clamp(min=1)
    recall = tp / actual.clamp(min=1)
    f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
    present = actual > 0
    return float(f1[present].mean()) if present.any() else 0.0


def mean_std(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and standard deviation of every number in a list of reports (k-fold).

    Scalars become ``{"mean": m, "std": s}``; ``per_class`` keeps its nesting.
    The std is the sample standard deviation (0 for a single report).
    """

    def stats(values: list[float]) -> dict[str, float]:
        t = torch.tensor(values, dtype=torch.float64)
        std = float(t.std()) if len(values) > 1 else 0.0
        return {"mean": round(float(t.mean()), 6), "std": round(std, 6)}

    out: dict[str, Any] = {}
    for key in ("accuracy", "precision_macro", "recall_macro", "f1_macro", "loss"):
        values = [r[key] for r in reports if key in r]
        if values:
            out[key] = stats(values)
    per_class = [r["per_class"] for r in reports if "per_class" in r]
    if per_class:
        out["per_class"] = {
            name: {m: stats([pc[name][m] for pc in per_class]) for m in ("precision", "recall", "f1")}
            for name in per_class[0]
        }
    return out
