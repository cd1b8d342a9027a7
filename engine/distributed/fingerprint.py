"""A hash of a model's state, to prove that every rank ends with bit-identical weights.

Set ``LOOM_DIST_FINGERPRINTS=DIR`` and each rank of a distributed run writes
``DIR/rank<R>.txt`` — one line per trained module, ``name sha256`` — when its training loop ends
(before any end-of-training hook changes the weights).  It is a debugging aid and what the tests
use; :func:`state_hash` on rank 0's final checkpoint gives the same hash.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

ENV = "LOOM_DIST_FINGERPRINTS"


def state_hash(state: dict[str, Any]) -> str:
    """SHA-256 over every tensor of a ``state_dict`` (names, dtypes, shapes and bytes), in key order."""
    import torch

    digest = hashlib.sha256()
    for key in sorted(state):
        value = state[key]
        if not isinstance(value, torch.Tensor):
            continue
        t = value.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{key}|{t.dtype}|{tuple(t.shape)}|".encode())
        digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


def dump(rank: int, modules: dict[str, Any]) -> None:
    """Write this rank's fingerprints when :data:`ENV` names a folder (otherwise nothing)."""
    folder = os.environ.get(ENV)
    if not folder:
        return
    lines = [f"{name} {state_hash(module.state_dict())}" for name, module in sorted(modules.items())]
    path = Path(folder) / f"rank{rank}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
