"""Image datasets too big for memory: decoded per batch through a DataLoader.

:class:`StreamingImageDataset` is an :class:`ImageDataset` whose pixels stay
in the files.  It keeps the same interface — ``batches()``, ``split()``,
``take()``, ``to_state()`` — so training loops do not care which path they
get: each batch's indices come from the same seeded permutation
(:meth:`TensorDataset.batch_indices`), the files are decoded by DataLoader
workers, and normalisation is applied on the training device.  ``x`` is an
empty N=0 placeholder that only carries the sample shape.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from engine.data.datasets import ImageDataset, Normalization, plain
from engine.data.images import decode_file
from engine.distributed.sharding import Shard


class _FileItems(Dataset):
    """One decoded image (uint8 C x H x W) and its label per index."""

    def __init__(self, files: list[str], labels: torch.Tensor | None, decode: dict[str, Any]) -> None:
        self.files = files
        self.labels = labels
        self.decode = decode

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        d = self.decode
        dec = decode_file(Path(self.files[i]), d["size"], d["fit"], 1 if d["channels"] == 1 else 3,
                          d.get("max_pixels", 50_000_000), 1, digest=False)
        if dec.pixels is None:  # the file changed since the scan: a blank keeps the batch shape
            pixels = torch.zeros(d["channels"], d["size"], d["size"], dtype=torch.uint8)
        else:
            pixels = dec.pixels[: d["channels"]]
        label = int(self.labels[i]) if self.labels is not None else -1
        return pixels, label


def placeholder(channels: int, size: int) -> torch.Tensor:
    return torch.empty(0, channels, size, size)


@dataclass
class StreamingImageDataset(ImageDataset):
    """Images decoded from ``files`` per batch (see the module doc)."""

    files: list[str] = field(default_factory=list)
    decode: dict[str, Any] = field(default_factory=dict)  # size, fit, channels, max_pixels
    workers: int = -1  # DataLoader workers; -1 = a sensible number for this machine

    def __len__(self) -> int:
        return len(self.files)

    def on_device(self, device: str | torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
        raise RuntimeError(
            f"the dataset '{self.name}' is streamed from disk ({len(self)} images), not held in memory — "
            "use batches() or take()"
        )

    def _loader(self, batch_lists: list[list[int]], device: str | torch.device) -> DataLoader:
        workers = self.workers if self.workers >= 0 else min(4, max(0, (os.cpu_count() or 1) - 1))
        return DataLoader(
            _FileItems(self.files, self.labels, self.decode),
            batch_sampler=batch_lists,
            num_workers=workers,
            pin_memory=str(device).startswith("cuda"),
            persistent_workers=False,
        )

    def _finish(self, raw: torch.Tensor, device: str | torch.device) -> torch.Tensor:
        x01 = raw.to(device, non_blocking=True).float().div_(255.0)
        return self.normalization.apply(x01)

    def batches(
        self,
        split: str,
        batch_size: int,
        device: str | torch.device = "cpu",
        *,
        shuffle: bool = False,
        seed: int = 0,
        epoch: int = 0,
        start_batch: int = 0,
        drop_last: bool = False,
        shard: Shard | None = None,
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        order = [b.tolist() for b in self.batch_indices(split, batch_size, shuffle=shuffle, seed=seed, epoch=epoch,
                                                        start_batch=start_batch, drop_last=drop_last, shard=shard)]
        if not order:
            return
        for raw, y in self._loader(order, device):
            yield self._finish(raw, device), (y.to(device) if self.labels is not None else None)

    def take(self, idx: torch.Tensor, device: str | torch.device = "cpu") -> torch.Tensor:
        items = _FileItems(self.files, self.labels, self.decode)
        raw = torch.stack([items[int(i)][0] for i in idx]) if len(idx) else torch.empty(0, *self.sample_shape)
        return self._finish(raw, device)

    def images(self, idx: torch.Tensor | None = None, device: str | torch.device = "cpu") -> torch.Tensor:
        """Float32 normalised images ``idx`` (all when ``None``), decoded from the files now."""
        return self.take(torch.arange(len(self)) if idx is None else idx, device)

    def images01(self, idx: torch.Tensor | None = None) -> torch.Tensor:
        """[0, 1] pixels of ``idx`` (all when ``None``), decoded from the files now."""
        return self.pixels01(self.take(torch.arange(len(self)) if idx is None else idx))

    def redecoded(self, size: int | None = None, channels: int | None = None,
                  normalization: Normalization | None = None) -> StreamingImageDataset:
        """The same files at another size / channel count / normalisation (nothing is decoded now)."""
        decode = dict(self.decode)
        if size:
            decode["size"] = int(size)
        if channels:
            decode["channels"] = int(channels)
        return replace(
            self,
            x=placeholder(decode["channels"], decode["size"]),
            decode=decode,
            normalization=normalization or self.normalization,
            _device_copies={},
        )

    def to_state(self) -> dict[str, Any]:
        state = super().to_state()
        state["files"] = list(self.files)
        state["decode"] = plain(self.decode)
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> StreamingImageDataset:
        base = ImageDataset.from_state(state)
        return cls(
            x=base.x, labels=base.labels, classes=base.classes, name=base.name, splits=base.splits,
            report=base.report, normalization=base.normalization, augment=base.augment,
            files=list(state.get("files", [])), decode=dict(state.get("decode", {})),
        )
