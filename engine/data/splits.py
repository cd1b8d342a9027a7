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


def kfold_splits(
    labels: torch.Tensor | None,
    k: int,
    seed: int = 0,
    indices: torch.Tensor | None = None,
    n: int | None = None,
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``k`` stratified, seeded ``(train_idx, val_idx)`` folds.

    Each sample of ``indices`` (default: all ``len(labels)`` or ``n`` samples)
    is in exactly one validation fold; each class is dealt round-robin over
    the folds after a seeded shuffle, so every fold holds about ``1/k`` of
    every class.  Returned indices point into the full dataset, sorted.
    Typical use: ``indices = torch.cat([data.split("train"), data.split("val")])``
    so the test split stays untouched by cross-validation.
    """
    k = int(k)
    if indices is None:
        total = len(labels) if labels is not None else n
        if total is None:
            raise ValueError("kfold_splits needs labels or n")
        indices = torch.arange(int(total))
    indices = indices.long()
    if k < 2:
        raise ValueError(f"k-fold needs k of at least 2 (got {k})")
    if len(indices) < k:
        raise ValueError(f"k-fold with k={k} needs at least {k} samples (got {len(indices)})")
    gen = torch.Generator().manual_seed(int(seed))
    if labels is None:
        groups = [indices]
    else:
        sub = labels[indices]
        groups = [indices[sub == c] for c in torch.unique(sub)]
    fold_of = torch.empty(0, dtype=torch.long)
    ordered = torch.empty(0, dtype=torch.long)
    offset = 0
    for idx in groups:
        idx = idx[torch.randperm(len(idx), generator=gen)]
        # Continue the round-robin where the last class stopped so fold sizes
        # stay within one sample of each other overall.
        folds = (torch.arange(len(idx)) + offset) % k
        offset = (offset + len(idx)) % k
        ordered = torch.cat([ordered, idx])
        fold_of = torch.cat([fold_of, folds])
    out = []
    for f in range(k):
        val = ordered[fold_of == f].sort().values
        train = ordered[fold_of != f].sort().values
        out.append((train, val))
    return out


class Splits:
    """Mixin for labelled collections with ``labels``, ``splits`` and ``len()``: named splits on demand."""

    labels: torch.Tensor | None
    splits: dict[str, torch.Tensor] | None

    def __len__(self) -> int:  # pragma: no cover - the collections define it
        raise NotImplementedError

    def split(self, name: str) -> torch.Tensor:
        """Indices of ``train``, ``val``, ``test`` (a seeded stratified 80/10/10 when unset) or ``all``."""
        if self.splits is None:
            self.splits = stratified_split(self.labels, len(self), DEFAULT_FRACTIONS, seed=0)
        if name == "all":
            return torch.arange(len(self))
        if name not in SPLIT_NAMES:
            raise ValueError(f"unknown split {name!r}")
        return self.splits[name]
