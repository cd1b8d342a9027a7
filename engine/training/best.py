"""Early stopping and "keep the best" for any metric: one small tracker every algorithm can use.

It remembers the best value of one metric (its direction from
:mod:`engine.metric_direction`), where it was reached, the weights that
reached it (a detached copy), and how many checks in a row failed to beat it.
The weights travel in the checkpoint (see :meth:`BestKeeper.state`), so a
resumed run still ends on them.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from engine.metric_direction import HIGHER, direction


class BestKeeper:
    """The best value of ``metric`` so far; ``patience`` failed checks in a row exhaust it (0: never)."""

    def __init__(self, metric: str, patience: int = 0, keep: bool = True) -> None:
        self.metric, self.patience, self.keep = metric, patience, keep
        self.higher = direction(metric) == HIGHER
        self.value: float | None = None
        self.at = 0  # the step (or epoch) of the best value
        self.bad = 0  # checks since the last improvement
        self.weights: dict[str, torch.Tensor] | None = None

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
        return True

    @property
    def exhausted(self) -> bool:
        """Patience has run out: early stopping is due."""
        return bool(self.patience) and self.bad >= self.patience

    # -- checkpoints ------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Plain values and the best weights, for the checkpoint itself.

        Kept inside the (atomically written) checkpoint rather than in a side
        file: a run killed between writing the two files could otherwise resume
        with best weights that do not match the best step it remembers.
        """
        out: dict[str, Any] = {"value": self.value, "at": self.at, "bad": self.bad}
        if self.keep and self.weights is not None:
            out["weights"] = self.weights
        return out

    def load_state(self, state: dict[str, Any] | None) -> None:
        """Take back :meth:`state`."""
        state = state or {}
        self.value, self.at, self.bad = state.get("value"), int(state.get("at", 0)), int(state.get("bad", 0))
        weights = state.get("weights")
        self.weights = dict(weights) if self.keep and isinstance(weights, dict) else None

    def restore(self, module: torch.nn.Module) -> bool:
        """Load the best weights into ``module`` (when kept); returns whether it did."""
        if not self.keep or self.weights is None:
            return False
        module.load_state_dict(self.weights)
        return True
