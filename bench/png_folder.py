"""A folder of shape PNGs, one subfolder per class: the image folder the speed and memory benches read.

Both ``image_folder`` and torchvision's ``ImageFolder`` read this layout, so
Loom and the tutorial loop see the same files.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_shape_pngs(folder: Path, count: int, size: int = 32, seed: int = 0, layout: str = "varied") -> Path:
    """``count`` RGB shapes drawn by Loom's shapes source (deterministic per ``seed``), saved as PNG files."""
    import numpy as np
    import torch
    from PIL import Image

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from engine.data.shapes import make_shapes

    data = make_shapes(count=count, size=size, seed=seed, layout=layout)
    pixels = (data.images01().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    for name in data.classes:
        (folder / name).mkdir(parents=True, exist_ok=True)
    labels = data.labels.tolist()

    def save(i: int) -> None:
        Image.fromarray(np.ascontiguousarray(pixels[i])).save(folder / data.classes[labels[i]] / f"{i:06d}.png")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(save, range(count)))
    return folder
