"""Turning model outputs into pictures: grids for live previews, PNG files.

Everything here works on CPU tensors of [0, 1] pixels and writes PNGs with
Pillow through an atomic write, so a viewer never sees a half-written file.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import torch

from engine.fileio import atomic_write_bytes


def to_pixels01(x: torch.Tensor, normalization: dict[str, list[float]]) -> torch.Tensor:
    """Model-space images -> [0, 1] pixels, inverting the dataset's mean/std."""
    c = x.shape[1]
    mean = torch.tensor(_per_channel(normalization.get("mean", [0.0]), c), dtype=x.dtype).view(1, -1, 1, 1)
    std = torch.tensor(_per_channel(normalization.get("std", [1.0]), c), dtype=x.dtype).view(1, -1, 1, 1)
    return (x * std.to(x.device) + mean.to(x.device)).clamp(0, 1)


def _per_channel(values: list[float], c: int) -> list[float]:
    return list(values) * c if len(values) == 1 else list(values)[:c]


def grid_uint8(images01: torch.Tensor, nrow: int | None = None, padding: int = 2) -> np.ndarray:
    """N x C x H x W [0, 1] images -> one H x W x 3 uint8 grid (``nrow`` images per row)."""
    n = images01.shape[0]
    nrow = nrow or max(1, math.ceil(math.sqrt(n)))
    return image_uint8(make_grid(images01.detach().float().cpu(), nrow=nrow, padding=padding, pad_value=0.5))


def make_grid(images: torch.Tensor, nrow: int, padding: int = 2, pad_value: float = 0.0) -> torch.Tensor:
    """torchvision's ``make_grid`` (same layout, pixel for pixel), without importing torchvision.

    Importing torchvision costs every GAN run ~0.2 s of start-up on 2 busy
    cores (its models and ops; torch._dynamo, which it also loads, comes with
    the first optimiser step anyway) for a few lines of tiling.  Grey images
    become RGB; one image is returned as it is (no border), like torchvision does.
    """
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    n, c, h, w = images.shape
    if n == 1:
        return images[0].clone()
    cols = min(nrow, n)
    rows = math.ceil(n / cols)
    grid = images.new_full((c, (h + padding) * rows + padding, (w + padding) * cols + padding), pad_value)
    for k in range(n):
        y, x = divmod(k, cols)
        top, left = y * (h + padding) + padding, x * (w + padding) + padding
        grid[:, top:top + h, left:left + w] = images[k]
    return grid


def image_uint8(image01: torch.Tensor) -> np.ndarray:
    """One C x H x W [0, 1] image -> H x W x C uint8 (C is 1 or 3)."""
    arr = (image01.detach().float().cpu().clamp(0, 1) * 255.0).round().to(torch.uint8)
    return arr.permute(1, 2, 0).contiguous().numpy()


def save_png(pixels: np.ndarray, path: Path) -> Path:
    """Write an H x W x C uint8 array as a PNG (atomically)."""
    from PIL import Image

    arr = pixels[:, :, 0] if pixels.ndim == 3 and pixels.shape[2] == 1 else pixels
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    atomic_write_bytes(Path(path), buf.getvalue())
    return Path(path)


def step_png(folder: Path, step: int) -> Path:
    """``samples/step_000120.png``: names sort in step order."""
    return folder / f"step_{step:06d}.png"
