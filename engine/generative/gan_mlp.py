"""The fully connected GAN pair (the classic MNIST GAN the seeds shipped).

Generator: noise -> 256 -> 512 -> 1024 -> pixels, LeakyReLU 0.2, Tanh out.
Discriminator: pixels -> 1024 -> 512 -> 256 -> 1 logit, LeakyReLU 0.2 and
dropout 0.3.  The seeds ended D in a sigmoid and trained G against the
"fake" label (the saturating loss); here D returns a logit and the training
step uses the non-saturating loss.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn


class MLPGenerator(nn.Module):
    def __init__(self, latent_dim: int, sample_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.sample_shape = tuple(sample_shape)
        sizes = [latent_dim, 256, 512, 1024]
        layers: list[nn.Module] = []
        for a, b in zip(sizes, sizes[1:], strict=False):
            layers += [nn.Linear(a, b), nn.LeakyReLU(0.2, True)]
        layers += [nn.Linear(sizes[-1], math.prod(sample_shape)), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """``labels`` is accepted for a uniform call and ignored: this GAN is never class-conditional."""
        return self.net(z.view(z.shape[0], -1)).view(z.shape[0], *self.sample_shape)


class MLPDiscriminator(nn.Module):
    def __init__(self, sample_shape: tuple[int, ...], dropout: float = 0.3) -> None:
        super().__init__()
        sizes = [math.prod(sample_shape), 1024, 512, 256]
        layers: list[nn.Module] = [nn.Flatten()]
        for a, b in zip(sizes, sizes[1:], strict=False):
            layers += [nn.Linear(a, b), nn.LeakyReLU(0.2, True), nn.Dropout(dropout)]
        layers.append(nn.Linear(sizes[-1], 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(x).view(-1)


def build_gan_mlp(params: dict[str, Any], sample_shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    if len(sample_shape) != 3:
        raise ValueError(f"images must be channels x height x width, got shape {tuple(sample_shape)}")
    latent = int(params.get("latent_dim", 100))
    return MLPGenerator(latent, sample_shape), MLPDiscriminator(sample_shape, float(params.get("dropout", 0.3)))
