"""A convolutional VAE (Kingma & Welling, 2014), sized from the data.

Encoder: stride-2 convs down to ``base x base``, then linear heads for the
mean and log-variance of q(z|x).  Decoder: the mirror image, ending in a
linear conv (no squashing), so it fits data in -1..1, 0..1 or standardised
alike.  The loss (in the training loop) is per-image summed squared error
plus ``beta`` x KL(q(z|x) || N(0, I)).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from engine.generative.shapes import conv_plan


class VAEDecoder(nn.Module):
    """z -> image; this is what ``loom generate`` runs for a VAE."""

    def __init__(self, latent_dim: int, channels: int, base: int, n_up: int, width: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.c0, self.base = width * 2 ** (n_up - 1), base
        self.fc = nn.Linear(latent_dim, self.c0 * base * base)
        layers: list[nn.Module] = [nn.ReLU(True)]
        c = self.c0
        for _ in range(n_up - 1):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1), nn.BatchNorm2d(c // 2), nn.ReLU(True)]
            c //= 2
        layers.append(nn.ConvTranspose2d(c, channels, 4, 2, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z.view(z.shape[0], -1)).view(z.shape[0], self.c0, self.base, self.base)
        return self.net(h)


class VAEEncoder(nn.Module):
    def __init__(self, latent_dim: int, channels: int, base: int, n_up: int, width: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.ReLU(True)]
        c = width
        for _ in range(n_up - 1):
            layers += [nn.Conv2d(c, c * 2, 4, 2, 1), nn.BatchNorm2d(c * 2), nn.ReLU(True)]
            c *= 2
        layers.append(nn.Flatten())
        self.net = nn.Sequential(*layers)
        flat = c * base * base
        self.mu = nn.Linear(flat, latent_dim)
        self.logvar = nn.Linear(flat, latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.net(x)
        return self.mu(h), self.logvar(h).clamp(-30.0, 20.0)


class ConvVAE(nn.Module):
    def __init__(self, latent_dim: int, channels: int, base: int, n_up: int, width: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = VAEEncoder(latent_dim, channels, base, n_up, width)
        self.decoder = VAEDecoder(latent_dim, channels, base, n_up, width)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return ``(reconstruction, mu, logvar)``; sampling uses the global torch RNG."""
        mu, logvar = self.encoder(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        return self.decoder(z), mu, logvar


def build_vae(params: dict[str, Any], sample_shape: tuple[int, ...]) -> ConvVAE:
    channels, base, n_up = conv_plan(sample_shape)
    return ConvVAE(int(params.get("latent_dim", 16)), channels, base, n_up, int(params.get("width", 32)))


def decoder_from_card(params: dict[str, Any], sample_shape: tuple[int, ...]) -> VAEDecoder:
    channels, base, n_up = conv_plan(sample_shape)
    return VAEDecoder(int(params.get("latent_dim", 16)), channels, base, n_up, int(params.get("width", 32)))
