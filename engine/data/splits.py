"""Seeded, stratified train/validation/test splits."""

from __future__ import annotations

import torch

DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)
SPLIT_NAMES = ("train", "val", "test")


def stratified_split(
    labels: torch.Tensor | None,
    n: int,
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
    seed: int = 0,
) -> dict[str, torch.Tensor]:
    """Index tensors for train/val/test with each class split in the same ratio.

    Unlabelled data (``labels is None``) is split at random.  Every class keeps
    at least one training example; tiny classes may have no val/test share.
    """
    gen = torch.Generator().manual_seed(int(seed))
    total = sum(fractions)
    fr = [f / total for f in fractions]
    groups = [torch.arange(n)] if labels is None else [
        torch.nonzero(labels == c, as_tuple=False).flatten() for c in torch.unique(labels)
    ]
    parts: dict[str, list[torch.Tensor]] = {name: [] for name in SPLIT_NAMES}
    for idx in groups:
        idx = idx[torch.randperm(len(idx), generator=gen)]
        m = len(idx)
        n_val = int(round(m * fr[1]))
        n_test = int(round(m * fr[2]))
        if m - n_val - n_test < 1:  # keep a training example per class
            n_test = max(0, m - 1 - n_val)
            n_val = max(0, min(n_val, m - 1 - n_test))
        parts["test"].append(idx[:n_test])
        parts["val"].append(idx[n_test:n_test + n_val])
        parts["train"].append(idx[n_test + n_val:])
    out = {}
    for name, chunks in parts.items():
        joined = torch.cat(chunks) if chunks else torch.empty(0, dtype=torch.long)
        out[name] = joined.sort().values
    return out
