"""Small pieces the training algorithms share: configs built from step params, optimisers."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import torch

from engine.training.choices import OPTIMIZERS


class FromParams:
    """Mixin for config dataclasses: build one from a step's params, ignoring the params it does not use."""

    @classmethod
    def from_params(cls, params: dict[str, Any], **overrides: Any) -> Any:
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{**{k: v for k, v in params.items() if k in names}, **overrides})


def make_optimizer(
    name: str,
    params: Iterable[torch.nn.Parameter],
    lr: float,
    weight_decay: float = 0.0,
    momentum: float = 0.9,
    betas: tuple[float, float] = (0.9, 0.999),
) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=betas, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=momentum > 0)
    raise ValueError(f"unknown optimizer {name!r} (choose from {', '.join(OPTIMIZERS)})")
