"""The DCGAN pair (Radford et al., 2015), sized from the data.

Generator: a transposed conv lifts the noise to ``base x base``, then each
stride-2 transposed conv doubles the side, with batch norm + ReLU between
and Tanh at the end (images in -1..1).  Discriminator: the mirror image,
stride-2 convs with LeakyReLU 0.2 (batch norm on all but the first), ending
in one logit per image (no sigmoid: the loss takes logits, which is
numerically safe and allowed under autocast).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from engine.generative.init import dcgan_init
from engine.generative.shapes import conv_plan


class DCGenerator(nn.Module):
    def __init__(self, latent_dim: int, channels: int, base: int, n_up: int, width: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        c = width * 2 ** (n_up - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, c, base, 1, 0, bias=False),
            nn.BatchNorm2d(c),
            nn.ReLU(True),
        ]
        for _ in range(n_up - 1):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU(True)]
            c //= 2
        layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.shape[0], -1, 1, 1))


class DCDiscriminator(nn.Module):
    def __init__(self, channels: int, base: int, n_up: int, width: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        c = width
        for _ in range(n_up - 1):
            layers += [nn.Conv2d(c, c * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c * 2), nn.LeakyReLU(0.2, True)]
            c *= 2
        layers += [nn.Conv2d(c, 1, base, 1, 0, bias=False)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)


def build_dcgan(params: dict[str, Any], sample_shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    channels, base, n_up = conv_plan(sample_shape)
    latent = int(params.get("latent_dim", 100))
    width = int(params.get("width", 32))
    g = DCGenerator(latent, channels, base, n_up, width)
    d = DCDiscriminator(channels, base, n_up, width)
    g.apply(dcgan_init)
    d.apply(dcgan_init)
    return g, d
