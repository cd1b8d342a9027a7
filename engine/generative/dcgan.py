"""The DCGAN pair (Radford et al., 2015), sized from the data.

Generator: a transposed conv lifts the noise to ``base x base``, then each
stride-2 transposed conv doubles the side, with batch norm + ReLU between
and Tanh at the end (images in -1..1).  Discriminator: the mirror image,
stride-2 convs with LeakyReLU 0.2 (batch norm on all but the first), ending
in one logit per image (no sigmoid: the loss takes logits, which is
numerically safe and allowed under autocast).

Two optional guards against mode collapse, both off by default (the paper's
architecture): a minibatch-std channel before the last layer (Karras et al.,
2018), which lets the discriminator see that a batch of fakes is too
alike, and spectral normalisation of the discriminator's convs in place of
batch norm (Miyato et al., 2018), which keeps it from overpowering the
generator.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from engine.generative.init import dcgan_init
from engine.generative.shapes import conv_plan

CLASS_EMBED = 32  # size of the generator's class embedding, beside the noise


class DCGenerator(nn.Module):
    """Noise (and a class) -> an image; with ``out_size``, drawn smaller and upscaled bicubically to that size.

    Upscaling with a fixed bicubic kernel is for images that were themselves
    upscaled that way from a smaller original (the built-in digits are 8 px at
    heart): drawing at the original size and upscaling exactly as the data was
    keeps every sample on the pictures the data can hold, and the generator has
    a quarter of the pixels to learn.
    """

    def __init__(self, latent_dim: int, channels: int, base: int, n_up: int, width: int, num_classes: int = 0,
                 out_size: int = 0) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.out_size = out_size
        embed = CLASS_EMBED if num_classes else 0
        if num_classes:
            self.embed = nn.Embedding(num_classes, embed)
        c = width * 2 ** (n_up - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim + embed, c, base, 1, 0, bias=False),
            nn.BatchNorm2d(c),
            nn.ReLU(True),
        ]
        for _ in range(n_up - 1):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU(True)]
            c //= 2
        layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        z = z.view(z.shape[0], -1)
        if self.num_classes:
            if labels is None:
                raise ValueError("a class-conditional generator needs the labels of the images to draw")
            z = torch.cat([z, self.embed(labels).to(z.dtype)], 1)
        x = self.net(z.view(z.shape[0], -1, 1, 1))
        if self.out_size and self.out_size != x.shape[-1]:  # as the data was upscaled: bicubic, then clamped
            x = F.interpolate(x, size=(self.out_size, self.out_size), mode="bicubic", align_corners=False)
            x = x.clamp(-1, 1)
        return x


class MinibatchStd(nn.Module):
    """Appends one channel: the batch's feature spread, averaged to a single number.

    A collapsed generator makes batches of near-identical images, so their
    spread is tell-tale low; seeing it, the discriminator punishes collapse.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spread = x.float().std(0, unbiased=False).mean() if x.shape[0] > 1 else x.new_zeros(())
        return torch.cat([x, spread.to(x.dtype).expand(x.shape[0], 1, *x.shape[2:])], 1)


class Pack(nn.Module):
    """Stacks ``pack`` images along the channels: the discriminator judges them together (PacGAN).

    A generator stuck on one kind of image fills a pack with look-alikes,
    which real packs rarely are, so collapse becomes visible to the
    discriminator.  A remainder that does not fill a pack is dropped.
    """

    def __init__(self, pack: int) -> None:
        super().__init__()
        self.pack = pack

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0] - x.shape[0] % self.pack
        return x[:n].reshape(n // self.pack, x.shape[1] * self.pack, *x.shape[2:])


class DCDiscriminator(nn.Module):
    def __init__(self, channels: int, base: int, n_up: int, width: int,
                 minibatch_std: bool = False, spectral: bool = False, pack: int = 1, num_classes: int = 0) -> None:
        super().__init__()
        if num_classes and pack > 1:
            raise ValueError("a class-conditional discriminator judges one image at a time: set pack to 1")
        self.num_classes = num_classes
        layers: list[nn.Module] = [Pack(pack)] if pack > 1 else []
        layers += [nn.Conv2d(channels * pack, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        c = width
        for _ in range(n_up - 1):
            norm: list[nn.Module] = [] if spectral else [nn.BatchNorm2d(c * 2)]
            layers += [nn.Conv2d(c, c * 2, 4, 2, 1, bias=False), *norm, nn.LeakyReLU(0.2, True)]
            c *= 2
        if minibatch_std:
            layers.append(MinibatchStd())
        layers += [nn.Conv2d(c + int(minibatch_std), 1, base, 1, 0, bias=False)]
        self.net = nn.Sequential(*layers)
        if num_classes:
            self.project = nn.Embedding(num_classes, c + int(minibatch_std))
        self.apply(dcgan_init)
        if num_classes:
            nn.init.normal_(self.project.weight, 0.0, 0.02)
        if spectral:
            for module in self.net:
                if isinstance(module, nn.Conv2d):
                    nn.utils.parametrizations.spectral_norm(module)
            if num_classes:
                nn.utils.parametrizations.spectral_norm(self.project)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if not self.num_classes:
            return self.net(x).view(-1)
        if labels is None:
            raise ValueError("a class-conditional discriminator needs the labels of the images it judges")
        h = x
        last = len(self.net) - 1
        for i, layer in enumerate(self.net):
            if i == last:
                break
            h = layer(h)
        projection = (self.project(labels).to(h.dtype) * h.sum((2, 3))).sum(1)
        return self.net[last](h).view(-1) + projection


def build_dcgan(params: dict[str, Any], sample_shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    channels, base, n_up = conv_plan(sample_shape)
    latent = int(params.get("latent_dim", 100))
    width = int(params.get("width", 32))
    classes = int(params.get("num_classes", 0) or 0)
    size = int(sample_shape[-1])
    draw = int(params.get("draw_size", 0) or 0) or size
    if draw > size:
        raise ValueError(f"draw_size {draw} is larger than the images ({size} px): set it to {size} or less (0 = the "
                         f"images' size)")
    try:
        _, g_base, g_up = conv_plan((channels, draw, draw))
    except ValueError:
        raise ValueError(f"draw_size {draw} cannot be drawn: the generator doubles its side from 4-7 px, so use e.g. "
                         f"8, 16 or 32 (at most the images' {size} px), or 0 for the images' size") from None
    g = DCGenerator(latent, channels, g_base, g_up, width * 2 ** (n_up - g_up), classes,
                    out_size=size if draw != size else 0)
    d = DCDiscriminator(channels, base, n_up, width, minibatch_std=bool(params.get("minibatch_std", False)),
                        spectral=params.get("d_norm", "batch") == "spectral", pack=int(params.get("pack", 1)),
                        num_classes=classes)
    g.apply(dcgan_init)
    return g, d
