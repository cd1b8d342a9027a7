"""The training code a range test drives: the train step's own algorithm, batch by batch.

A range test must measure the loss of the step it advises, so it uses that
step's :class:`engine.training.algorithm.Algorithm` unchanged (its model
builder, optimiser, loss, augmentation, clipping and mixed precision) and
only takes the learning rate into its own hands: the step's schedule or
warm-up is switched off and each batch's rate is set on the optimiser
before its ``train_step``.  The model is always a fresh one built from the
model node's spec (with its pretrained weights when it has some), so
nothing a run or the cache holds is trained: the weights "restore" by never
having been touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from engine.context import StepContext
from engine.errors import UserInputError
from engine.training.algorithm import Algorithm

#: step type -> what it trains, for messages; the finder refuses other steps
SUPPORTED: dict[str, str] = {"train": "classifier", "train_lm": "language model"}


def _classifier(ctx: StepContext) -> Algorithm:
    from engine.training.supervised import Classifier, FitConfig, check_classification_data

    data, spec = ctx.inputs["data"], ctx.inputs["model"]
    check_classification_data(data, ctx.node_id)
    return Classifier(data, spec, replace(FitConfig.from_params(ctx.params), schedule="constant"))


def _language_model(ctx: StepContext) -> Algorithm:
    from engine.training.language import LanguageModelTraining, LMConfig

    cfg = replace(LMConfig.from_params(ctx.params), warmup_steps=0)  # train_step sets cfg.lr on every batch
    return LanguageModelTraining(ctx.inputs["data"], ctx.inputs["model"], cfg, ctx.node_id)


_BUILDERS: dict[str, Callable[[StepContext], Algorithm]] = {"train": _classifier, "train_lm": _language_model}


@dataclass
class RangeTrainer:
    """One set-up algorithm and the means to train it one batch at a given rate."""

    algorithm: Algorithm
    loop: Any  # engine.training.loop.TrainingLoop: the driver the algorithm expects, never run

    def batches(self) -> Iterator[Any]:
        """The step's own batches, epoch after epoch, for as long as the test asks."""
        if self.algorithm.batches_per_epoch() < 1:
            raise UserInputError(f"node '{self.loop.ctx.node_id}': the training split makes no full batch — lower "
                                 "batch_size")
        epoch = 1
        while True:
            yield from self.algorithm.batches(epoch, 0)
            epoch += 1

    def step(self, batch: Any, lr: float, index: int) -> float:
        """Train on ``batch`` at ``lr``; its loss (the first value ``train_step`` returns)."""
        algo = self.algorithm
        for group in algo.optimizer.param_groups:  # type: ignore[attr-defined]
            group["lr"] = lr
        cfg = getattr(algo, "cfg", None)
        if cfg is not None and hasattr(cfg, "lr"):
            cfg.lr = lr  # a step that sets the rate itself each batch (warm-up) sets this one
        self.loop.position.step = index
        values = algo.train_step(batch)
        if not values:
            return float("nan")
        loss = values[0]
        return float(loss.detach()) if hasattr(loss, "detach") else float(loss)


def make_trainer(step_type: str, ctx: StepContext, scratch: Path) -> RangeTrainer:
    """``step_type``'s algorithm, set up (model and optimiser built, RNGs seeded) on ``ctx.device``."""
    from engine.training.checkpoint import seed_everything
    from engine.training.loop import LoopConfig, TrainingLoop

    builder = _BUILDERS[step_type]
    config = LoopConfig.from_params(ctx.params)
    try:
        algorithm = builder(ctx)
        loop = TrainingLoop(ctx, algorithm, config, checkpoint_dir=scratch / "checkpoints")
        seed_everything(config.seed)
        algorithm.loop = loop
        algorithm.setup(loop)
    except ValueError as exc:  # an architecture that does not fit the data, as the train step says it
        raise UserInputError(f"node '{ctx.node_id}': {exc}") from None
    if step_type == "train":
        algorithm.on_start(resumed=False)  # training mode (frozen parts keep their statistics); writes nothing
    return RangeTrainer(algorithm, loop)
