"""Making images from a trained generator: samples, interpolation strips, PNG files.

Shared by the ``generate`` step and ``loom generate`` so both give the same
pictures for the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from engine.generative import TrainedGenerator
from engine.generative.preview import grid_uint8, image_uint8, save_png


@dataclass
class GeneratedImages:
    """What the ``Images`` port carries: [0, 1] pixels (N x C x H x W) and the PNGs written."""

    pixels01: torch.Tensor
    paths: list[str] = field(default_factory=list)
    nrow: int = 0  # images per row when shown as a grid (0: square-ish)

    def __len__(self) -> int:
        return int(self.pixels01.shape[0])


def sample(trained: TrainedGenerator, n: int, seed: int, label: int | None = None) -> torch.Tensor:
    """``n`` images in [0, 1]; the same seed always gives the same images.

    ``label``: the class a conditional generator draws (None: every class in turn).
    """
    labels = None if label is None else torch.full((n,), int(label), dtype=torch.long)
    return trained.decode01(trained.noise(n, seed), labels=labels)


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation: stays where Gaussian latents live (a straight line passes near 0)."""
    a_n, b_n = a / a.norm(dim=-1, keepdim=True), b / b.norm(dim=-1, keepdim=True)
    omega = torch.acos((a_n * b_n).sum(-1, keepdim=True).clamp(-1 + 1e-7, 1 - 1e-7))
    so = torch.sin(omega)
    return (torch.sin((1 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b


def interpolation(trained: TrainedGenerator, rows: int, steps: int, seed: int,
                  label: int | None = None) -> torch.Tensor:
    """``rows`` strips of ``steps`` images each, walking between two random latents (row-major).

    A conditional generator keeps one class along a strip: ``label``, or
    class ``row % classes`` when none is given.
    """
    ends = trained.noise(2 * rows, seed).view(rows, 2, -1)
    t = torch.linspace(0, 1, steps).view(1, steps, 1)
    z = slerp(ends[:, :1], ends[:, 1:], t).reshape(rows * steps, -1)
    labels = None
    if trained.conditional:
        per_row = torch.full((rows,), int(label)) if label is not None else torch.arange(rows) % trained.spec.num_classes
        labels = per_row.repeat_interleave(steps)
    return trained.decode01(z, labels=labels)


def write_images(images01: torch.Tensor, out_dir: Path, prefix: str = "sample") -> list[Path]:
    """One PNG per image: ``sample_0000.png``, ``sample_0001.png``, ..."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [save_png(image_uint8(img), out_dir / f"{prefix}_{i:04d}.png") for i, img in enumerate(images01)]


def write_strip(images01: torch.Tensor, steps: int, path: Path) -> Path:
    """The interpolation strips as one PNG, one strip per row."""
    return save_png(grid_uint8(images01, nrow=steps), path)
