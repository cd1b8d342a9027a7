"""Dataset previews: a thumbnail grid (a few per class) and per-class counts.

Every dataset node calls :func:`emit_preview` so the analyst sees what the
data looks like — and whether a class folder holds the wrong pictures —
before spending time on training.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from engine.data.datasets import ImageDataset, TensorDataset
from engine.data.kinds import kind_of

if TYPE_CHECKING:
    from engine.context import StepContext

MAX_ROWS = 10  # classes shown
PER_CLASS = 8  # thumbnails per class
MIN_TILE = 32  # small images are enlarged (nearest) so they stay legible


def class_counts(data: TensorDataset) -> dict[str, int]:
    """Samples per class name (``{"(unlabelled)": n}`` for unlabelled data)."""
    if data.labels is None:
        return {"(unlabelled)": len(data)}
    counts = torch.bincount(data.labels, minlength=data.num_classes).tolist()
    return {name: int(n) for name, n in zip(data.classes, counts, strict=False)}


def split_counts(data: TensorDataset) -> dict[str, int]:
    if data.splits is None:
        return {}
    return {name: int(len(idx)) for name, idx in data.splits.items()}


def thumbnail_grid(data: ImageDataset, per_class: int = PER_CLASS, max_rows: int = MAX_ROWS, pad: int = 2) -> np.ndarray:
    """H x W x 3 uint8 grid: one row per class (the first few of each), or an 8x8 sample when unlabelled."""
    if data.labels is None:
        rows = [torch.arange(i, min(len(data), i + per_class)) for i in range(0, min(len(data), per_class * per_class), per_class)]
    else:
        rows = []
        for c in range(min(data.num_classes, max_rows)):
            idx = torch.nonzero(data.labels == c, as_tuple=False).flatten()[:per_class]
            rows.append(idx)
    rows = [r for r in rows if len(r)] or [torch.arange(0)]
    c, h, w = data.sample_shape
    scale = max(1, -(-MIN_TILE // max(h, w)))
    th, tw = h * scale, w * scale
    n_rows, n_cols = len(rows), max(1, max(len(r) for r in rows))
    grid = np.full((n_rows * (th + pad) + pad, n_cols * (tw + pad) + pad, 3), 40, dtype=np.uint8)
    for r, idx in enumerate(rows):
        if not len(idx):
            continue
        x = data.pixels01(data.take(idx).float())
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = x[:, :3]
        if scale > 1:
            x = x.repeat_interleave(scale, dim=2).repeat_interleave(scale, dim=3)
        tiles = (x.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
        for j, tile in enumerate(tiles):
            top, left = pad + r * (th + pad), pad + j * (tw + pad)
            grid[top:top + th, left:left + tw] = tile
    return grid


def save_png(pixels: np.ndarray, path: Any) -> None:
    from PIL import Image

    Image.fromarray(pixels).save(path)


def emit_preview(ctx: StepContext, data: TensorDataset, **facts: Any) -> dict[str, Any]:
    """Send the kind's preview (a thumbnail grid for images) and the counts report; returns the report."""
    report: dict[str, Any] = {
        "samples": len(data),
        "classes": list(data.classes),
        "counts": class_counts(data),
    }
    splits = split_counts(data)
    if splits:
        report["splits"] = splits
    report.update(kind_of(data).preview(ctx, data))
    report.update(facts)
    data.report = {**data.report, **report}
    ctx.report(**report)
    return report
