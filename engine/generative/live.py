"""What the generative training loops share besides checkpoints: input
checks, live sample grids and progress reports."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import torch

from engine.context import StepContext
from engine.data.datasets import ImageDataset
from engine.errors import UserInputError
from engine.generative.preview import grid_uint8, save_png, step_png
from engine.training.resume import Position

# render() -> ([0, 1] images N x C x H x W, images per grid row)
Render = Callable[[], tuple[torch.Tensor, int]]


def check_image_data(data: object, split: str, batch_size: int, node_id: str) -> None:
    """Refuse, in words, data a generative model cannot train on."""
    if not isinstance(data, ImageDataset) or data.x.dim() != 4:
        raise UserInputError(f"node '{node_id}': a generative model needs an image dataset (N x C x H x W)")
    n = len(data.split(split))
    if n < batch_size:
        raise UserInputError(
            f"node '{node_id}': the '{split}' split has {n} images, fewer than batch_size {batch_size} — "
            "lower batch_size or use more images"
        )


class SampleWriter:
    """Renders a grid (from a fixed, seeded input) to ``<node>/<name>/step_XXXXXX.png`` and an image event."""

    def __init__(self, ctx: StepContext, render: Render, name: str = "samples") -> None:
        self.ctx = ctx
        self.render = render
        self.name = name
        self.folder = ctx.node_dir / name

    def path(self, step: int) -> Path:
        return step_png(self.folder, step)

    def exists(self, step: int) -> bool:
        return self.path(step).exists()

    def write(self, step: int) -> Path:
        images01, nrow = self.render()
        pixels = grid_uint8(images01, nrow=nrow)
        path = save_png(pixels, self.path(step))
        self.ctx.image(self.name, pixels, step=step, path=path)
        return path


@torch.no_grad()
def eval_forward(module: torch.nn.Module, *args: torch.Tensor) -> torch.Tensor:
    """Run ``module`` in eval mode (batch-norm running stats, no dropout) and restore its mode.

    Eval mode also means a preview neither consumes random numbers nor moves
    batch-norm statistics, so previews never change the training trajectory.
    """
    was_training = module.training
    module.eval()
    try:
        out = module(*args)
    finally:
        module.train(was_training)
    return out.float() if isinstance(out, torch.Tensor) else out


class TrainingClock:
    """Training time across resumes, the optional time budget, and the progress reports.

    ``already_s`` is the training time a resumed run had spent before its
    checkpoint, so a budget covers the whole run, not each session of it.
    """

    def __init__(self, ctx: StepContext, budget_min: float, already_s: float = 0.0, steps_at_start: int = 0) -> None:
        self.ctx = ctx
        self.budget_s = max(0.0, budget_min) * 60.0
        self._session_start = time.perf_counter()
        self._already_s = already_s
        self._steps_at_start = steps_at_start

    def elapsed(self) -> float:
        return self._already_s + time.perf_counter() - self._session_start

    def spent(self) -> bool:
        """True once a time budget is set and used up."""
        return self.budget_s > 0 and self.elapsed() >= self.budget_s

    def outcome(self, pos: Position, epochs: int, budget_min: float) -> str:
        """Why the loop ended ("finished" or "time_budget"), logged when it was the clock."""
        if pos.epoch > epochs:
            return "finished"
        self.ctx.log(f"time budget of {budget_min:g} min reached at step {pos.step}")
        return "time_budget"

    def progress(self, pos: Position, total_steps: int, epochs: int, images_per_step: int) -> None:
        session_s = time.perf_counter() - self._session_start
        rate = (pos.step - self._steps_at_start) / session_s if session_s > 0 else 0.0
        fraction = pos.step / max(total_steps, 1)
        eta = (total_steps - pos.step) / rate if rate > 0 else None
        if self.budget_s:
            left_s = max(0.0, self.budget_s - self.elapsed())
            fraction = max(fraction, 1.0 - left_s / self.budget_s)
            eta = left_s if eta is None else min(eta, left_s)
        self.ctx.progress(
            fraction,
            step=pos.step,
            total_steps=total_steps,
            epoch=min(pos.epoch, epochs),
            total_epochs=epochs,
            samples_per_s=rate * images_per_step,
            eta_s=eta,
        )
