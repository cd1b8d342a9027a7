"""Deterministic image transforms applied once to a whole in-memory dataset."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F  # noqa: N812

from engine.data.datasets import IDENTITY, MINUS_ONE_TO_ONE, ImageDataset, Normalization


def set_channels(x01: torch.Tensor, channels: int) -> torch.Tensor:
    """Convert N x C x H x W [0, 1] images to 1 (luma) or 3 channels."""
    c = x01.shape[1]
    if c == channels:
        return x01
    if channels == 1:
        if c >= 3:
            w = torch.tensor([0.299, 0.587, 0.114], dtype=x01.dtype).view(1, 3, 1, 1)
            return (x01[:, :3] * w).sum(1, keepdim=True)
        return x01[:, :1]
    if channels == 3:
        return x01[:, :1].expand(-1, 3, -1, -1).contiguous() if c == 1 else x01[:, :3]
    raise ValueError(f"unsupported channel count {channels}")


def resize(x01: torch.Tensor, size: int) -> torch.Tensor:
    if size <= 0 or x01.shape[-2:] == (size, size):
        return x01
    return F.interpolate(x01, size=(size, size), mode="bilinear", antialias=True, align_corners=False).clamp(0, 1)


def _stream_stats(data: ImageDataset) -> Normalization:
    """Per-channel mean/std of the training split, streamed batch by batch (nothing held in memory)."""
    total = sq = None
    count = 0
    for xb, _ in data.batches("train", 256):
        x01 = data.pixels01(xb).double()
        s, s2 = x01.sum(dim=(0, 2, 3)), (x01 * x01).sum(dim=(0, 2, 3))
        total, sq = (s, s2) if total is None else (total + s, sq + s2)
        count += x01.shape[0] * x01.shape[2] * x01.shape[3]
    if total is None:
        return IDENTITY
    mean = total / count
    var = (sq / count - mean * mean) * (count / max(1, count - 1))  # unbiased, like Tensor.std
    std = var.clamp(min=1e-12).sqrt().clamp(min=1e-6)
    return Normalization(tuple(round(float(v), 6) for v in mean), tuple(round(float(v), 6) for v in std))


def _normalize_stream(data: ImageDataset, size: int, channels: str, value_range: str) -> ImageDataset:
    """Streams are re-decoded at the new size/channels; only the normalisation is computed now."""
    stream = data.redecoded(size=size or None, channels=None if channels == "keep" else int(channels),  # type: ignore[attr-defined]
                            normalization=IDENTITY)
    if value_range == "-1..1":
        norm = MINUS_ONE_TO_ONE
    elif value_range == "0..1":
        norm = IDENTITY
    else:
        norm = _stream_stats(stream)
    if len(norm.mean) == 1 and stream.channels > 1:
        norm = Normalization(norm.mean * stream.channels, norm.std * stream.channels)
    return stream.redecoded(normalization=norm)


def _range_norm(value_range: str, train01: Callable[[], torch.Tensor]) -> Normalization:
    """The normalisation a range asks for; mean/std reads the training split's [0, 1] pixels (float32, as before)."""
    if value_range == "-1..1":
        return MINUS_ONE_TO_ONE
    if value_range == "0..1":
        return IDENTITY
    train = train01()
    mean = train.mean(dim=(0, 2, 3))
    std = train.std(dim=(0, 2, 3)).clamp(min=1e-6)
    return Normalization(tuple(round(float(v), 6) for v in mean), tuple(round(float(v), 6) for v in std))


def _per_channel(norm: Normalization, channels: int) -> Normalization:
    if len(norm.mean) == 1 and channels > 1:
        return Normalization(norm.mean * channels, norm.std * channels)
    return norm


def _stays_eight_bit(data: ImageDataset, size: int, channels: str) -> bool:
    """Whether the result is still 8-bit pixels: no resampling, and no grey mix of colour channels."""
    if not data.eight_bit:
        return False
    if size > 0 and tuple(data.size) != (size, size):
        return False
    return channels == "keep" or int(channels) >= data.channels  # same count, or grey -> RGB copies


def normalize_images(data: ImageDataset, size: int = 0, channels: str = "keep", value_range: str = "-1..1") -> ImageDataset:
    """Resize, set channels, and choose the normalisation.

    uint8 data that stays 8-bit (see :func:`_stays_eight_bit`) keeps its pixels
    (shared, not copied; 1 -> 3 channels as a uint8 copy) and only gets the new
    normalisation, applied per batch when it is read.  Anything else becomes
    float32 normalised pixels, as it always was.
    """
    if hasattr(data, "redecoded"):
        return _normalize_stream(data, size, channels, value_range)
    if _stays_eight_bit(data, size, channels):
        x8 = data.x if channels == "keep" else set_channels(data.x, int(channels))
        norm = _range_norm(value_range, lambda: x8[data.split("train")].float().div_(255.0))
        return data.with_x(x8, normalization=_per_channel(norm, x8.shape[1]))
    x01 = data.images01()
    x01 = resize(x01, size)
    if channels != "keep":
        x01 = set_channels(x01, int(channels))
    norm = _per_channel(_range_norm(value_range, lambda: x01[data.split("train")]), x01.shape[1])
    return data.with_x(norm.apply(x01).contiguous(), normalization=norm)
