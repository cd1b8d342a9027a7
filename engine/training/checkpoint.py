"""Checkpoint files that resume exactly, for every training algorithm.

A checkpoint records where in the data the loop stands (:class:`Position`:
epoch, the next batch of that epoch, the step counter), every module and
optimiser state, the training time spent and every RNG state.  Batch order
depends only on (seed, epoch), so restoring all of it makes a continued run
take exactly the steps an uninterrupted run would have taken.

Two rules keep this true on every device:

* RNG states are captured as CPU tensors and loaded back as CPU tensors.
  A checkpoint is always read with ``map_location="cpu"``; modules and
  optimisers copy their tensors onto the training device themselves when
  their state is loaded.  (``torch.set_rng_state`` refuses a CUDA tensor, so
  moving the whole checkpoint to the training device breaks resume on a GPU.)
* Only tensors and plain values are stored, so a checkpoint loads with
  ``torch.load(weights_only=True)`` and can never run code.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.errors import UserInputError
from engine.fileio import atomic_write

CHECKPOINT_NAME = "last.pt"


@dataclass
class Position:
    """Where the loop is: ``batch`` is the next batch of ``epoch`` to train on; ``step`` counts updates."""

    epoch: int = 1
    batch: int = 0
    step: int = 0

    def to_json(self) -> dict[str, int]:
        return {"epoch": self.epoch, "batch": self.batch, "step": self.step}

    @classmethod
    def from_json(cls, data: Any, source: Path) -> Position:
        try:
            pos = cls(int(data["epoch"]), int(data["batch"]), int(data["step"]))
        except (KeyError, TypeError, ValueError):
            raise UserInputError(f"{source}: the checkpoint's position is damaged — start a fresh run") from None
        if pos.epoch < 1 or pos.batch < 0 or pos.step < 0:
            raise UserInputError(f"{source}: the checkpoint's position {pos.to_json()} is impossible — start a fresh run")
        return pos


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def capture_rng() -> dict[str, Any]:
    """Every RNG state that affects training, as CPU tensors and plain values."""
    py_version, py_state, py_gauss = random.getstate()
    np_state = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": [py_version, list(py_state), py_gauss],
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *map(float, np_state[2:])],
    }
    if torch.cuda.is_available():
        state["cuda"] = [s.cpu() for s in torch.cuda.get_rng_state_all()]
    return state


def restore_rng(state: dict[str, Any]) -> None:
    """Put back what :func:`capture_rng` took; the tensors stay on (or come back to) the CPU."""
    torch.set_rng_state(state["torch"].cpu())
    version, py_state, gauss = state["python"]
    random.setstate((version, tuple(py_state), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.cpu().numpy().astype(np.uint32), int(pos), int(has_gauss), float(cached)))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Atomically save a checkpoint made of tensors and plain values."""
    atomic_write(path, lambda f: torch.save(state, f))


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Load a checkpoint onto the CPU without unpickling arbitrary objects."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UserInputError(f"{path}: no checkpoint there — was the run stopped before its first one?") from None
    except Exception as exc:
        raise UserInputError(
            f"{path}: refused to load — it is not a plain weights/checkpoint file ({type(exc).__name__}). "
            "Loom only loads tensors, never pickled objects."
        ) from None
    if not isinstance(state, dict):
        raise UserInputError(f"{path}: not a Loom checkpoint (it holds a {type(state).__name__}, not a mapping)")
    return state
