"""Multi-layer perceptron classifier for tables and (flattened) images.

The ``hidden`` list is parsed by :func:`engine.textparams.parse_hidden`, which validation
also calls (without torch), so a bad list is refused before anything runs.
"""

from __future__ import annotations

import math
from typing import Any

from torch import nn

from engine.models import architecture
from engine.textparams import parse_hidden


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
