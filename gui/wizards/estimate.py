"""How long a preset will take on this machine: a quick measurement, not a guess (no Qt).

The model page promises "about N minutes on this device", so the number must
come from this device: we build the preset's real model with the engine's
own builder, time a few training steps on a random batch of the data's shape,
and scale by the number of training images and epochs.  The result is cached
per (model, shape) for the session; measuring costs well under a second for
the small presets.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

_CACHE: dict[tuple, float] = {}
_LOCK = threading.Lock()
_ONE_AT_A_TIME = threading.Lock()  # timings running side by side would slow each other down
EVAL_OVERHEAD = 1.2  # validation passes, data shuffling, checkpoints


@dataclass(frozen=True)
class Estimate:
    seconds_per_sample: float
    device: str
    how: str = "measured"  # plain words for the UI

    def seconds(self, train_samples: int, epochs: int, minutes_cap: float | None = None) -> float:
        total = self.seconds_per_sample * train_samples * epochs * EVAL_OVERHEAD
        if minutes_cap:
            total = min(total, minutes_cap * 60.0)
        return total


class Cancelled(Exception):
    """The timing was abandoned (its wizard closed)."""


def measure(model_type: str, model_params: dict[str, Any], sample_shape: tuple[int, ...], num_classes: int,
            batch: int = 16, steps: int = 2, cancel: threading.Event | None = None) -> Estimate:
    """Seconds per training sample for ``model_type`` (a classifier step) on this machine's device.

    ``cancel`` is checked between steps, so a closed wizard never leaves a timing running.
    """
    cancel = cancel or threading.Event()
    from engine.device import select_device

    key = (model_type, tuple(sorted(model_params.items())), tuple(sample_shape), num_classes, batch)
    device, _ = select_device("auto")
    with _LOCK:
        if key in _CACHE:
            return Estimate(_CACHE[key], str(device))
    with _ONE_AT_A_TIME:
        if cancel.is_set():
            raise Cancelled
        return _measure(key, model_type, model_params, sample_shape, num_classes, batch, steps, device, cancel)


def _measure(key: tuple, model_type: str, model_params: dict[str, Any], sample_shape: tuple[int, ...],
             num_classes: int, batch: int, steps: int, device: Any, cancel: threading.Event) -> Estimate:
    import torch

    from engine.models import ModelSpec, build_model, model_facts
    from engine.steps.registry import get_step

    with _LOCK:
        if key in _CACHE:
            return Estimate(_CACHE[key], str(device))
    spec_decl = get_step(model_type)
    params = {**(spec_decl.defaults() if spec_decl else {}), **model_params, "weights": "none"}
    model = build_model(ModelSpec(model_type, params), model_facts(tuple(sample_shape), num_classes)).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randn(batch, *sample_shape, device=device)
    y = torch.randint(0, num_classes, (batch,), device=device)
    loss_fn = torch.nn.CrossEntropyLoss()

    def one_step() -> None:
        if cancel.is_set():
            raise Cancelled
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        opt.step()

    one_step()  # warm-up: allocations, kernel choice
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        one_step()
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()
    per_sample = (time.perf_counter() - start) / (steps * batch)
    with _LOCK:
        _CACHE[key] = per_sample
    return Estimate(per_sample, str(device))


def human_duration(seconds: float) -> str:
    """'about 40 s', 'about 3 min', 'about 1.5 h' — estimates should not look precise."""
    if seconds < 60:
        return f"about {max(1, round(seconds / 5) * 5 if seconds > 10 else round(seconds))} s"
    if seconds < 3600:
        return f"about {round(seconds / 60)} min"
    return f"about {seconds / 3600:.1f} h"
