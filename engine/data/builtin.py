"""Built-in datasets that need no network."""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812

from engine.data.datasets import ImageDataset


def load_digits(size: int = 8) -> ImageDataset:
    """scikit-learn's bundled 8x8 digits as a 1-channel image dataset in [0, 1]."""
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    x = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    if size != 8:
        x = F.interpolate(x, size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1)
    labels = torch.tensor(bunch.target, dtype=torch.long)
    return ImageDataset(x=x.contiguous(), labels=labels, classes=[str(i) for i in range(10)], name="digits")
