"""The supervised classification loop.

One pass per epoch over the training split, batched on the device by index
permutation; per-step training loss and per-epoch validation loss and
accuracy go out as metric events.  The loop checks the run control between
batches, so Stop is answered within one batch, and it writes a checkpoint at
the end of each epoch and on Stop.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812

from engine.context import StepContext
from engine.data.datasets import ImageDataset, TensorDataset
from engine.errors import RunStopped, UserInputError
from engine.models import ModelSpec, TrainedModel, build_model
from engine.training.common import (
    amp_enabled,
    autocast,
    capture_rng,
    ensure_finite,
    make_optimizer,
    make_scaler,
    save_checkpoint,
    seed_everything,
)


@dataclass
class FitConfig:
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    seed: int = 0
    amp: bool = True
    log_every: int = 1

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> FitConfig:
        names = cls.__dataclass_fields__.keys()
        return cls(**{k: v for k, v in params.items() if k in names})


def check_classification_data(data: TensorDataset, node_id: str) -> None:
    if data.labels is None:
        raise UserInputError(f"node '{node_id}': the dataset '{data.name}' has no labels — a classifier needs a class per sample")
    if data.num_classes < 2:
        raise UserInputError(
            f"node '{node_id}': the dataset '{data.name}' has {data.num_classes} class — a classifier needs at least 2"
        )
    if len(data.split("train")) == 0:
        raise UserInputError(f"node '{node_id}': the dataset '{data.name}' has no training samples")


def fit_classifier(ctx: StepContext, data: TensorDataset, spec: ModelSpec, cfg: FitConfig) -> TrainedModel:
    check_classification_data(data, ctx.node_id)
    seed_everything(cfg.seed)
    device = ctx.device
    model = build_model(spec, data.sample_shape, data.num_classes).to(device)
    optimizer = make_optimizer(cfg.optimizer, model.parameters(), cfg.lr, cfg.weight_decay)
    use_amp = amp_enabled(device, cfg.amp)
    scaler = make_scaler(device, use_amp)
    steps_per_epoch = data.num_batches("train", cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    n_train = len(data.split("train"))
    ckpt_path = ctx.node_dir / "checkpoints" / "last.pt"

    def checkpoint(epoch: int, step: int) -> None:
        save_checkpoint(
            ckpt_path,
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scaler": scaler.state_dict(),
                "rng": capture_rng(),
                "epoch": epoch,
                "step": step,
            },
        )
        ctx.artifact("checkpoint", ckpt_path)

    step, t_start = 0, time.perf_counter()
    history: dict[str, Any] = {}
    ctx.log(f"training {spec.arch} on {n_train} samples, {cfg.epochs} epochs x {steps_per_epoch} steps, {device}")
    try:
        for epoch in range(1, cfg.epochs + 1):
            model.train()
            for xb, yb in data.batches("train", cfg.batch_size, device, shuffle=True, seed=cfg.seed, epoch=epoch):
                ctx.check()
                with autocast(device, use_amp):
                    loss = F.cross_entropy(model(xb), yb)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                step += 1
                if step % cfg.log_every == 0 or step == total_steps:
                    value = loss.item()
                    ensure_finite(value, "the training loss", step)
                    ctx.metric("train_loss", value, step, epoch)
                    elapsed = time.perf_counter() - t_start
                    ctx.progress(
                        step / total_steps,
                        step=step,
                        total_steps=total_steps,
                        epoch=epoch,
                        total_epochs=cfg.epochs,
                        samples_per_s=step * cfg.batch_size / max(elapsed, 1e-9),
                        eta_s=elapsed / step * (total_steps - step),
                    )
            if len(data.split("val")):
                val = evaluate_split(model, data, "val", device, cfg.batch_size * 4)
                ctx.metric("val_loss", val["loss"], step, epoch)
                ctx.metric("val_accuracy", val["accuracy"], step, epoch)
                history = {"epoch": epoch, "val_loss": val["loss"], "val_accuracy": val["accuracy"]}
            checkpoint(epoch, step)
    except RunStopped:
        checkpoint(epoch, step)
        raise
    model.eval()
    return TrainedModel(
        spec=spec,
        module=model,
        sample_shape=data.sample_shape,
        classes=list(data.classes),
        normalization=data.normalization.to_json() if isinstance(data, ImageDataset) else None,
        input_kind="image" if isinstance(data, ImageDataset) else "table",
        history=history,
    )


@torch.inference_mode()
def evaluate_split(
    model: torch.nn.Module, data: TensorDataset, split: str, device: str, batch_size: int = 512
) -> dict[str, Any]:
    """Loss, accuracy, predictions and labels of ``model`` on one split."""
    was_training = model.training
    model.eval()
    losses, preds, labels, probs = [], [], [], []
    for xb, yb in data.batches(split, batch_size, device):
        logits = model(xb).float()
        losses.append(F.cross_entropy(logits, yb, reduction="sum"))
        p = logits.softmax(1)
        probs.append(p.cpu())
        preds.append(p.argmax(1).cpu())
        labels.append(yb.cpu())
    model.train(was_training)
    if not preds:
        return {"loss": float("nan"), "accuracy": float("nan"), "pred": torch.empty(0), "true": torch.empty(0)}
    pred, true = torch.cat(preds), torch.cat(labels)
    return {
        "loss": float(torch.stack(losses).sum().item() / len(true)),
        "accuracy": float((pred == true).float().mean().item()),
        "pred": pred,
        "true": true,
        "probs": torch.cat(probs),
    }
