"""Multi-layer perceptron classifier for tables and (flattened) images.

The ``hidden`` list is parsed by :func:`engine.textparams.parse_hidden`, which validation
also calls (without torch), so a bad list is refused before anything runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from torch import nn

from engine.models import architecture
from engine.textparams import parse_hidden


@architecture("mlp")
def build_mlp(params: dict[str, Any], facts: Mapping[str, Any]) -> nn.Module:
    sample_shape, num_classes = tuple(facts["input_shape"]), int(facts["num_classes"])
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
