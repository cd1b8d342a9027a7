"""The supervised classification loop.

One pass per epoch over the training split, batched on the device by index
permutation; per-step training loss and per-epoch validation loss, accuracy
and macro F1 go out as metric events.  The loop checks the run control
between batches (Stop is answered within one batch), writes a checkpoint at
the end of an epoch (at most every 30 s), at the end and on Stop, and
resumes from one exactly.

Everything optional (augmentation, adversarial examples, clipping, the LR
schedule, the time budget) is decided once before the loop, so the default
configuration's per-step cost is the plain PyTorch step plus a few branches.
Early stopping and "keep the best" watch one validation metric and restore
the best epoch's weights at the end.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812

from engine import events as ev
from engine.context import StepContext
from engine.data.datasets import ImageDataset, TensorDataset
from engine.errors import RunStopped, UserInputError
from engine.models import ModelSpec, TrainedModel, build_model
from engine.training.common import (
    FromParams,
    amp_enabled,
    autocast,
    capture_rng,
    ensure_finite,
    load_checkpoint,
    make_optimizer,
    make_scaler,
    restore_rng,
    save_checkpoint,
    seed_everything,
)
from engine.training.schedules import make_scheduler

# Epoch-end checkpoints are written at most this often (and always at the end and
# on Stop): with fast epochs, writing every epoch would cost more than training.
CHECKPOINT_INTERVAL_S = 30.0


@dataclass
class FitConfig(FromParams):
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    momentum: float = 0.9
    schedule: str = "constant"
    step_epochs: int = 10
    gamma: float = 0.1
    label_smoothing: float = 0.0
    class_weights: str = "none"
    grad_clip: float = 0.0
    monitor: str = "val_loss"
    patience: int = 0  # 0: no early stopping
    restore_best: bool = True
    time_budget: float = 0.0  # minutes; 0: no limit
    adversarial_eps: float = 0.0  # FGSM epsilon in pixel units; 0: off
    kfold: int = 0
    seed: int = 0
    amp: bool = True
    log_every: int = 1



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
    """Train one model (or ``cfg.kfold`` of them: see :mod:`engine.training.kfold`)."""
    check_classification_data(data, ctx.node_id)
    if cfg.kfold >= 2:
        from engine.training.kfold import fit_kfold

        return fit_kfold(ctx, data, spec, cfg)
    return _Fit(ctx, data, spec, cfg).run()


def balanced_class_weights(data: TensorDataset, device: str) -> torch.Tensor:
    """``n / (k * count_c)`` over the training split: rare classes weigh more."""
    assert data.labels is not None
    counts = torch.bincount(data.labels[data.split("train")], minlength=data.num_classes).float()
    weights = len(data.split("train")) / (data.num_classes * counts.clamp(min=1))
    return weights.to(device)


def _better(monitor: str, value: float, best: float | None) -> bool:
    if best is None or math.isnan(best):
        return not math.isnan(value)
    return value < best if monitor == "val_loss" else value > best


class _Fit:
    """One training run of one model; ``tag`` prefixes metric names (k-fold: ``fold2/``)."""

    def __init__(self, ctx: StepContext, data: TensorDataset, spec: ModelSpec, cfg: FitConfig,
                 tag: str = "", ckpt_dir: Path | None = None, step_offset: int = 0) -> None:
        self.ctx, self.data, self.spec, self.cfg, self.tag = ctx, data, spec, cfg, tag
        self.step_offset = step_offset  # k-fold: folds continue one another's step axis
        self.device = ctx.device
        self.ckpt_dir = ckpt_dir or ctx.node_dir / "checkpoints"
        self.has_val = len(data.split("val")) > 0

    # -- setup -------------------------------------------------------------------
    def _build(self) -> None:
        from engine.models.weights import prepare_model

        cfg, data, device = self.cfg, self.data, self.device
        seed_everything(cfg.seed)
        model = build_model(self.spec, data.sample_shape, data.num_classes)
        prepare_model(model, self.spec, self.ctx)
        self.model = model.to(device)
        trainable = [p for p in model.parameters() if p.requires_grad]
        if not trainable:
            raise UserInputError(f"node '{self.ctx.node_id}': every weight of the model is frozen — nothing to train")
        self.optimizer = make_optimizer(cfg.optimizer, trainable, cfg.lr, cfg.weight_decay, cfg.momentum)
        self.use_amp = amp_enabled(device, cfg.amp)
        self.scaler = make_scaler(device, self.use_amp)
        self.steps_per_epoch = data.num_batches("train", cfg.batch_size)
        self.total_steps = self.steps_per_epoch * cfg.epochs
        self.scheduler = make_scheduler(
            self.optimizer, cfg.schedule, self.total_steps, self.steps_per_epoch, cfg.step_epochs, cfg.gamma
        )
        weight = balanced_class_weights(data, device) if cfg.class_weights == "balanced" else None
        self.loss_fn = functools.partial(F.cross_entropy, weight=weight, label_smoothing=cfg.label_smoothing)
        self.aug_gen = torch.Generator().manual_seed(cfg.seed + 7919)
        self.augment = isinstance(data, ImageDataset) and bool(data.augment)
        if cfg.adversarial_eps > 0:
            from engine.training.adversarial import PixelSpace

            self.space = PixelSpace.of(data, device)

    # -- checkpoints -------------------------------------------------------------
    def _save(self, epoch: int, batch: int, step: int) -> None:
        """Everything an exact resume needs, from the start of batch ``batch`` of ``epoch``."""
        state: dict[str, Any] = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": capture_rng(),
            "aug_rng": self.aug_gen.get_state(),
            "position": {"epoch": epoch, "batch": batch, "step": step},
            "finished": False,
            **self._summary(),
        }
        if self.scheduler is not None:
            state["scheduler"] = self.scheduler.state_dict()
        if self.best_state is not None and self.best_dirty:
            save_checkpoint(self.ckpt_dir / "best.pt", {"model": self.best_state, "epoch": self.best_epoch})
            self.best_dirty = False
        self._write(state)

    def _save_final(self, step: int) -> None:
        """The weights the step hands on (the best epoch's when restored) and no optimiser state.

        A finished part is never trained further, so its checkpoint is a third
        of the size and best.pt, which it supersedes, goes away.
        """
        self._write({"model": self.model.state_dict(), "finished": True,
                     "position": {"epoch": self.cfg.epochs, "batch": 0, "step": step}, **self._summary()})
        (self.ckpt_dir / "best.pt").unlink(missing_ok=True)

    def _summary(self) -> dict[str, Any]:
        return {
            "best": {"epoch": self.best_epoch, "value": self.best_value, "bad_epochs": self.bad_epochs},
            "elapsed": time.perf_counter() - self.t_start,
            "history": self.history,
        }

    def _write(self, state: dict[str, Any]) -> None:
        path = self.ckpt_dir / "last.pt"
        save_checkpoint(path, state)
        self.last_save = time.perf_counter()
        self.ctx.artifact("checkpoint", path)

    def _restore(self) -> tuple[int, int, int, bool]:
        """Continue a resumed run; returns (epoch, next batch, step, finished)."""
        ctx = self.ctx
        path = self.ckpt_dir / "last.pt"
        if ctx.resume_dir is None or not path.exists():
            if ctx.resume_dir is not None:
                ctx.log("no checkpoint to resume from for this step: starting it from the beginning", "warning")
                ctx.bus.emit(ev.Rewind(node_id=ctx.node_id, step=self.step_offset))
            return 1, 0, 0, False
        state = load_checkpoint(path, map_location=self.device)
        self.model.load_state_dict(state["model"])
        best = state["best"]
        self.best_epoch, self.best_value, self.bad_epochs = best["epoch"], best["value"], best["bad_epochs"]
        self.t_start -= float(state.get("elapsed", 0.0))
        self.history = dict(state.get("history", {}))
        pos = state["position"]
        if state.get("finished"):  # a finished (k-fold) part: its weights are final, its metric rows stay
            ctx.log(f"{self.tag}already finished at step {pos['step']}: reusing its weights")
            return int(pos["epoch"]) + 1, 0, int(pos["step"]), True
        self.optimizer.load_state_dict(state["optimizer"])
        self.scaler.load_state_dict(state["scaler"])
        if self.scheduler is not None and "scheduler" in state:
            self.scheduler.load_state_dict(state["scheduler"])
        restore_rng(state["rng"])
        self.aug_gen.set_state(state["aug_rng"])
        best_path = self.ckpt_dir / "best.pt"
        if best_path.exists():
            self.best_state = load_checkpoint(best_path, map_location=self.device)["model"]
        ctx.bus.emit(ev.Rewind(node_id=ctx.node_id, step=int(pos["step"]) + self.step_offset))
        ctx.log(f"{self.tag}resumed at step {pos['step']} (epoch {pos['epoch']}, batch {pos['batch']})")
        return int(pos["epoch"]), int(pos["batch"]), int(pos["step"]), False

    # -- the loop -------------------------------------------------------------------
    def _train_step(self, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        cfg, model = self.cfg, self.model
        if self.augment:
            xb = self.data.augmented(xb, self.aug_gen)  # type: ignore[attr-defined]
        if cfg.adversarial_eps > 0:
            from engine.training.adversarial import fgsm

            x_adv = fgsm(model, xb, yb, cfg.adversarial_eps, self.space, self.loss_fn)
            xb, yb = torch.cat([xb, x_adv]), torch.cat([yb, yb])
        with autocast(self.device, self.use_amp):
            loss = self.loss_fn(model(xb), yb)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if cfg.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.scheduler is not None:
            self.scheduler.step()
        return loss

    def _set_train(self) -> None:
        self.model.train()
        for module in getattr(self.model, "_loom_frozen", ()):  # frozen parts keep their BN statistics
            module.eval()

    def run(self) -> TrainedModel:
        ctx, cfg, data = self.ctx, self.cfg, self.data
        self._build()
        self.best_state: dict[str, torch.Tensor] | None = None
        self.best_epoch, self.best_value, self.bad_epochs, self.best_dirty = 0, None, 0, False
        self.history: dict[str, Any] = {}
        self.t_start = self.last_save = time.perf_counter()
        epoch, start_batch, step, finished = self._restore()
        budget_s = cfg.time_budget * 60.0
        tag, spe, total = self.tag, self.steps_per_epoch, self.total_steps
        n_train = len(data.split("train"))
        ctx.log(f"{tag}training {self.spec.arch} on {n_train} samples, {cfg.epochs} epochs x {spe} steps, {self.device}"
                + (f", time budget {cfg.time_budget:g} min" if budget_s else ""))
        stop_reason = "finished" if finished else ""
        batch = start_batch
        try:
            while not stop_reason and epoch <= cfg.epochs:
                self._set_train()
                batch = start_batch
                for xb, yb in data.batches("train", cfg.batch_size, self.device, shuffle=True, seed=cfg.seed,
                                           epoch=epoch, start_batch=start_batch):
                    ctx.check()
                    loss = self._train_step(xb, yb)
                    step += 1
                    batch += 1
                    if step % cfg.log_every == 0 or step == total:
                        value = loss.item()
                        ensure_finite(value, "the training loss", step)
                        ctx.metric(f"{tag}train_loss", value, step + self.step_offset, epoch)
                        elapsed = time.perf_counter() - self.t_start
                        fraction = step / total
                        if budget_s:
                            fraction = max(fraction, elapsed / budget_s)
                        ctx.progress(fraction, step=step, total_steps=total, epoch=epoch, total_epochs=cfg.epochs,
                                     samples_per_s=step * cfg.batch_size / max(elapsed, 1e-9),
                                     eta_s=elapsed / max(fraction, 1e-9) * (1 - fraction))
                        if budget_s and elapsed >= budget_s:
                            stop_reason = "time_budget"
                            break
                start_batch = 0
                stop_reason = self._end_epoch(epoch, step) or stop_reason
                epoch += 1
                done = bool(stop_reason) or epoch > cfg.epochs
                if not done and time.perf_counter() - self.last_save >= CHECKPOINT_INTERVAL_S:
                    self._save(epoch, 0, step)
        except RunStopped:
            self._save(epoch, batch, step)
            raise
        return self._finish(stop_reason or "finished", step, save=not finished)

    def _end_epoch(self, epoch: int, step: int) -> str:
        """Validate, track the best epoch; returns "early_stopping" when patience runs out."""
        if not self.has_val:
            return ""
        cfg, tag = self.cfg, self.tag
        val = validation_scores(self.model, self.data, self.device, cfg.batch_size * 4)
        for name in ("loss", "accuracy", "f1"):
            self.ctx.metric(f"{tag}val_{name}", val[name], step + self.step_offset, epoch)
        value = val[cfg.monitor.removeprefix("val_")]
        self.history.setdefault("val_curve", []).append(round(float(value), 6))
        if _better(cfg.monitor, value, self.best_value):
            self.best_value, self.best_epoch, self.bad_epochs = value, epoch, 0
            if cfg.restore_best or cfg.patience:
                self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
                self.best_dirty = True
            self.history.update(best_epoch=epoch, val_loss=val["loss"], val_accuracy=val["accuracy"], val_f1=val["f1"])
        else:
            self.bad_epochs += 1
            if cfg.patience and self.bad_epochs >= cfg.patience:
                self.ctx.log(f"{tag}early stopping at epoch {epoch}: {cfg.monitor} has not improved for "
                             f"{cfg.patience} epochs (best {self.best_value:.4f} at epoch {self.best_epoch})")
                return "early_stopping"
        return ""

    def _finish(self, reason: str, step: int, save: bool) -> TrainedModel:
        cfg, data, model = self.cfg, self.data, self.model
        if reason == "time_budget":
            self.ctx.log(f"{self.tag}time budget of {cfg.time_budget:g} min reached at step {step}")
        if self.best_state is not None and cfg.restore_best:
            model.load_state_dict(self.best_state)
            self.ctx.log(f"{self.tag}restored the weights of epoch {self.best_epoch} "
                         f"({cfg.monitor} {self.best_value:.4f})")
        if save:
            self._save_final(step)
        model.eval()
        history = dict(self.history)
        history.pop("val_curve", None)
        history.update(monitor=cfg.monitor, stopped=reason, steps=step,
                       train_seconds=round(time.perf_counter() - self.t_start, 3))
        return TrainedModel(
            spec=self.spec,
            module=model,
            sample_shape=data.sample_shape,
            classes=list(data.classes),
            normalization=data.normalization.to_json() if isinstance(data, ImageDataset) else None,
            input_kind="image" if isinstance(data, ImageDataset) else "table",
            history=history,
            extra=_input_facts(data),
        )


def _input_facts(data: TensorDataset) -> dict[str, Any]:
    """How raw inputs became the model's inputs (for model cards): table encoding, image decoding."""
    if isinstance(data, ImageDataset):
        decode = dict(getattr(data, "decode", {}) or {})
        return {"decode": decode} if decode else {}
    encoding = dict(getattr(data, "encoding", {}) or {})
    return {"encoding": encoding} if encoding else {}


@torch.inference_mode()
def validation_scores(model: torch.nn.Module, data: TensorDataset, device: str, batch_size: int) -> dict[str, float]:
    """Loss, accuracy and macro F1 on the val split: the per-epoch check, kept lean.

    It runs after every epoch, so unlike :func:`evaluate_split` it keeps no
    probabilities and syncs with the device once per number.
    """
    from engine.training.metrics import macro_f1

    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), device=device)
    preds, trues = [], []
    for xb, yb in data.batches("val", batch_size, device):
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
