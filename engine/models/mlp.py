"""Multi-layer perceptron classifier for tables and (flattened) images."""

from __future__ import annotations

import math
from typing import Any

from torch import nn

from engine.models import architecture


def parse_hidden(text: str) -> list[int]:
    """'256, 128' -> [256, 128]; raises ValueError with a readable message."""
    sizes = [s.strip() for s in str(text).replace(";", ",").split(",") if s.strip()]
    try:
        out = [int(s) for s in sizes]
    except ValueError:
        raise ValueError(f"hidden sizes {text!r} must be whole numbers separated by commas, e.g. 256,128") from None
    if any(n < 1 or n > 65536 for n in out):
        raise ValueError(f"hidden sizes {text!r} must each be between 1 and 65536")
    return out


@architecture("mlp")
def build_mlp(params: dict[str, Any], sample_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    hidden = parse_hidden(params.get("hidden", "256,128"))
    dropout = float(params.get("dropout", 0.0))
    layers: list[nn.Module] = [nn.Flatten()]
    width = math.prod(sample_shape)
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU(inplace=True)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)
