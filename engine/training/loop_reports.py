"""What each training step tells the run: its values as metrics (checked for divergence) and the progress.

Kept apart from the driver because it is where the loop's cost per step hides:
a step's values are tensors, and reading them forces a device sync, so they
are read (all in one sync) only on steps that report (every ``log_every``)
or before a checkpoint — never a checkpoint holding a diverged step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from engine.training.loop import TrainingLoop


class StepReports:
    """One :class:`~engine.training.loop.TrainingLoop`'s metric events and progress, read from its state."""

    def __init__(self, loop: TrainingLoop) -> None:
        self.loop = loop
        self.pending: Any = None  # values of a step not yet checked (log_every > 1)
        self.last_values: dict[str, float] = {}  # the last reported value of each metric
        self.steps_at_start = 0  # where this session began, for samples/s

    def report(self, values: Any, check_now: bool = False) -> None:
        """The step just taken: metrics when due (or checked now, as a distributed run needs), then progress."""
        loop = self.loop
        pos = loop.position
        due = pos.step % loop.config.log_every == 0 or pos.step == loop.total_steps
        if due or check_now:
            named = self.check(values)
            if due:
                self.last_values = named
                step = pos.step + loop.step_offset
                for name, value in named.items():
                    loop.ctx.metric(f"{loop.tag}{name}", value, step, pos.epoch)
        else:
            self.pending = values
        self.progress()

    def flush(self) -> None:
        """Check the last step's values if they are still unread (before a checkpoint is written)."""
        if self.pending is not None:
            self.check(self.pending)

    def check(self, values: Any) -> dict[str, float]:
        """The step's values as floats (one device sync), checked for divergence."""
        loop = self.loop
        self.pending = None
        tensors = [v.detach().float().reshape(()) for v in values if isinstance(v, torch.Tensor)]
        floats = iter(torch.stack(tensors).tolist() if tensors else [])
        numbers = [next(floats) if isinstance(v, torch.Tensor) else float(v) for v in values]
        named = dict(zip(loop.algorithm.metrics, numbers, strict=True))
        loop.watch.check(named, loop.position.step, loop.tag)
        return named

    def progress(self) -> None:
        """Fraction done, ETA (the sooner of the steps' and the time budget's) and samples/s of all ranks."""
        loop = self.loop
        pos, clock, total = loop.position, loop.clock, max(loop.total_steps, 1)
        session = clock.session_seconds()
        rate = (pos.step - self.steps_at_start) / session if session > 0 else 0.0
        fraction = pos.step / total
        eta = (total - pos.step) / rate if rate > 0 else None
        left = clock.left()
        if left is not None:
            fraction = max(fraction, 1.0 - left / clock.budget_s)
            eta = left if eta is None else min(eta, left)
        per_step = loop.algorithm.samples_per_step() * loop.world_size  # all ranks' samples
        loop.ctx.progress(fraction, step=pos.step, total_steps=loop.total_steps,
                          epoch=min(pos.epoch, loop.config.epochs), total_epochs=loop.config.epochs,
                          samples_per_s=rate * per_step, eta_s=eta)
