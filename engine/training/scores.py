"""A classifier's scores on one split: the lean per-epoch check and the full evaluation pass."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812

from engine.data.datasets import TensorDataset


def is_better(monitor: str, value: float, best: float | None) -> bool:
    """Does ``value`` of the validation metric ``monitor`` beat ``best`` (lower loss, higher scores)?"""
    import math

    if best is None or math.isnan(best):
        return not math.isnan(value)
    return value < best if monitor == "val_loss" else value > best


@torch.inference_mode()
def validation_scores(model: torch.nn.Module, data: TensorDataset, device: str, batch_size: int,
                      split: str = "val") -> dict[str, float]:
    """Loss, accuracy and macro F1 on ``split``: the per-epoch check, kept lean.

    It runs after every epoch, so unlike :func:`evaluate_split` it keeps no
    probabilities and syncs with the device once per number.
    """
    from engine.training.metrics import macro_f1

    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), device=device)
    preds, trues = [], []
    for xb, yb in data.batches(split, batch_size, device):
        logits = model(xb).float()
        loss_sum += F.cross_entropy(logits, yb, reduction="sum")
        preds.append(logits.argmax(1))
        trues.append(yb)
    model.train(was_training)
    pred, true = torch.cat(preds), torch.cat(trues)
    return {
        "loss": loss_sum.item() / len(true),
        "accuracy": (pred == true).float().mean().item(),
        "f1": macro_f1(true.cpu(), pred.cpu(), data.num_classes),
    }


@torch.inference_mode()
def evaluate_split(
    model: torch.nn.Module, data: TensorDataset, split: str, device: str, batch_size: int = 512,
) -> dict[str, Any]:
    """Loss, accuracy, predictions, labels and probabilities of ``model`` on one split."""
    was_training = model.training
    model.eval()
    losses, logits_all, labels = [], [], []
    for xb, yb in data.batches(split, batch_size, device):
        logits = model(xb).float()
        losses.append(F.cross_entropy(logits, yb, reduction="sum"))
        logits_all.append(logits.cpu())
        labels.append(yb.cpu())
    model.train(was_training)
    if not labels:
        nan = float("nan")
        return {"loss": nan, "accuracy": nan, "f1": nan, "pred": torch.empty(0, dtype=torch.long),
                "true": torch.empty(0, dtype=torch.long), "probs": torch.empty(0, data.num_classes)}
    logits, true = torch.cat(logits_all), torch.cat(labels)
    probs = logits.softmax(1)
    pred = probs.argmax(1)
    return {
        "loss": float(torch.stack(losses).sum().item() / len(true)),
        "accuracy": float((pred == true).float().mean().item()),
        "pred": pred,
        "true": true,
        "probs": probs,
        "logits": logits,
    }


def majority_share(data: TensorDataset, split: str) -> float:
    """Accuracy of always answering the most common class of ``split``: the chance level to beat."""
    assert data.labels is not None
    labels = data.labels[data.split(split)]
    if len(labels) == 0:
        return 0.0
    return float(torch.bincount(labels, minlength=data.num_classes).max().item() / len(labels))
