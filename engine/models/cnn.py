"""A small convolutional classifier sized from its input.

Stages of two 3x3 conv + batch-norm + ReLU layers each halve the image with a
max-pool, until the feature map is 4 px or smaller (or ``stages`` says
otherwise); global average pooling then feeds one linear head.  Widths double
per stage from ``width``, so one number scales the whole net.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from engine.models import architecture


def auto_stages(side: int, max_stages: int = 5) -> int:
    """How many 2x poolings bring ``side`` down to 4 px or less (at least 1)."""
    stages = 0
    while side > 4 and stages < max_stages:
        side = (side + 1) // 2
        stages += 1
    return max(stages, 1)


def _conv(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


class SmallCNN(nn.Module):
    """Conv stages, global average pooling, dropout, linear head.

    ``loom_blocks`` lists the stages in order (then the head), which is what
    freezing "all but the last N blocks" counts.
    """

    def __init__(self, channels: int, num_classes: int, width: int, stages: int, dropout: float) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = channels
        for i in range(stages):
            c_out = min(width * 2**i, 512)
            layers.append(nn.Sequential(*_conv(c_in, c_out), *_conv(c_out, c_out), nn.MaxPool2d(2, ceil_mode=True)))
            c_in = c_out
        self.features = nn.Sequential(*layers)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.head = nn.Linear(c_in, num_classes)

    def forward(self, x):  # noqa: ANN001, ANN201 - tensors in, tensors out
        return self.head(self.dropout(self.pool(self.features(x))))

    def loom_blocks(self) -> list[nn.Module]:
        return list(self.features)

    def loom_head(self) -> nn.Module:
        return self.head


@architecture("cnn")
def build_cnn(params: dict[str, Any], facts: Mapping[str, Any]) -> nn.Module:
    sample_shape, num_classes = tuple(facts["input_shape"]), int(facts["num_classes"])
    if len(sample_shape) != 3:
        raise ValueError(
            f"a CNN needs images (channels x height x width), but the data has samples of shape {list(sample_shape)} "
            "— use the MLP for tables"
        )
    channels, h, w = sample_shape
    stages = int(params.get("stages", 0)) or auto_stages(min(h, w))
    return SmallCNN(channels, num_classes, int(params.get("width", 32)), stages, float(params.get("dropout", 0.0)))
