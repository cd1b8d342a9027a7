"""What GAN and VAE training share on top of the loop driver.

Both learn from an image split in full batches, show fixed-noise sample grids
(at step 0, every ``sample_every`` steps, on Stop and at the end), keep an
up-to-date generator card next to every checkpoint (so a stopped run can
already ``loom generate``), and hand on a :class:`TrainedGenerator`.

Quality checks (:mod:`engine.generative.quality`) hook in at the ``# quality``
lines: a :class:`QualityWatch` measures ``self.trained`` every
``quality_every`` steps, drives early stopping and "keep the best", and keeps
its state in the checkpoint.
Both also keep an exponential moving average of the generator's (decoder's)
weights when ``ema`` > 0 (:mod:`engine.generative.ema`): ``self.trained``
holds the averaged module, so previews, the card, ``generate``, export and
the quality metric all see it, while the raw weights go on training and
stay in the checkpoint beside the average (exact resume keeps both).  And
both resolve the model's ``conditional`` param against the data
(:mod:`engine.generative.conditional`): ``self.spec`` is the resolved spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from engine.data.datasets import ImageDataset
from engine.generative import GenSpec, TrainedGenerator
from engine.generative.card import save_generator
from engine.generative.conditional import resolve_conditional
from engine.generative.ema import WeightAverage
from engine.generative.live import SampleWriter, check_image_data
from engine.generative.quality.watch import QualityWatch
from engine.training.algorithm import Algorithm, Outcome
from engine.training.common import FromParams


@dataclass
class GenerativeConfig(FromParams):
    batch_size: int = 64
    sample_every: int = 20
    samples: int = 64
    split: str = "all"
    quality_every: int = 100  # steps between quality checks; 0: off
    patience: int = 0  # quality checks without improvement before stopping; 0: never
    restore_best: bool = True  # end on the generator of the best quality check
    ema: float = 0.999  # decay of the generator's weight average; 0 = off
    quality_share: float = 0.05  # quality work stays within this share of training time; >= 1: no limit


class GeneratorTraining(Algorithm):
    """Subclasses build ``self.trained`` and ``self.writers`` in ``setup`` and write ``train_step``."""

    drop_last = True
    trained: TrainedGenerator
    writers: list[SampleWriter]
    quality: QualityWatch | None = None
    #: the checkpoint key of the weight average (and ``<key>_updates``)
    ema_key = "generator_ema"

    def __init__(self, data: ImageDataset, spec: GenSpec, cfg: GenerativeConfig, node_id: str) -> None:
        check_image_data(data, cfg.split, cfg.batch_size, node_id)
        self.spec, self.classes, self.class_note = resolve_conditional(spec, data, node_id)
        self.data, self.cfg = data, cfg
        self.split, self.batch_size = cfg.split, cfg.batch_size
        self.ema: WeightAverage | None = None
        self.raw_generator: nn.Module | None = None

    @property
    def conditional(self) -> bool:
        return self.spec.num_classes > 0

    # -- the weight average ------------------------------------------------------------------------
    def averaged(self, raw: nn.Module) -> nn.Module:
        """What ``self.trained`` should hold for ``raw``: its weight average when ``ema`` > 0, else ``raw``."""
        self.raw_generator = raw
        self.ema = WeightAverage(raw, self.cfg.ema) if self.cfg.ema > 0 else None
        return self.ema.module if self.ema is not None else raw

    def update_average(self) -> None:
        """After each optimiser step of the generator (decoder)."""
        if self.ema is not None and self.raw_generator is not None:
            self.ema.update(self.raw_generator)


    def trained_generator(self, module: nn.Module) -> TrainedGenerator:
        data = self.data
        return TrainedGenerator(self.spec, module, data.sample_shape, data.normalization.to_json(),
                                classes=self.classes)

    def describe_extras(self) -> str:
        """The log line's tail: conditional and EMA, when on."""
        parts = [self.class_note] if self.class_note else []
        if self.cfg.ema > 0:
            parts.append(f"weight average (EMA) decay {self.cfg.ema:g}")
        return "".join(f", {p}" for p in parts)

    def previews(self, step: int) -> None:
        for writer in self.writers:
            writer.write(step)

    def on_start(self, resumed: bool) -> None:
        step = self.loop.position.step
        if not resumed or not self.writers[0].exists(step):
            self.previews(step)
        if self._quality() is not None:  # quality
            self._quality().start()

    def on_step_end(self, step: int) -> None:
        if step % self.cfg.sample_every == 0:
            self.previews(step)
        if self.quality is not None:  # quality
            self.quality.on_step(step)

    # -- quality checks (engine.generative.quality) --------------------------------------------------
    def _quality(self) -> QualityWatch | None:
        """The run's quality watch, made on first use (after ``setup`` built ``self.trained``); None when off."""
        if self.quality is None and self.cfg.quality_every > 0 and self.loop.writes:  # rank 0 of a distributed run
            self.quality = QualityWatch(self.loop, self.data, self.split, self.trained, self.cfg.quality_every,
                                        self.cfg.patience, self.cfg.restore_best, share=self.cfg.quality_share)
        return self.quality

    # -- what the checkpoint keeps beside the modules: the weight average and the quality watch ---------
    def state(self) -> dict[str, Any]:
        kept = self.ema.state(self.ema_key) if self.ema is not None else {}
        watch = self._quality()
        if watch is not None:
            kept["quality"] = watch.state()
        return kept

    def load_state(self, state: dict[str, Any]) -> None:
        if self.ema is not None and self.raw_generator is not None \
                and not self.ema.load_state(state, self.ema_key, self.raw_generator):
            self.loop.log("the checkpoint has no weight average (written with ema 0 or by an older Loom): "
                          "the average starts again from the resumed weights")
        watch = self._quality()
        if watch is not None:
            watch.load_state(state.get("quality"))

    def on_epoch_end(self, epoch: int, step: int, complete: bool) -> str:
        if self.quality is not None and self.quality.early_stop:
            self.loop.log(self.quality.stop_message())
            return "early_stopping"
        return ""

    def on_stop(self, step: int) -> None:
        if not self.writers[0].exists(step):  # stopped right after a preview: the same grid twice says nothing
            self.previews(step)

    def on_train_end(self, outcome: Outcome) -> None:
        step = outcome.position.step
        if not self.writers[0].exists(step):
            self.previews(step)
        quality: dict[str, Any] = {}
        if self.quality is not None:  # quality: the last check, the best weights back, the time share
            before = self.quality.seconds
            self.quality.finish(step, outcome.seconds)
            seconds = outcome.seconds + self.quality.seconds - before  # the last check runs after the clock stopped
            quality = self.quality.facts(seconds)
            self.loop.log(self.quality.share_line(seconds))
        self.trained.module.eval()
        last = {name: round(value, 5) for name, value in self.loop.last_values.items()}
        self.trained.history = {"steps": step, "epochs": self.loop.config.epochs, "stopped": outcome.reason, **last,
                                **quality}

    def on_checkpoint(self, final: bool) -> None:
        ctx = self.loop.ctx
        ctx.artifact("generator", save_generator(self.trained, ctx.node_dir))

    def result(self, outcome: Outcome) -> TrainedGenerator:
        return self.trained
