"""Pieces every training loop shares: seeding, RNG capture, optimisers,
mixed precision and checkpoint files.

Checkpoints hold only tensors and plain Python values, so they load with
``torch.load(weights_only=True)``: a checkpoint file can never run code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import random
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.errors import TrainingDiverged, UserInputError
from engine.fileio import atomic_write
from engine.training.choices import OPTIMIZERS


class FromParams:
    """Mixin for config dataclasses: build one from a step's params, ignoring the params it does not use."""

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Any:
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in params.items() if k in names})


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def capture_rng() -> dict[str, Any]:
    """Every RNG state that affects training, as weights_only-safe values."""
    py_version, py_state, py_gauss = random.getstate()
    np_state = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": [py_version, list(py_state), py_gauss],
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *map(float, np_state[2:])],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    version, py_state, gauss = state["python"]
    random.setstate((version, tuple(py_state), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), int(pos), int(has_gauss), float(cached)))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def make_optimizer(
    name: str,
    params: Iterable[torch.nn.Parameter],
    lr: float,
    weight_decay: float = 0.0,
    momentum: float = 0.9,
    betas: tuple[float, float] = (0.9, 0.999),
) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=betas, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=momentum > 0)
    raise ValueError(f"unknown optimizer {name!r} (choose from {', '.join(OPTIMIZERS)})")


def amp_enabled(device: str, requested: bool) -> bool:
    """Mixed precision only where it helps and is supported: CUDA."""
    return requested and device.startswith("cuda")


def autocast(device: str, enabled: bool) -> contextlib.AbstractContextManager:
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type="cuda", dtype=torch.float16)


def make_scaler(device: str, enabled: bool) -> torch.amp.GradScaler:
    return torch.amp.GradScaler("cuda", enabled=enabled and device.startswith("cuda"))


def ensure_finite(value: float, what: str, step: int) -> None:
    if not math.isfinite(value):
        raise TrainingDiverged(
            f"{what} became {value} at step {step} — training diverged; the last good checkpoint "
            "is kept. Lower the learning rate or enable gradient clipping."
        )


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Atomically save a checkpoint made of tensors and plain values."""
    atomic_write(path, lambda f: torch.save(state, f))


def load_checkpoint(path: Path, map_location: str = "cpu") -> dict[str, Any]:
    """Load a checkpoint without unpickling arbitrary objects."""
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise UserInputError(f"{path}: no checkpoint there — was the run stopped before its first one?") from None
    except Exception as exc:
        raise UserInputError(
            f"{path}: refused to load — it is not a plain weights/checkpoint file ({type(exc).__name__}). "
            "Loom only loads tensors, never pickled objects."
        ) from None


@contextlib.contextmanager
def train_mode(*modules: torch.nn.Module) -> Iterator[None]:
    for m in modules:
        m.train()
    try:
        yield
    finally:
        for m in modules:
            m.eval()
