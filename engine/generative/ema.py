"""An exponential moving average (EMA) of a generator's weights.

A GAN generator's raw weights wander: every discriminator update pushes
them somewhere else, so the picture of the moment is one point of a noisy
walk.  Averaging the weights over the last few hundred steps (Yazıcı et al.,
2019; used by ProGAN, StyleGAN, BigGAN) gives a generator that draws
cleaner, steadier images at no training cost.  The same holds, more mildly,
for a VAE's decoder.

The rules:

* after every optimiser step of the generator, ``ema = d * ema + (1 - d) * raw``
  for every parameter, with ``d = min(decay, (1 + n) / (10 + n))`` after ``n``
  updates.  The warm-up keeps the average from remembering the random
  start for thousands of steps, which matters in a minutes-long run: early
  on it averages about the last tenth of the steps, later the last
  ``1 / (1 - decay)``.
* buffers (batch-norm running statistics) are *copied* from the raw module
  at every update, not averaged: they are already a moving average of the
  raw generator's activations, and averaging them again would only make
  them lag further.
* the EMA module is never trained, never wrapped for DDP and always kept in
  eval mode; the raw module and its optimiser go on learning as before, so
  turning EMA on changes no training step, only what is shown and saved.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

WARMUP = 10  # d = min(decay, (1 + n) / (WARMUP + n))


def effective_decay(decay: float, updates: int) -> float:
    """The decay used for update number ``updates`` (counted from 1): the warm-up, capped by ``decay``."""
    return min(float(decay), (1.0 + updates) / (WARMUP + updates))


class WeightAverage:
    """The averaged copy of ``source``; call :meth:`update` after each of its optimiser steps."""

    def __init__(self, source: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be between 0 and 1 (exclusive), got {decay}")
        self.decay = float(decay)
        self.module = copy.deepcopy(source).eval().requires_grad_(False)
        self.updates = 0

    @torch.no_grad()
    def update(self, source: nn.Module) -> None:
        self.updates += 1
        keep = effective_decay(self.decay, self.updates)
        for avg, raw in zip(self.module.parameters(), source.parameters(), strict=True):
            avg.lerp_(raw.detach().to(avg.dtype), 1.0 - keep)
        for avg, raw in zip(self.module.buffers(), source.buffers(), strict=True):
            avg.copy_(raw)

    @torch.no_grad()
    def reset_to(self, source: nn.Module) -> None:
        """Start the average over at ``source``'s weights (a resume from a checkpoint written without EMA)."""
        self.module.load_state_dict(source.state_dict())
        self.updates = 0

    def state(self, prefix: str) -> dict[str, Any]:
        """What a checkpoint keeps: the averaged weights and the update count (plain tensors and ints)."""
        return {f"{prefix}": self.module.state_dict(), f"{prefix}_updates": self.updates}

    def load_state(self, state: dict[str, Any], prefix: str, source: nn.Module) -> bool:
        """Take back :meth:`state`; False (and restarted at ``source``) when the checkpoint has none."""
        if prefix not in state:
            self.reset_to(source)
            return False
        self.module.load_state_dict(state[prefix])
        self.updates = int(state.get(f"{prefix}_updates", 0))
        return True
