"""Numeric precision of a training run: fp32, or mixed precision where it pays.

One object per run owns the choice, the autocast context and the gradient
scaler, and performs the optimiser step every algorithm repeats (zero the
gradients, scaled backward, optional clipping, step, scaler update).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import torch


def amp_supported(device: str) -> bool:
    """Mixed precision only where it helps and is supported: CUDA."""
    return str(device).startswith("cuda")


class Precision:
    def __init__(self, device: str, requested: bool) -> None:
        self.enabled = bool(requested) and amp_supported(device)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.enabled)

    def autocast(self) -> contextlib.AbstractContextManager:
        if not self.enabled:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=torch.float16)

    def optimize(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer,
                 clip: tuple[Iterable[torch.nn.Parameter], float] | None = None) -> None:
        """One update of ``optimizer`` from ``loss``; ``clip`` = (parameters, max gradient norm)."""
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if clip is not None and clip[1] > 0:
            self.scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(clip[0], clip[1])
        self.scaler.step(optimizer)
        self.scaler.update()

    def describe(self) -> str:
        return "mixed precision (fp16)" if self.enabled else "fp32"
