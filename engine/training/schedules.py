"""Learning-rate schedules as multipliers of the base rate, stepped once per batch.

Each schedule is a pure function of the step number, wrapped in
``LambdaLR`` so its state (just the step count) goes into the checkpoint and
a resumed run continues on the same curve.  ``constant`` returns no scheduler
at all, so the default costs the training loop nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from engine.training.choices import SCHEDULES


def lr_factor(name: str, total_steps: int, steps_per_epoch: int, step_epochs: int = 10,
              gamma: float = 0.1, warmup_fraction: float = 0.3) -> Callable[[int], float]:
    """The multiplier of the base learning rate at (0-based) step ``s``.

    * ``step``: times ``gamma`` every ``step_epochs`` epochs.
    * ``cosine``: half a cosine from 1 down to 0 over the whole run.
    * ``one_cycle``: a cosine warm-up from 1/25 to 1 over ``warmup_fraction``
      of the run, then a cosine down to 1/10000 (Smith's one-cycle policy).
    """
    total = max(int(total_steps), 1)
    if name == "constant":
        return lambda s: 1.0
    if name == "step":
        every = max(int(step_epochs) * max(int(steps_per_epoch), 1), 1)
        return lambda s: gamma ** (s // every)
    if name == "cosine":
        return lambda s: 0.5 * (1.0 + math.cos(math.pi * min(s, total) / total))
    if name == "one_cycle":
        warm = max(int(total * warmup_fraction), 1)
        start, end = 1 / 25, 1e-4

        def one_cycle(s: int) -> float:
            if s < warm:
                t = s / warm
                return start + (1 - start) * 0.5 * (1 - math.cos(math.pi * t))
            t = min((s - warm) / max(total - warm, 1), 1.0)
            return end + (1 - end) * 0.5 * (1 + math.cos(math.pi * t))

        return one_cycle
    raise ValueError(f"unknown learning-rate schedule {name!r} (choose from {', '.join(SCHEDULES)})")


def make_scheduler(optimizer: torch.optim.Optimizer, name: str, total_steps: int, steps_per_epoch: int,
                   step_epochs: int = 10, gamma: float = 0.1) -> torch.optim.lr_scheduler.LambdaLR | None:
    """A per-batch scheduler, or ``None`` for a constant rate."""
    if name == "constant":
        return None
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lr_factor(name, total_steps, steps_per_epoch, step_epochs, gamma)
    )
