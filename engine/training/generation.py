"""What GAN and VAE training share on top of the loop driver.

Both learn from an image split in full batches, show fixed-noise sample grids
(at step 0, every ``sample_every`` steps, on Stop and at the end), keep an
up-to-date generator card next to every checkpoint (so a stopped run can
already ``loom generate``), and hand on a :class:`TrainedGenerator`.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.data.datasets import ImageDataset
from engine.generative import GenSpec, TrainedGenerator
from engine.generative.card import save_generator
from engine.generative.live import SampleWriter, check_image_data
from engine.training.algorithm import Algorithm, Outcome
from engine.training.common import FromParams


@dataclass
class GenerativeConfig(FromParams):
    batch_size: int = 64
    sample_every: int = 20
    samples: int = 64
    split: str = "all"


class GeneratorTraining(Algorithm):
    """Subclasses build ``self.trained`` and ``self.writers`` in ``setup`` and write ``train_step``."""

    drop_last = True
    trained: TrainedGenerator
    writers: list[SampleWriter]

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

    def on_step_end(self, step: int) -> None:
        if step % self.cfg.sample_every == 0:
            self.previews(step)

    def on_stop(self, step: int) -> None:
        if not self.writers[0].exists(step):  # stopped right after a preview: the same grid twice says nothing
            self.previews(step)

    def on_train_end(self, outcome: Outcome) -> None:
        step = outcome.position.step
        if not self.writers[0].exists(step):
            self.previews(step)
        self.trained.module.eval()
        last = {name: round(value, 5) for name, value in self.loop.last_values.items()}
        self.trained.history = {"steps": step, "epochs": self.loop.config.epochs, "stopped": outcome.reason, **last}

    def on_checkpoint(self, final: bool) -> None:
        ctx = self.loop.ctx
        ctx.artifact("generator", save_generator(self.trained, ctx.node_dir))

    def result(self, outcome: Outcome) -> TrainedGenerator:
        return self.trained
