"""What a language model shows while it learns: text samples, the text twin of the GAN's sample grids.

Each sample set is written to ``<node>/samples/step_XXXXXX.txt`` and shown
with a ``TextReady`` event (``ctx.text``), so the dashboard can scrub
through every saved step like it does through image grids.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engine.context import StepContext
from engine.fileio import atomic_write_text


def step_txt(folder: Path, step: int) -> Path:
    """``samples/step_000120.txt``: names sort in step order."""
    return folder / f"step_{step:06d}.txt"


class TextSampleWriter:
    """Renders text (from fixed prompts and a fixed seed) to a file per step and a text event."""

    def __init__(self, ctx: StepContext, render: Callable[[], str], name: str = "samples") -> None:
        self.ctx = ctx
        self.render = render
        self.name = name
        self.folder = ctx.node_dir / name

    def path(self, step: int) -> Path:
        return step_txt(self.folder, step)

    def exists(self, step: int) -> bool:
        return self.path(step).exists()

    def write(self, step: int) -> Path:
        text = self.render()
        path = self.path(step)
        atomic_write_text(path, text)
        self.ctx.text(self.name, text, step=step, path=path)
        return path
