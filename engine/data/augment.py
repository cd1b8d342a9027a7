"""Train-time augmentation applied per batch, on the training device.

A dataset carries its augmentations as plain dicts (``ImageDataset.augment``)
so they survive the disk cache; the training loop calls :func:`augment_batch`
on each training batch.  Every image in a batch gets its *own* random draw:
torchvision's batch-wise v2 transforms draw once per call, which would flip or
rotate a whole batch the same way and teach the model much less.  Geometric
ops (flip, rotation, translation, zoom) are composed into one affine matrix per
sample and applied with a single ``grid_sample``; colour jitter uses
per-sample factors.

Spec dicts (``op`` names the augmentation; missing keys take the defaults)::

    {"op": "hflip", "p": 0.5}
    {"op": "vflip", "p": 0.5}
    {"op": "rotate", "degrees": 15.0}          # uniform in [-degrees, degrees]
    {"op": "translate", "fraction": 0.1}       # shift up to this fraction of the side
    {"op": "zoom", "amount": 0.1}              # scale uniform in [1 - amount, 1 + amount]
    {"op": "jitter", "brightness": 0.2, "contrast": 0.2, "saturation": 0.2}

Random draws are made on the CPU from ``generator`` (then moved to the
device), so a seeded generator gives the same augmentations on any device.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F  # noqa: N812

if TYPE_CHECKING:
    from engine.data.datasets import Normalization

GEOMETRIC_OPS = ("hflip", "vflip", "rotate", "translate", "zoom")
COLOUR_OPS = ("jitter",)
OPS = GEOMETRIC_OPS + COLOUR_OPS


def check_specs(specs: Sequence[dict[str, Any]]) -> None:
    """Raise ``ValueError`` naming the first spec that is not understood."""
    for spec in specs:
        op = spec.get("op")
        if op not in OPS:
            raise ValueError(f"unknown augmentation {op!r}; known: {', '.join(OPS)}")


def _uniform(n: int, lo: float, hi: float, gen: torch.Generator | None) -> torch.Tensor:
    return torch.rand(n, generator=gen) * (hi - lo) + lo


def _coin(n: int, p: float, gen: torch.Generator | None) -> torch.Tensor:
    return torch.rand(n, generator=gen) < p


def _affine_matrices(n: int, specs: Sequence[dict[str, Any]], gen: torch.Generator | None) -> torch.Tensor | None:
    """Compose the geometric specs into one N x 2 x 3 matrix per sample (or None if none apply)."""
    mats = torch.eye(3).expand(n, 3, 3).clone()
    used = False
    for spec in specs:
        op = spec["op"]
        m = torch.eye(3).expand(n, 3, 3).clone()
        if op in ("hflip", "vflip"):
            flip = _coin(n, float(spec.get("p", 0.5)), gen)
            axis = 0 if op == "hflip" else 1
            m[:, axis, axis] = torch.where(flip, -1.0, 1.0)
        elif op == "rotate":
            deg = float(spec.get("degrees", 15.0))
            theta = _uniform(n, -deg, deg, gen) * (math.pi / 180.0)
            c, s = torch.cos(theta), torch.sin(theta)
            m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = c, -s, s, c
        elif op == "translate":
            frac = float(spec.get("fraction", 0.1))
            # affine_grid coordinates span [-1, 1], so a shift of f of the side is 2f.
            m[:, 0, 2] = _uniform(n, -2 * frac, 2 * frac, gen)
            m[:, 1, 2] = _uniform(n, -2 * frac, 2 * frac, gen)
        elif op == "zoom":
            amount = float(spec.get("amount", 0.1))
            scale = _uniform(n, 1.0 - amount, 1.0 + amount, gen)
            m[:, 0, 0] = 1.0 / scale
            m[:, 1, 1] = 1.0 / scale
        else:
            continue
        used = True
        mats = mats @ m
    return mats[:, :2, :] if used else None


def _only_flips(specs: Sequence[dict[str, Any]]) -> bool:
    return all(s["op"] in ("hflip", "vflip") for s in specs)


def _apply_geometry(x: torch.Tensor, specs: Sequence[dict[str, Any]], gen: torch.Generator | None) -> torch.Tensor:
    n = x.shape[0]
    if _only_flips(specs):
        # Exact and cheap: per-sample masks instead of resampling.
        for spec in specs:
            flip = _coin(n, float(spec.get("p", 0.5)), gen).to(x.device).view(n, 1, 1, 1)
            dim = -1 if spec["op"] == "hflip" else -2
            x = torch.where(flip, x.flip(dim), x)
        return x
    mats = _affine_matrices(n, specs, gen)
    if mats is None:
        return x
    grid = F.affine_grid(mats.to(device=x.device, dtype=x.dtype), list(x.shape), align_corners=False)
    # "border" repeats the edge pixels: the background continues instead of a
    # black wedge the model could learn to look for.
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _gray(x01: torch.Tensor) -> torch.Tensor:
    if x01.shape[1] < 3:
        return x01[:, :1]
    w = torch.tensor([0.299, 0.587, 0.114], dtype=x01.dtype, device=x01.device).view(1, 3, 1, 1)
    return (x01[:, :3] * w).sum(1, keepdim=True)


def _apply_jitter(x01: torch.Tensor, spec: dict[str, Any], gen: torch.Generator | None) -> torch.Tensor:
    n = x01.shape[0]

    def factors(key: str) -> torch.Tensor | None:
        amount = float(spec.get(key, 0.0))
        if amount <= 0:
            return None
        return _uniform(n, max(0.0, 1.0 - amount), 1.0 + amount, gen).to(x01.device, x01.dtype).view(n, 1, 1, 1)

    b, c, s = factors("brightness"), factors("contrast"), factors("saturation")
    if b is not None:
        x01 = x01 * b
    if c is not None:
        mean = _gray(x01).mean(dim=(1, 2, 3), keepdim=True)
        x01 = mean + c * (x01 - mean)
    if s is not None and x01.shape[1] >= 3:
        g = _gray(x01)
        x01 = g + s * (x01 - g)
    return x01.clamp(0.0, 1.0)


def augment_batch(
    x: torch.Tensor,
    specs: Sequence[dict[str, Any]],
    generator: torch.Generator | None = None,
    normalization: Normalization | None = None,
) -> torch.Tensor:
    """Return an augmented copy of the N x C x H x W batch ``x`` (never modified in place).

    ``normalization`` is the dataset's (``ImageDataset.normalization``): colour
    jitter works on [0, 1] pixels, so it un-normalises, jitters and
    re-normalises.  Without it, ``x`` is taken to be [0, 1] pixels already.
    Geometric ops do not depend on the value range.  ``generator`` is a CPU
    generator (seed it for reproducible augmentation); ``None`` uses torch's
    global RNG.
    """
    if not specs or x.shape[0] == 0:
        return x
    if generator is not None and generator.device.type != "cpu":
        raise ValueError("augment_batch draws its random numbers on the CPU: pass a CPU torch.Generator")
    check_specs(specs)
    out = x
    geometric = [s for s in specs if s["op"] in GEOMETRIC_OPS]
    if geometric:
        out = _apply_geometry(out, geometric, generator)
    for spec in specs:
        if spec["op"] == "jitter":
            x01 = normalization.invert(out) if normalization is not None else out
            x01 = _apply_jitter(x01, spec, generator)
            out = normalization.apply(x01) if normalization is not None else x01
    return out
