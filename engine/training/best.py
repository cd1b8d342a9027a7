"""Early stopping and "keep the best" for any metric: one small tracker every algorithm can use.

It remembers the best value of one metric (its direction from
:mod:`engine.metric_direction`), where it was reached, the weights that
reached it (a detached copy), and how many checks in a row failed to beat it.
The weights go to a side file next to the checkpoint (``best.pt``, tensors
only) whenever they changed, so a resumed run still ends on them; the file is
removed once the final checkpoint (which holds them) is written.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from engine.metric_direction import HIGHER, direction
from engine.training.checkpoint import load_checkpoint, save_checkpoint

BEST_NAME = "best.pt"


class BestKeeper:
    """The best value of ``metric`` so far; ``patience`` failed checks in a row exhaust it (0: never)."""

    def __init__(self, metric: str, patience: int = 0, keep: bool = True) -> None:
        self.metric, self.patience, self.keep = metric, patience, keep
        self.higher = direction(metric) == HIGHER
        self.value: float | None = None
        self.at = 0  # the step (or epoch) of the best value
        self.bad = 0  # checks since the last improvement
        self.weights: dict[str, torch.Tensor] | None = None
        self.dirty = False  # weights not yet written to the side file

    def beats(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.value is None or math.isnan(self.value):
            return True
        return value > self.value if self.higher else value < self.value

    def update(self, value: float, at: int, module: torch.nn.Module | None = None) -> bool:
        """Record one check; returns whether it is the new best (its weights are copied when kept)."""
        if not self.beats(value):
            self.bad += 1
            return False
        self.value, self.at, self.bad = value, at, 0
        if self.keep and module is not None:
            self.weights = {k: v.detach().clone() for k, v in module.state_dict().items()}
            self.dirty = True
        return True

    @property
    def exhausted(self) -> bool:
        """Patience has run out: early stopping is due."""
        return bool(self.patience) and self.bad >= self.patience

    # -- checkpoints ------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"value": self.value, "at": self.at, "bad": self.bad}

    def load_state(self, state: dict[str, Any] | None, folder: Path, finished: bool = False) -> None:
        """Take back :meth:`state`, and the weights from ``folder``'s side file when the run was not finished."""
        state = state or {}
        self.value, self.at, self.bad = state.get("value"), int(state.get("at", 0)), int(state.get("bad", 0))
        path = folder / BEST_NAME
        if self.keep and not finished and path.exists():
            self.weights = load_checkpoint(path)["model"]

    def save(self, folder: Path, final: bool) -> None:
        """Write the best weights beside the checkpoint (only when they changed); drop them at the end."""
        path = folder / BEST_NAME
        if final:
            path.unlink(missing_ok=True)  # the final checkpoint holds the weights the step hands on
        elif self.weights is not None and self.dirty:
            save_checkpoint(path, {"model": self.weights, "at": self.at})
            self.dirty = False

    def restore(self, module: torch.nn.Module) -> bool:
        """Load the best weights into ``module`` (when kept); returns whether it did."""
        if not self.keep or self.weights is None:
            return False
        module.load_state_dict(self.weights)
        return True
