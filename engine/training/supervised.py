"""Supervised classification, as an algorithm of the loop driver.

One pass per epoch over the training split, batched on the device by index
permutation; per-step training loss and per-epoch validation loss, accuracy
and macro F1.  Everything optional (augmentation, adversarial examples,
clipping, the LR schedule) is decided once in ``setup``, so the default
configuration's per-step cost is the plain PyTorch step plus a few branches.
Early stopping and "keep the best" watch one validation metric and restore
the best epoch's weights at the end; a model that ends no better than always
answering the most common class is called out in the log and the report.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812

from engine.context import StepContext
from engine.data.datasets import TensorDataset
from engine.data.kinds import kind_of
from engine.errors import UserInputError
from engine.models import ModelSpec, TrainedModel, build_model
from engine.training.algorithm import Algorithm, Outcome
from engine.training.checkpoint import load_checkpoint, save_checkpoint
from engine.training.common import FromParams, make_optimizer
from engine.training.loop import LoopConfig, TrainingLoop
from engine.training.schedules import make_scheduler
from engine.training.scores import is_better, majority_share, validation_scores

# Epoch-end checkpoints are written at most this often (and always at the end and
# on Stop): with fast epochs, writing every epoch would cost more than training.
CHECKPOINT_INTERVAL_S = 30.0
BEST_NAME = "best.pt"


@dataclass
class FitConfig(FromParams):
    """The classifier's own settings (the loop's are in :class:`LoopConfig`)."""

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
    adversarial_eps: float = 0.0  # FGSM epsilon in pixel units; 0: off


def loop_config(params: dict[str, Any]) -> LoopConfig:
    """The driver settings of a ``train`` step."""
    return LoopConfig.from_params(params, epoch_checkpoint_interval_s=CHECKPOINT_INTERVAL_S)


def check_classification_data(data: TensorDataset, node_id: str) -> None:
    if data.labels is None:
        raise UserInputError(f"node '{node_id}': the dataset '{data.name}' has no labels — a classifier needs a class per sample")
    if data.num_classes < 2:
        raise UserInputError(
            f"node '{node_id}': the dataset '{data.name}' has {data.num_classes} class — a classifier needs at least 2"
        )
    if len(data.split("train")) == 0:
        raise UserInputError(f"node '{node_id}': the dataset '{data.name}' has no training samples")


def fit_classifier(ctx: StepContext, data: TensorDataset, spec: ModelSpec, cfg: FitConfig,
                   loop: LoopConfig) -> TrainedModel:
    """Train one classifier through the loop driver."""
    check_classification_data(data, ctx.node_id)
    return TrainingLoop(ctx, Classifier(data, spec, cfg), loop).run()


def balanced_class_weights(data: TensorDataset, device: str) -> torch.Tensor:
    """``n / (k * count_c)`` over the training split: rare classes weigh more."""
    assert data.labels is not None
    counts = torch.bincount(data.labels[data.split("train")], minlength=data.num_classes).float()
    weights = len(data.split("train")) / (data.num_classes * counts.clamp(min=1))
    return weights.to(device)


class Classifier(Algorithm):
    """Cross-entropy training of one model on a labelled dataset."""

    metrics = ("train_loss",)

    def __init__(self, data: TensorDataset, spec: ModelSpec, cfg: FitConfig) -> None:
        self.data, self.spec, self.cfg = data, spec, cfg
        self.kind = kind_of(data)
        self.batch_size = cfg.batch_size
        self.has_val = len(data.split("val")) > 0
        self.best_state: dict[str, torch.Tensor] | None = None
        self.best_epoch, self.best_value, self.bad_epochs, self.best_dirty = 0, None, 0, False
        self.last_val: dict[str, float] | None = None
        self.history: dict[str, Any] = {}

    # -- setup -------------------------------------------------------------------------
    def setup(self, loop: TrainingLoop) -> None:
        from engine.models.weights import prepare_model

        cfg, data, device = self.cfg, self.data, loop.device
        model = build_model(self.spec, self.kind.model_facts(data))
        prepare_model(model, self.spec, loop.ctx)
        self.model = model.to(device)
        trainable = [p for p in model.parameters() if p.requires_grad]
        if not trainable:
            raise UserInputError(f"node '{loop.ctx.node_id}': every weight of the model is frozen — nothing to train")
        self.optimizer = make_optimizer(cfg.optimizer, trainable, cfg.lr, cfg.weight_decay, cfg.momentum)
        steps_per_epoch = self.steps_per_epoch()
        self.scheduler = make_scheduler(self.optimizer, cfg.schedule, steps_per_epoch * loop.config.epochs,
                                        steps_per_epoch, cfg.step_epochs, cfg.gamma)
        weight = balanced_class_weights(data, device) if cfg.class_weights == "balanced" else None
        self.loss_fn = functools.partial(F.cross_entropy, weight=weight, label_smoothing=cfg.label_smoothing)
        self.aug_gen = torch.Generator().manual_seed(loop.config.seed + 7919)
        self.augment = data.augments
        self.clip = (trainable, cfg.grad_clip) if cfg.grad_clip > 0 else None
        if cfg.adversarial_eps > 0:
            from engine.training.adversarial import PixelSpace

            self.space = PixelSpace.of(data, device)

    def describe(self) -> str:
        return f"training {self.spec.arch} on {len(self.data.split('train'))} samples"

    def objects(self) -> dict[str, Any]:
        objects: dict[str, Any] = {"model": self.model, "optimizer": self.optimizer}
        if self.scheduler is not None:
            objects["scheduler"] = self.scheduler
        return objects

    def state(self) -> dict[str, Any]:
        return {"aug_rng": self.aug_gen.get_state(), **self._summary()}

    def _summary(self) -> dict[str, Any]:
        return {"best": {"epoch": self.best_epoch, "value": self.best_value, "bad_epochs": self.bad_epochs},
                "history": self.history}

    def load_state(self, state: dict[str, Any]) -> None:
        best = state["best"]
        self.best_epoch, self.best_value, self.bad_epochs = int(best["epoch"]), best["value"], int(best["bad_epochs"])
        self.history = dict(state.get("history", {}))
        if "aug_rng" in state:
            self.aug_gen.set_state(state["aug_rng"])
        best_path = self.loop.checkpoint_source_dir / BEST_NAME  # a distributed rank > 0 reads rank 0's
        if not state.get("finished") and best_path.exists():
            self.best_state = load_checkpoint(best_path)["model"]

    # -- training ------------------------------------------------------------------------
    def on_start(self, resumed: bool) -> None:
        self._set_train()

    def train_step(self, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor]:
        xb, yb = batch
        cfg, model, precision = self.cfg, self.model, self.loop.precision
        if self.augment:
            xb = self.data.augmented(xb, self.aug_gen)
        if cfg.adversarial_eps > 0:
            from engine.training.adversarial import fgsm

            x_adv = fgsm(model, xb, yb, cfg.adversarial_eps, self.space, self.loss_fn)
            xb, yb = torch.cat([xb, x_adv]), torch.cat([yb, yb])
        with precision.autocast():
            loss = self.loss_fn(model(xb), yb)
        precision.optimize(loss, self.optimizer, self.clip)
        if self.scheduler is not None:
            self.scheduler.step()
        return (loss,)

    def _set_train(self) -> None:
        self.model.train()
        for module in getattr(self.model, "_loom_frozen", ()):  # frozen parts keep their BN statistics
            module.eval()

    def on_epoch_end(self, epoch: int, step: int, complete: bool) -> str:
        """Validate, track the best epoch; returns "early_stopping" when patience runs out."""
        if not self.has_val:
            return ""
        cfg, loop = self.cfg, self.loop
        val = validation_scores(self.model, self.data, loop.device, cfg.batch_size * 4)
        self._set_train()
        self.last_val = val
        for name in ("loss", "accuracy", "f1"):
            loop.metric(f"val_{name}", val[name])
        value = val[cfg.monitor.removeprefix("val_")]
        if is_better(cfg.monitor, value, self.best_value):
            self.best_value, self.best_epoch, self.bad_epochs = value, epoch, 0
            if cfg.restore_best or cfg.patience:
                self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
                self.best_dirty = True
            self.history.update(best_epoch=epoch, val_loss=val["loss"], val_accuracy=val["accuracy"], val_f1=val["f1"])
            return ""
        self.bad_epochs += 1
        if cfg.patience and self.bad_epochs >= cfg.patience:
            loop.log(f"early stopping at epoch {epoch}: {cfg.monitor} has not improved for {cfg.patience} epochs "
                     f"(best {self.best_value:.4f} at epoch {self.best_epoch})")
            return "early_stopping"
        return ""

    def on_checkpoint(self, final: bool) -> None:
        best_path = self.loop.checkpoint_dir / BEST_NAME
        if final:
            best_path.unlink(missing_ok=True)  # the final checkpoint holds the weights the step hands on
        elif self.best_state is not None and self.best_dirty:
            save_checkpoint(best_path, {"model": self.best_state, "epoch": self.best_epoch})
            self.best_dirty = False

    # -- the end -------------------------------------------------------------------------------
    def on_train_end(self, outcome: Outcome) -> None:
        cfg = self.cfg
        if self.best_state is not None and cfg.restore_best:
            self.model.load_state_dict(self.best_state)
            self.loop.log(f"restored the weights of epoch {self.best_epoch} ({cfg.monitor} {self.best_value:.4f})")
        self._check_chance()

    def _check_chance(self) -> None:
        """Say so when the model is no better than always answering the most common class."""
        if self.last_val is None:
            return
        restored = self.best_state is not None and self.cfg.restore_best
        accuracy = float(self.history.get("val_accuracy", 0.0)) if restored else self.last_val["accuracy"]
        chance = majority_share(self.data, "val")
        n_val = len(self.data.split("val"))
        noise = 2.0 * math.sqrt(chance * (1.0 - chance) / max(n_val, 1))  # two standard errors of a guesser
        if accuracy <= chance + max(0.01, noise):
            self.history["at_chance"] = True
            self.loop.log(
                f"validation accuracy {accuracy:.3f} is no better than always answering the most common class "
                f"({chance:.3f}): the model learned nothing useful — try a lower learning rate, more epochs, a "
                "different model, or check that the labels match the inputs", "warning")

    def final_state(self) -> dict[str, Any]:
        """The weights the step hands on and no optimiser state: a finished part is never trained further."""
        return {"model": self.model.state_dict(), **self._summary()}

    def result(self, outcome: Outcome) -> TrainedModel:
        data = self.data
        self.model.eval()
        history = dict(self.history)
        stopped = "finished" if outcome.reason == "already_finished" else outcome.reason
        history.update(monitor=self.cfg.monitor, stopped=stopped, steps=outcome.position.step,
                       train_seconds=round(outcome.seconds, 3))
        spec = replace(self.spec, source=None)  # the starting weights are spent: a cached model does not keep them
        return TrainedModel(spec=spec, module=self.model, classes=list(data.classes), input_kind=self.kind.name,
                            facts=self.kind.model_facts(data), inputs=self.kind.input_spec(data), history=history)
