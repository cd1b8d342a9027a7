"""Generative models: GANs and a VAE, and the values that carry them.

A ``GenerativeModel`` port carries a :class:`GenSpec` (plain data: which
architecture and its params); the training step builds the modules once it
knows the image shape.  A ``TrainedGenerator`` port carries the fitted
generator (or VAE decoder) plus what is needed to turn its output back into
pixels.  On disk a generator is a safetensors file plus a small JSON card
(:mod:`engine.generative.card`), so it is rebuilt without unpickling.

A class-conditional generator (``params["num_classes"] > 0``, resolved by
the training step from the data's labels) takes the class index beside each
latent: ``module(z, labels)``.  Every generator module accepts ``labels`` and
an unconditional one ignores it, so callers need not ask which kind it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn

GAN_ARCHS = ("dcgan", "gan_mlp")
VAE_ARCHS = ("vae",)


@dataclass(frozen=True)
class GenSpec:
    """An untrained generative architecture: what the ``GenerativeModel`` port carries."""

    arch: str  # "dcgan" | "gan_mlp" | "vae"
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "vae" if self.arch in VAE_ARCHS else "gan"

    @property
    def latent_dim(self) -> int:
        return int(self.params.get("latent_dim", 16 if self.kind == "vae" else 100))

    @property
    def num_classes(self) -> int:
        """Classes a conditional model draws (0: unconditional); set by the training step, never by the user."""
        return int(self.params.get("num_classes", 0) or 0)

    def to_json(self) -> dict[str, Any]:
        return {"arch": self.arch, "params": dict(self.params)}


def build_gan(spec: GenSpec, sample_shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) for ``spec``; ValueError says why a shape does not fit."""
    if spec.arch == "dcgan":
        from engine.generative.dcgan import build_dcgan

        return build_dcgan(spec.params, sample_shape)
    if spec.arch == "gan_mlp":
        from engine.generative.gan_mlp import build_gan_mlp

        return build_gan_mlp(spec.params, sample_shape)
    raise ValueError(f"{spec.arch!r} is not a GAN architecture (choose from {', '.join(GAN_ARCHS)})")


def build_generator(spec: GenSpec, sample_shape: tuple[int, ...]) -> nn.Module:
    """Only the part that makes images (GAN generator or VAE decoder), for loading saved weights."""
    if spec.kind == "vae":
        from engine.generative.vae import decoder_from_card

        return decoder_from_card(spec.params, sample_shape)
    return build_gan(spec, sample_shape)[0]


@dataclass
class TrainedGenerator:
    """A fitted generator (GAN) or decoder (VAE) and how to show its output."""

    spec: GenSpec
    module: nn.Module
    sample_shape: tuple[int, ...]
    normalization: dict[str, list[float]]  # mean/std mapping [0, 1] pixels to model space
    history: dict[str, Any] = field(default_factory=dict)
    classes: tuple[str, ...] = ()  # a conditional generator's class names, in label order (empty: unconditional)

    @property
    def latent_dim(self) -> int:
        return self.spec.latent_dim

    @property
    def conditional(self) -> bool:
        return self.spec.num_classes > 0

    def default_labels(self, n: int) -> torch.Tensor | None:
        """Labels for ``n`` images when none are asked for: every class in turn (0, 1, ..., K-1, 0, ...), so
        a batch from a conditional generator shows all classes evenly; None for an unconditional one."""
        import torch

        return torch.arange(n) % self.spec.num_classes if self.conditional else None

    def noise(self, n: int, seed: int) -> torch.Tensor:
        """``n`` latent vectors from N(0, I), reproducible from ``seed`` alone."""
        import torch

        gen = torch.Generator().manual_seed(int(seed))
        return torch.randn(n, self.latent_dim, generator=gen)

    def decode01(self, z: torch.Tensor, batch_size: int = 256, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Latents (and, for a conditional generator, class labels) -> [0, 1] pixels (N x C x H x W, CPU).

        A conditional generator given no labels draws every class in turn
        (:meth:`default_labels`); an unconditional one refuses labels.
        """
        import torch

        from engine.generative.preview import to_pixels01
        from engine.models import batched_inference

        if labels is not None and not self.conditional:
            raise ValueError("this generator was not trained on classes: it takes no labels")
        if not self.conditional:
            out = batched_inference(self.module, z, batch_size, post=lambda x: to_pixels01(x, self.normalization))
            return out if out is not None else torch.empty(0, *self.sample_shape)
        labels = self.default_labels(len(z)) if labels is None else labels.long().view(-1)
        if len(labels) != len(z):
            raise ValueError(f"{len(labels)} labels for {len(z)} latents")
        self.module.eval()
        device = next(self.module.parameters()).device
        outs = []
        with torch.inference_mode():
            for i in range(0, len(z), batch_size):
                out = self.module(z[i:i + batch_size].to(device), labels[i:i + batch_size].to(device))
                outs.append(to_pixels01(out.float().cpu(), self.normalization))
        return torch.cat(outs) if outs else torch.empty(0, *self.sample_shape)
