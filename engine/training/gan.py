"""GAN training: the alternating discriminator / generator step.

Losses (Goodfellow et al., 2014, with the usual non-saturating fix):

* discriminator: BCE(D(x), real_target) + BCE(D(G(z)), 0), where
  ``real_target`` is 1, or ``1 - label_smoothing`` (one-sided smoothing:
  only the real label is softened);
* generator: BCE(D(G(z)), 1) — trained against the *real* label.  The
  saturating form (minimising log(1 - D(G(z)))) has vanishing gradients
  exactly when D wins early on, which is why the seeds' GAN did not learn.

Both take logits (``binary_cross_entropy_with_logits``), which is
numerically stable and allowed under autocast.  Each step reports
``loss_d``, ``loss_g``, ``d_real`` and ``d_fake``; the loop driver stops a
run whose losses diverge, keeping the last good checkpoint.

A class-conditional pair draws each fake with the label of the real image
beside it in the batch (so fakes follow the data's class frequencies and no
extra random numbers are drawn), and the discriminator judges every image
with its label.

``diversity`` > 0 adds the mode-seeking term of MSGAN (Mao et al., 2019) to
the generator's loss: the fakes are drawn in pairs (the batch's second half
repeats the first half's labels, so a pair shares its class) and the loss
gains ``diversity / (mean|G(z1) - G(z2)| / mean|z1 - z2|)``, which grows as
two different noises give the same picture.  A conditional GAN on a small
data set otherwise tends to draw one picture per class whatever the noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812

from engine.context import StepContext
from engine.data.datasets import ImageDataset
from engine.errors import UserInputError
from engine.generative import GenSpec, TrainedGenerator, build_gan
from engine.generative.conditional import grid_inputs
from engine.generative.live import SampleWriter, eval_forward
from engine.generative.preview import to_pixels01
from engine.training.common import adam
from engine.training.generation import GenerativeConfig, GeneratorTraining
from engine.training.loop import LoopConfig, TrainingLoop


@dataclass
class GanConfig(GenerativeConfig):
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    d_steps: int = 1
    label_smoothing: float = 0.0
    diversity: float = 0.0


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss: BCE of D's logits on fakes against the REAL label (1)."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, smoothing: float = 0.0) -> torch.Tensor:
    """Real images towards ``1 - smoothing`` (one-sided smoothing), fakes towards 0."""
    real_target = torch.full_like(real_logits, 1.0 - smoothing)
    return F.binary_cross_entropy_with_logits(real_logits, real_target) + F.binary_cross_entropy_with_logits(
        fake_logits, torch.zeros_like(fake_logits)
    )


def mode_seeking(fake: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """1 / (image distance / noise distance) over pairs (first half, second half): large when noise is ignored."""
    half = fake.shape[0] // 2
    images = (fake[:half].float() - fake[half:2 * half].float()).abs().mean()
    noise = (z[:half].float() - z[half:2 * half].float()).abs().mean()
    return 1.0 / (images / noise + 1e-5)


def paired_labels(y: torch.Tensor) -> torch.Tensor:
    """The batch's labels with the second half repeating the first: each mode-seeking pair shares its class."""
    half = y.shape[0] // 2
    return torch.cat([y[:half], y[:half], y[2 * half:]])


def fit_gan(ctx: StepContext, data: ImageDataset, spec: GenSpec, cfg: GanConfig, loop: LoopConfig) -> TrainedGenerator:
    return TrainingLoop(ctx, GanTraining(data, spec, cfg, ctx.node_id), loop).run()


class GanTraining(GeneratorTraining):
    metrics = ("loss_d", "loss_g", "d_real", "d_fake")
    losses = ("loss_d", "loss_g")
    cfg: GanConfig

    def __init__(self, data: ImageDataset, spec: GenSpec, cfg: GanConfig, node_id: str) -> None:
        super().__init__(data, spec, cfg, node_id)
        pack = int(spec.params.get("pack", 1))
        if cfg.batch_size % pack:
            raise UserInputError(f"node '{node_id}', param 'batch_size': {cfg.batch_size} is not a multiple of the "
                                 f"model's pack ({pack}) — use e.g. {cfg.batch_size // pack * pack or pack}")
        self.d_count = 0

    def setup(self, loop: TrainingLoop) -> None:
        cfg, device = self.cfg, loop.device
        try:
            g, d = build_gan(self.spec, self.data.sample_shape)
        except ValueError as exc:
            raise UserInputError(f"node '{loop.ctx.node_id}': {exc}") from None
        self.g, self.d = g.to(device).train(), d.to(device).train()
        self.opt_g = adam(g.parameters(), cfg.lr_g, (cfg.beta1, cfg.beta2))
        self.opt_d = adam(d.parameters(), cfg.lr_d, (cfg.beta1, cfg.beta2))
        shown = self.averaged(self.g)
        self.trained = self.trained_generator(shown)
        fixed_z = self.trained.noise(cfg.samples, loop.config.seed + 1).to(device)
        z, labels, nrow = grid_inputs(fixed_z, self.spec.num_classes)
        norm = self.trained.normalization
        self.writers = [SampleWriter(loop.ctx, lambda: (to_pixels01(eval_forward(shown, z, labels), norm), nrow))]

    def describe(self) -> str:
        return (f"training {self.spec.arch} on {len(self.data.split(self.split))} images "
                f"{tuple(self.data.sample_shape)} in batches of {self.batch_size}{self.describe_extras()}")

    def objects(self) -> dict[str, Any]:
        return {"generator": self.g, "discriminator": self.d, "opt_g": self.opt_g, "opt_d": self.opt_d}

    def state(self) -> dict[str, Any]:
        return {**super().state(), "d_count": self.d_count}

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self.d_count = int(state.get("d_count", 0))

    def steps_per_epoch(self) -> int:
        return max(1, self.batches_per_epoch() // self.cfg.d_steps)

    def total_steps(self, epochs: int) -> int:
        return self.batches_per_epoch() * epochs // self.cfg.d_steps

    def samples_per_step(self) -> int:
        return self.batch_size * self.cfg.d_steps

    def train_step(self, batch: tuple[torch.Tensor, Any]) -> tuple[torch.Tensor, ...] | None:
        real, y = batch
        y = y if self.conditional else None
        y_fake = paired_labels(y) if y is not None and self.cfg.diversity > 0 else y
        g, d, precision = self.g, self.d, self.loop.precision
        z = torch.randn(real.shape[0], self.spec.latent_dim, device=real.device)
        g_step = self.d_count + 1 >= self.cfg.d_steps  # G learns from this fake: only then does it need a graph
        with precision.autocast():
            with torch.set_grad_enabled(g_step):  # (and under DDP, every graph G makes gets its backward)
                fake = g(z, y_fake)
            real_logits = d(real, y)
            fake_logits = d(fake.detach(), y_fake)
            loss_d = discriminator_loss(real_logits, fake_logits, self.cfg.label_smoothing)
        precision.optimize(loss_d, self.opt_d)
        self.d_count += 1
        if self.d_count < self.cfg.d_steps:
            return None
        self.d_count = 0
        with precision.autocast():
            loss_g = generator_loss(d(fake, y_fake))
            if self.cfg.diversity > 0:
                loss_g = loss_g + self.cfg.diversity * mode_seeking(fake, z)
        precision.optimize(loss_g, self.opt_g)
        self.update_average()
        return (loss_d.detach(), loss_g.detach(), torch.sigmoid(real_logits.detach().float()).mean(),
                torch.sigmoid(fake_logits.detach().float()).mean())
