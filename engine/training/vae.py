"""VAE training: reconstruction + beta x KL, both reported.

The reconstruction term is the per-image sum of squared errors in the
model's input space (a Gaussian likelihood), the KL term the closed form
KL(N(mu, sigma^2) || N(0, I)) summed over latent dimensions; both averaged
over the batch.  ``beta`` > 1 trades sharpness for a smoother latent space.
Live previews show reconstructions (inputs above, outputs below) and random
samples decoded from a fixed, seeded noise batch (one row per class for a
class-conditional VAE, which encodes and decodes every image with its label).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from engine.context import StepContext
from engine.data.datasets import ImageDataset
from engine.errors import UserInputError
from engine.generative import GenSpec, TrainedGenerator
from engine.generative.conditional import grid_inputs
from engine.generative.live import SampleWriter, eval_forward
from engine.generative.preview import to_pixels01
from engine.training.common import adam
from engine.training.generation import GenerativeConfig, GeneratorTraining
from engine.training.loop import LoopConfig, TrainingLoop


@dataclass
class VaeConfig(GenerativeConfig):
    lr: float = 1e-3
    beta: float = 1.0


def vae_loss(
    recon: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, beta: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(total, reconstruction, kl)``, each a per-image sum averaged over the batch."""
    n = x.shape[0]
    rec = (recon.float() - x.float()).pow(2).sum() / n
    kl = -0.5 * (1 + logvar.float() - mu.float().pow(2) - logvar.float().exp()).sum() / n
    return rec + beta * kl, rec, kl


def fit_vae(ctx: StepContext, data: ImageDataset, spec: GenSpec, cfg: VaeConfig, loop: LoopConfig) -> TrainedGenerator:
    return TrainingLoop(ctx, VaeTraining(data, spec, cfg, ctx.node_id), loop).run()


class VaeTraining(GeneratorTraining):
    metrics = ("loss", "recon", "kl")
    cfg: VaeConfig
    ema_key = "decoder_ema"

    def setup(self, loop: TrainingLoop) -> None:
        from engine.generative.vae import build_vae

        cfg, data, device, seed = self.cfg, self.data, loop.device, loop.config.seed
        try:
            vae = build_vae(self.spec.params, data.sample_shape)
        except ValueError as exc:
            raise UserInputError(f"node '{loop.ctx.node_id}': {exc}") from None
        self.vae = vae.to(device).train()
        self.optimizer = adam(vae.parameters(), cfg.lr)
        decoder = self.averaged(vae.decoder)
        self.trained = self.trained_generator(decoder)
        norm = self.trained.normalization
        fixed_z = self.trained.noise(cfg.samples, seed + 1).to(device)
        z, labels, nrow = grid_inputs(fixed_z, self.spec.num_classes)
        split_idx = data.split(cfg.split)
        pick = torch.randperm(len(split_idx), generator=torch.Generator().manual_seed(seed + 2))[:8]
        x_show = data.take(split_idx[pick], device)
        y_all = data.labels
        y_show = y_all[split_idx[pick]].to(device) if self.conditional and y_all is not None else None

        def render_recon() -> tuple[torch.Tensor, int]:
            out = eval_forward(MeanPath(vae), x_show, y_show)  # the posterior mean: no sampling, no RNG use
            return torch.cat([to_pixels01(x_show.float(), norm), to_pixels01(out, norm)]).cpu(), len(x_show)

        self.writers = [
            SampleWriter(loop.ctx, lambda: (to_pixels01(eval_forward(decoder, z, labels), norm).cpu(), nrow)),
            SampleWriter(loop.ctx, render_recon, name="reconstructions"),
        ]

    def describe(self) -> str:
        return (f"training vae (latent {self.spec.latent_dim}, beta {self.cfg.beta:g}) on "
                f"{len(self.data.split(self.split))} images {tuple(self.data.sample_shape)}{self.describe_extras()}")

    def objects(self) -> dict[str, Any]:
        return {"vae": self.vae, "optimizer": self.optimizer}

    def train_step(self, batch: tuple[torch.Tensor, Any]) -> tuple[torch.Tensor, ...]:
        x, y = batch
        precision = self.loop.precision
        with precision.autocast():
            recon, mu, logvar = self.vae(x, y if self.conditional else None)
        loss, rec, kl = vae_loss(recon, x, mu, logvar, self.cfg.beta)
        precision.optimize(loss, self.optimizer)
        self.update_average()
        return (loss.detach(), rec.detach(), kl.detach())


class MeanPath(torch.nn.Module):
    """x -> decoder(mu(x)): the deterministic reconstruction used for previews."""

    def __init__(self, vae: torch.nn.Module) -> None:
        super().__init__()
        self.vae = vae

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.vae.decoder(self.vae.encoder(x, labels)[0], labels)
