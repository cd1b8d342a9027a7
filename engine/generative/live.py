"""What generative training shows while it learns: input checks and live sample grids."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from engine.context import StepContext
from engine.data.datasets import ImageDataset
from engine.errors import UserInputError
from engine.generative.preview import grid_uint8, save_png, step_png

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
