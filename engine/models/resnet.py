"""ResNet-18 (torchvision) with its head replaced and its input adapted to the data.

The first convolution takes the data's channel count (pretrained 3-channel
filters are folded onto 1 channel when weights load: see
:mod:`engine.models.weights`), and an optional resize in front of the net
brings small images up to a size the backbone's 32x downsampling suits.
Pretrained weights are *not* loaded here: building must stay offline and
deterministic, so exported models rebuild from a model card alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from engine.models import architecture


class Resize(nn.Module):
    """Bilinear resize of a batch to ``size`` x ``size`` (exports to ONNX Resize)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = int(size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)


class LoomResNet(nn.Module):
    """``resize`` (optional) then torchvision's ResNet-18 with a new ``fc``."""

    def __init__(self, channels: int, num_classes: int, input_size: int, dropout: float) -> None:
        super().__init__()
        from torchvision.models import resnet18

        net = resnet18(weights=None)
        if channels != 3:
            net.conv1 = nn.Conv2d(channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        net.fc = nn.Sequential(nn.Dropout(dropout), nn.Linear(512, num_classes)) if dropout > 0 else nn.Linear(
            512, num_classes
        )
        self.resize = Resize(input_size) if input_size > 0 else nn.Identity()
        self.backbone = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(self.resize(x))

    def loom_blocks(self) -> list[nn.Module]:
        """The stem and the four residual stages, in order (what ``freeze`` counts)."""
        b = self.backbone
        return [nn.ModuleList([b.conv1, b.bn1]), b.layer1, b.layer2, b.layer3, b.layer4]

    def loom_head(self) -> nn.Module:
        return self.backbone.fc

    def loom_backbone(self) -> nn.Module:
        """Where torchvision's own state dict keys apply (``conv1.weight``, ...)."""
        return self.backbone


@architecture("resnet18")
def build_resnet18(params: dict[str, Any], facts: Mapping[str, Any]) -> nn.Module:
    sample_shape, num_classes = tuple(facts["input_shape"]), int(facts["num_classes"])
    if len(sample_shape) != 3:
        raise ValueError(f"ResNet-18 needs images, but the data has samples of shape {list(sample_shape)}")
    channels, h, w = sample_shape
    size = int(params.get("input_size", 0))
    if size and size == h == w:
        size = 0
    return LoomResNet(channels, num_classes, size, float(params.get("dropout", 0.0)))
