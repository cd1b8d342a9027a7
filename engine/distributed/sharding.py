"""Each rank's share of an epoch: the global batches of one permutation, split across ranks.

Every rank computes the same permutation of the split (seeded by seed and epoch, as in a
single-process run), cuts it into *global* batches of ``batch_size x world`` samples and takes its
own stride of each (rank r takes positions r, r + world, ...).  So:

* every rank has the same number of batches per epoch (DDP needs every rank to step together);
* across the ranks every sample is seen exactly once per epoch, except when the last global batch
  holds fewer samples than there are ranks: then it is topped up with the first samples of the
  permutation (at most ``world - 1`` repeats), so that no rank gets an empty batch;
* the order depends only on (seed, epoch), so a run resumed mid-epoch at batch ``b`` continues
  exactly, and resuming with another world size restarts the cut at the same global position
  (``b`` global batches are the same samples whatever the world size, see :func:`samples_done`).

Nothing here communicates; it is plain index arithmetic shared by the in-memory and the streaming
paths (:meth:`engine.data.datasets.TensorDataset.batch_indices`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Shard:
    """This process's place among ``world`` ranks (``rank`` counts from 0)."""

    rank: int = 0
    world: int = 1

    def __post_init__(self) -> None:
        if self.world < 1 or not 0 <= self.rank < self.world:
            raise ValueError(f"rank {self.rank} of a world of {self.world} is impossible")

    @property
    def single(self) -> bool:
        return self.world == 1


def num_batches(n: int, batch_size: int, world: int = 1, drop_last: bool = False) -> int:
    """Batches per rank per epoch for ``n`` samples (the same on every rank)."""
    global_batch = batch_size * world
    if drop_last:
        return n // global_batch
    full, rest = divmod(n, global_batch)
    return full + (1 if rest else 0)


def shard_batches(order: torch.Tensor, batch_size: int, shard: Shard, start_batch: int = 0,
                  drop_last: bool = False) -> Iterator[torch.Tensor]:
    """This rank's batches of the epoch permutation ``order``, from its batch ``start_batch`` on."""
    world = shard.world
    global_batch = batch_size * world
    for b in range(start_batch, num_batches(len(order), batch_size, world, drop_last)):
        chunk = order[b * global_batch:(b + 1) * global_batch]
        if len(chunk) < world:  # too few for one each: top up from the epoch's start (a few repeats)
            chunk = torch.cat([chunk, order[: world - len(chunk)]])
        yield chunk[shard.rank::world]


def samples_done(batches: int, batch_size: int, world: int) -> int:
    """How far into the epoch's permutation ``batches`` per-rank batches reached (for the log)."""
    return batches * batch_size * world


def batches_for_samples(samples: int, batch_size: int, world: int) -> int:
    """The per-rank batch at which ``samples`` of the permutation are done (rounded up: never repeat work)."""
    return math.ceil(samples / (batch_size * world)) if samples > 0 else 0
