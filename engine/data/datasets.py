"""Datasets as they flow between steps.

Both kinds hold their samples as one tensor ``x`` (images: N x C x H x W;
tables: N x F, float32), integer ``labels`` (or ``None`` for unlabelled
images), class names and split indices.  Images whose every pixel is an 8-bit
value (image folders, MNIST/CIFAR) are kept as **uint8** and normalised per
batch on the training device: a quarter of the memory, and the same floats a
float32 copy would have held (see :class:`ImageDataset`).  Training loops
never index ``x`` directly: they call :meth:`TensorDataset.batches`, which
keeps the tensors on the training device once and batches by index
permutation — the fast path for data that fits in memory — and can restart
mid-epoch at an exact batch (needed for exact resume).  Anything else that
needs samples asks :meth:`TensorDataset.take` (or ``ImageDataset.images``),
which return what the model sees: float32, normalised.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from engine.data.splits import Splits
from engine.distributed import sharding
from engine.distributed.sharding import Shard


@dataclass(frozen=True)
class Normalization:
    """Per-channel affine map applied to [0, 1] pixels: ``(x - mean) / std``."""

    mean: tuple[float, ...] = (0.0,)
    std: tuple[float, ...] = (1.0,)

    def _shaped(self, t: tuple[float, ...], like: torch.Tensor) -> torch.Tensor:
        return torch.tensor(t, dtype=like.dtype, device=like.device).view(1, -1, 1, 1)

    def apply(self, x01: torch.Tensor) -> torch.Tensor:
        return (x01 - self._shaped(self.mean, x01)) / self._shaped(self.std, x01)

    def invert(self, x: torch.Tensor) -> torch.Tensor:
        """Back to [0, 1] pixels, for previews and saved images."""
        return (x * self._shaped(self.std, x) + self._shaped(self.mean, x)).clamp(0, 1)

    def to_json(self) -> dict[str, list[float]]:
        return {"mean": list(self.mean), "std": list(self.std)}


IDENTITY = Normalization()
MINUS_ONE_TO_ONE = Normalization((0.5,), (0.5,))


@dataclass
class TensorDataset(Splits):
    """Shared behaviour of image and table datasets."""

    x: torch.Tensor
    labels: torch.Tensor | None
    classes: list[str]
    name: str = "dataset"
    splits: dict[str, torch.Tensor] | None = None
    report: dict[str, Any] = field(default_factory=dict)
    _device_copies: dict[str, tuple[torch.Tensor, torch.Tensor | None]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    def on_device(self, device: str | torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The tensors on ``device``, copied there once and kept."""
        key = str(device)
        if key not in self._device_copies:
            x = self.x.to(device, non_blocking=True)
            y = self.labels.to(device, non_blocking=True) if self.labels is not None else None
            self._device_copies[key] = (x, y)
        return self._device_copies[key]

    def num_batches(self, split: str, batch_size: int, drop_last: bool = False, shard: Shard | None = None) -> int:
        """Batches per epoch; under ``shard`` (a distributed run) this rank's, the same on every rank."""
        n = len(self.split(split))
        if shard is not None and not shard.single:
            return sharding.num_batches(n, batch_size, shard.world, drop_last)
        return n // batch_size if drop_last else math.ceil(n / batch_size)

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
        """Yield ``(x, y)`` batches on ``device`` (under ``shard``: this rank's share, see engine.distributed).

        The order of epoch ``e`` depends only on ``(seed, e)``, so a resumed run
        that asks for ``start_batch=b`` sees exactly the batches it would have.
        """
        x_all, y_all = self.on_device(device)
        order = list(self.batch_indices(split, batch_size, shuffle=shuffle, seed=seed, epoch=epoch,
                                        start_batch=start_batch, drop_last=drop_last, shard=shard))
        # Gather a group of batches with one index_select (several times faster than
        # x_all[sel], and far fewer thread wake-ups than one call per batch), then hand
        # out each batch made model-ready where it lies (uint8 -> normalised float32 on
        # the device; float data as a view).  The group is capped at ~64 MB as stored,
        # and only one batch at a time exists as float32, so memory stays bounded.
        per_sample = max(1, x_all[:1].numel() * x_all.element_size())
        group = max(1, min(64, (64 << 20) // max(1, per_sample * batch_size)))
        for g in range(0, len(order), group):
            sels = order[g:g + group]
            sel = torch.cat(sels).to(x_all.device)
            xs = x_all.index_select(0, sel)
            ys = y_all.index_select(0, sel) if y_all is not None else None
            start = 0
            for part in sels:
                end = start + len(part)
                yield self.ready(xs[start:end]), (ys[start:end] if ys is not None else None)
                start = end

    def batch_indices(
        self,
        split: str,
        batch_size: int,
        *,
        shuffle: bool = False,
        seed: int = 0,
        epoch: int = 0,
        start_batch: int = 0,
        drop_last: bool = False,
        shard: Shard | None = None,
    ) -> Iterator[torch.Tensor]:
        """The sample indices of each batch (CPU), in the order :meth:`batches` yields them.

        Shared by the in-memory and the streaming paths, so both see the same
        batches for the same ``(seed, epoch)``.
        """
        idx = self.split(split)
        if shuffle:
            gen = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(epoch))
            idx = idx[torch.randperm(len(idx), generator=gen)]
        if shard is not None and not shard.single:  # a distributed run: this rank's stride of each global batch
            yield from sharding.shard_batches(idx, batch_size, shard, start_batch, drop_last)
            return
        n_batches = self.num_batches(split, batch_size, drop_last)
        for b in range(start_batch, n_batches):
            yield idx[b * batch_size:(b + 1) * batch_size]

    def ready(self, x: torch.Tensor) -> torch.Tensor:
        """Stored samples (a gather of ``x``) -> what the model sees; tables are stored that way already."""
        return x

    def take(self, idx: torch.Tensor, device: str | torch.device = "cpu") -> torch.Tensor:
        """Samples ``idx`` as the model sees them (float32, normalised) on ``device``; for previews and fixed sets."""
        x_all, _ = self.on_device(device)
        return self.ready(x_all.index_select(0, idx.to(x_all.device)))

    @property
    def augments(self) -> bool:
        """Whether training batches are augmented (see :meth:`augmented`)."""
        return False

    def augmented(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """A training batch with this dataset's augmentations applied (none here)."""
        return x

    def view_with_splits(self, splits: dict[str, torch.Tensor]) -> TensorDataset:
        """The same samples (tensors and device copies shared) with other splits: a k-fold fold."""
        return replace(self, splits=splits, _device_copies=self._device_copies)

    def with_x(self, x: torch.Tensor, **changes: Any) -> TensorDataset:
        """A copy with new samples (same labels and splits); device copies are not shared."""
        return replace(self, x=x, _device_copies={}, **changes)

    # -- disk cache: plain tensors and primitives, loadable with weights_only=True
    def to_state(self) -> dict[str, Any]:
        """Plain tensors and values for the disk cache; ``kind`` says which kind reads it back."""
        from engine.data.kinds import kind_of

        return {"kind": kind_of(self).name, "x": self.x.contiguous(), **labelled_state(self)}

    @classmethod
    def common_from_state(cls, state: dict[str, Any]) -> dict[str, Any]:
        return {"x": state["x"], **labelled_fields(state, "dataset")}


@dataclass
class ImageDataset(TensorDataset):
    """Images as an N x C x H x W tensor, stored one of two ways (the rule):

    * **uint8** raw pixels 0..255 when every pixel is an 8-bit value — decoded
      files, MNIST/CIFAR, and whatever keeps them on that grid (a split, a new
      normalisation, 1 -> 3 channels).  ``normalization`` is applied when the
      samples are read: ``(u / 255 - mean) / std`` in float32, which gives
      bit for bit the floats of the float32 copy that used to be stored
      (``u.float().div_(255)`` then the same affine map).
    * **float32, already normalised** by ``normalization`` when the pixels are
      not 8-bit values: drawn shapes (anti-aliased), the 16-level digits, and
      images a step resized or turned grey.  Re-quantising them would change
      results, so they stay as they were.

    Read samples with :meth:`images` / :meth:`take` / :meth:`batches` (float32,
    normalised, on the device asked), never through ``x``.  ``augment`` lists
    train-time augmentations (plain dicts, applied per batch by the training
    loop on the device, training split only).
    """

    normalization: Normalization = IDENTITY
    augment: tuple[dict[str, Any], ...] = ()

    @property
    def channels(self) -> int:
        return int(self.x.shape[1])

    @property
    def size(self) -> tuple[int, int]:
        return int(self.x.shape[2]), int(self.x.shape[3])

    @property
    def augments(self) -> bool:
        return bool(self.augment)

    @property
    def eight_bit(self) -> bool:
        """Whether the pixels are stored as uint8 (normalised when read; see the class doc)."""
        return self.x.dtype == torch.uint8

    def ready(self, x: torch.Tensor) -> torch.Tensor:
        """uint8 pixels -> float32 normalised, where they lie (the training device); float is stored normalised."""
        if x.dtype != torch.uint8:
            return x
        return self.normalization.apply(x.float().div_(255.0))

    def images(self, idx: torch.Tensor | None = None, device: str | torch.device = "cpu") -> torch.Tensor:
        """Float32 normalised images ``idx`` (all when ``None``) on ``device``: what every consumer reads.

        For float storage and ``idx=None`` this is ``x`` itself (do not modify it in place).
        """
        if idx is None:
            return self.ready(self.on_device(device)[0])
        return self.take(idx, device)

    def pixels01(self, x: torch.Tensor) -> torch.Tensor:
        """Undo normalisation of images read through :meth:`images`: [0, 1] pixels for display."""
        return self.normalization.invert(x)

    def images01(self, idx: torch.Tensor | None = None) -> torch.Tensor:
        """[0, 1] float32 pixels (CPU), exact for uint8 storage (``u / 255``, no normalise-and-invert round trip)."""
        x = self.x if idx is None else self.x.index_select(0, idx)
        return x.float().div_(255.0) if x.dtype == torch.uint8 else self.pixels01(x)

    def augmented(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """A training batch with this dataset's augmentations applied, per sample.

        Returns ``x`` itself when there are none.  Training loops call this on
        training batches only; ``generator`` is a seeded CPU generator.
        """
        if not self.augment:
            return x
        from engine.data.augment import augment_batch

        return augment_batch(x, self.augment, generator, self.normalization)

    def to_state(self) -> dict[str, Any]:
        state = super().to_state()
        state["normalization"] = self.normalization.to_json()
        state["augment"] = [dict(a) for a in self.augment]
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ImageDataset:
        norm = state.get("normalization", {"mean": [0.0], "std": [1.0]})
        return cls(
            **cls.common_from_state(state),
            normalization=Normalization(tuple(norm["mean"]), tuple(norm["std"])),
            augment=tuple(dict(a) for a in state.get("augment", [])),
        )


@dataclass
class TabularDataset(TensorDataset):
    """Rows as an N x F float tensor (already standardised / one-hot encoded)."""

    feature_names: list[str] = field(default_factory=list)
    encoding: dict[str, Any] = field(default_factory=dict)  # how raw columns became features

    def to_state(self) -> dict[str, Any]:
        state = super().to_state()
        state["feature_names"] = list(self.feature_names)
        state["encoding"] = plain(self.encoding)
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TabularDataset:
        return cls(
            **cls.common_from_state(state),
            feature_names=list(state.get("feature_names", [])),
            encoding=dict(state.get("encoding", {})),
        )


def dataset_from_state(state: dict[str, Any]) -> TensorDataset:
    """A dataset back from the disk cache, by the kind its state names."""
    from engine.data.kinds import kind_named

    name = str(state.get("kind", "table"))
    kind = kind_named(name)
    if kind is None:
        raise ValueError(f"no data kind named {name!r} is registered")
    return kind.from_state(state)


def labelled_state(data: Any) -> dict[str, Any]:
    """What every dataset kind keeps in the cache beside its samples: classes, name, report, labels, splits."""
    state: dict[str, Any] = {"classes": list(data.classes), "name": data.name, "report": plain(data.report)}
    if data.labels is not None:
        state["labels"] = data.labels
    if data.splits is not None:
        state["splits"] = dict(data.splits)
    return state


def labelled_fields(state: dict[str, Any], default_name: str) -> dict[str, Any]:
    """The constructor arguments :func:`labelled_state` wrote."""
    return {"labels": state.get("labels"), "classes": list(state["classes"]),
            "name": state.get("name", default_name), "splits": state.get("splits"),
            "report": dict(state.get("report", {}))}


def plain(obj: Any) -> Any:
    """Reduce to JSON-like primitives so ``torch.load(weights_only=True)`` accepts it."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    if isinstance(obj, torch.Tensor):
        return obj.tolist()
    return str(obj)
