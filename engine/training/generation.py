"""What GAN and VAE training share on top of the loop driver.

Both learn from an image split in full batches, show fixed-noise sample grids
(at step 0, every ``sample_every`` steps, on Stop and at the end), keep an
up-to-date generator card next to every checkpoint (so a stopped run can
already ``loom generate``), and hand on a :class:`TrainedGenerator`.

Quality checks (:mod:`engine.generative.quality`) hook in at the ``# quality``
lines: a :class:`QualityWatch` measures ``self.trained`` every
``quality_every`` steps, drives early stopping and "keep the best", and keeps
its state in the checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.data.datasets import ImageDataset
from engine.generative import GenSpec, TrainedGenerator
from engine.generative.card import save_generator
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


class GeneratorTraining(Algorithm):
    """Subclasses build ``self.trained`` and ``self.writers`` in ``setup`` and write ``train_step``."""

    drop_last = True
    trained: TrainedGenerator
    writers: list[SampleWriter]
    quality: QualityWatch | None = None

    def __init__(self, data: ImageDataset, spec: GenSpec, cfg: GenerativeConfig, node_id: str) -> None:
        check_image_data(data, cfg.split, cfg.batch_size, node_id)
        self.data, self.spec, self.cfg = data, spec, cfg
        self.split, self.batch_size = cfg.split, cfg.batch_size

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
                                        self.cfg.patience, self.cfg.restore_best)
        return self.quality

    def state(self) -> dict[str, Any]:
        watch = self._quality()
        return {"quality": watch.state()} if watch is not None else {}

    def load_state(self, state: dict[str, Any]) -> None:
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
            self.quality.finish(step)
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
