"""Numeric precision of a training run: fp32, or mixed precision where it pays.

One object per run owns the choice, the autocast context and the gradient
scaler, and performs the optimiser step every algorithm repeats (zero the
gradients, scaled backward, optional clipping, step, scaler update).  Which
precision a run uses is decided by the speed policy (engine.training.speed):
bf16 autocast on CPUs with native bf16 and on CUDA GPUs that support it, fp16
with a gradient scaler on other CUDA GPUs, fp32 otherwise.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import torch

MODES = ("fp32", "bf16", "fp16")


def amp_supported(device: str) -> bool:
    """Mixed precision before the model is known (the LR finder): CUDA only, as the policy's cautious default."""
    return str(device).startswith("cuda")


def default_mode(device: str, requested: bool) -> str:
    """The precision before the speed policy has seen the model: fp16 AMP on CUDA when asked, else fp32."""
    return "fp16" if requested and amp_supported(device) else "fp32"


class Precision:
    def __init__(self, device: str, mode: str | bool) -> None:
        if isinstance(mode, bool):  # the earlier form: amp on or off
            mode = default_mode(device, mode)
        if mode not in MODES:
            raise ValueError(f"unknown precision {mode!r} (choose from {', '.join(MODES)})")
        self.device_type = str(device).split(":")[0]
        self.mode = mode
        self.enabled = mode != "fp32"
        self.scaler = torch.amp.GradScaler("cuda", enabled=mode == "fp16" and self.device_type == "cuda")

    def autocast(self) -> contextlib.AbstractContextManager:
        if not self.enabled:
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.mode == "bf16" else torch.float16
        return torch.autocast(device_type=self.device_type, dtype=dtype)

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
        return {"fp32": "fp32", "bf16": "mixed precision (bf16)", "fp16": "mixed precision (fp16)"}[self.mode]
