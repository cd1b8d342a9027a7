"""A convolutional VAE (Kingma & Welling, 2014), sized from the data.

Encoder: stride-2 convs down to ``base x base``, then linear heads for the
mean and log-variance of q(z|x).  Decoder: the mirror image, ending in a
linear conv (no squashing), so it fits data in -1..1, 0..1 or standardised
alike.  The loss (in the training loop) is per-image summed squared error
plus ``beta`` x KL(q(z|x) || N(0, I)).

Class-conditional (``num_classes`` > 0, a CVAE: Sohn et al., 2015): the
class, one-hot, joins the encoder's features before the mean/log-variance
heads and the latent before the decoder, so the latent is free to hold the
style and the label says which class to draw.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from engine.generative.shapes import conv_plan


class VAEDecoder(nn.Module):
    """z -> image; this is what ``loom generate`` runs for a VAE."""

    def __init__(self, latent_dim: int, channels: int, base: int, n_up: int, width: int, num_classes: int = 0) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.c0, self.base = width * 2 ** (n_up - 1), base
        self.fc = nn.Linear(latent_dim + num_classes, self.c0 * base * base)
        layers: list[nn.Module] = [nn.ReLU(True)]
        c = self.c0
        for _ in range(n_up - 1):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1), nn.BatchNorm2d(c // 2), nn.ReLU(True)]
            c //= 2
        layers.append(nn.ConvTranspose2d(c, channels, 4, 2, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        z = with_class(z.view(z.shape[0], -1), labels, self.num_classes)
        h = self.fc(z).view(z.shape[0], self.c0, self.base, self.base)
        return self.net(h)


def with_class(h: torch.Tensor, labels: torch.Tensor | None, num_classes: int) -> torch.Tensor:
    """``h`` with the one-hot class appended (unchanged when the model is unconditional)."""
    if not num_classes:
        return h
    if labels is None:
        raise ValueError("a class-conditional VAE needs the labels of its images")
    return torch.cat([h, nn.functional.one_hot(labels.long(), num_classes).to(h.dtype)], 1)


class VAEEncoder(nn.Module):
    def __init__(self, latent_dim: int, channels: int, base: int, n_up: int, width: int, num_classes: int = 0) -> None:
        super().__init__()
        self.num_classes = num_classes
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.ReLU(True)]
        c = width
        for _ in range(n_up - 1):
            layers += [nn.Conv2d(c, c * 2, 4, 2, 1), nn.BatchNorm2d(c * 2), nn.ReLU(True)]
            c *= 2
        layers.append(nn.Flatten())
        self.net = nn.Sequential(*layers)
        flat = c * base * base + num_classes
        self.mu = nn.Linear(flat, latent_dim)
        self.logvar = nn.Linear(flat, latent_dim)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        h = with_class(self.net(x), labels, self.num_classes)
        return self.mu(h), self.logvar(h).clamp(-30.0, 20.0)


class ConvVAE(nn.Module):
    def __init__(self, latent_dim: int, channels: int, base: int, n_up: int, width: int, num_classes: int = 0) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = VAEEncoder(latent_dim, channels, base, n_up, width, num_classes)
        self.decoder = VAEDecoder(latent_dim, channels, base, n_up, width, num_classes)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return ``(reconstruction, mu, logvar)``; sampling uses the global torch RNG."""
        mu, logvar = self.encoder(x, labels)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        return self.decoder(z, labels), mu, logvar


def _sizes(params: dict[str, Any]) -> tuple[int, int, int]:
    return int(params.get("latent_dim", 16)), int(params.get("width", 32)), int(params.get("num_classes", 0) or 0)


def build_vae(params: dict[str, Any], sample_shape: tuple[int, ...]) -> ConvVAE:
    channels, base, n_up = conv_plan(sample_shape)
    latent, width, classes = _sizes(params)
    return ConvVAE(latent, channels, base, n_up, width, classes)


def decoder_from_card(params: dict[str, Any], sample_shape: tuple[int, ...]) -> VAEDecoder:
    channels, base, n_up = conv_plan(sample_shape)
    latent, width, classes = _sizes(params)
    return VAEDecoder(latent, channels, base, n_up, width, classes)
