"""Each rank's share of an epoch (engine.distributed.sharding): every sample once, the same batch count
on every rank, deterministic per (seed, epoch), exact when resumed mid-epoch."""

from __future__ import annotations

import pytest
import torch

from engine.data.datasets import TensorDataset
from engine.distributed.sharding import Shard, batches_for_samples, num_batches


def dataset(n: int) -> TensorDataset:
    return TensorDataset(x=torch.arange(n, dtype=torch.float32)[:, None], labels=torch.zeros(n, dtype=torch.long),
                         classes=["a"], splits={"train": torch.arange(n), "val": torch.arange(0), "test": torch.arange(0)})


def epoch_of(data: TensorDataset, world: int, batch_size: int, seed: int = 0, epoch: int = 1, start: int = 0,
             drop_last: bool = False) -> list[list[torch.Tensor]]:
    """Per rank, its batches of one epoch."""
    return [list(data.batch_indices("train", batch_size, shuffle=True, seed=seed, epoch=epoch, start_batch=start,
                                    drop_last=drop_last, shard=Shard(rank, world)))
            for rank in range(world)]


@pytest.mark.parametrize(("n", "world", "batch_size"), [(100, 2, 8), (99, 2, 8), (97, 3, 5), (64, 4, 16), (10, 3, 4)])
def test_every_sample_is_seen_exactly_once_per_epoch_across_the_ranks(n, world, batch_size):
    data = dataset(n)
    per_rank = epoch_of(data, world, batch_size)
    seen = torch.cat([b for batches in per_rank for b in batches])
    assert sorted(seen.tolist()) == list(range(n))
    counts = {len(batches) for batches in per_rank}
    assert counts == {data.num_batches("train", batch_size, shard=Shard(0, world))}, "every rank steps together"
    assert all(len(b) <= batch_size for batches in per_rank for b in batches)


def test_a_last_global_batch_smaller_than_the_world_is_topped_up_so_no_rank_gets_an_empty_batch():
    data = dataset(9)  # 8 in the first global batch of 2 x 4, then 1 left for 2 ranks
    per_rank = epoch_of(data, world=2, batch_size=4)
    assert [len(b) for b in per_rank[0]] == [4, 1] and [len(b) for b in per_rank[1]] == [4, 1]
    seen = torch.cat([b for batches in per_rank for b in batches]).tolist()
    assert set(seen) == set(range(9)) and len(seen) == 10, "one sample repeated, none missed"


def test_the_shards_depend_only_on_seed_and_epoch():
    data = dataset(50)
    again = epoch_of(data, 2, 4, seed=3, epoch=2)
    assert all(torch.equal(a, b) for ra, rb in zip(epoch_of(data, 2, 4, seed=3, epoch=2), again, strict=True)
               for a, b in zip(ra, rb, strict=True))
    other_epoch = epoch_of(data, 2, 4, seed=3, epoch=3)
    assert not torch.equal(torch.cat(again[0]), torch.cat(other_epoch[0]))


def test_the_ranks_together_take_the_single_process_permutation_in_global_batches():
    data = dataset(40)
    single = torch.cat(list(data.batch_indices("train", 8, shuffle=True, seed=1, epoch=1)))
    per_rank = epoch_of(data, 2, 4, seed=1, epoch=1)
    for b, (r0, r1) in enumerate(zip(*per_rank, strict=True)):
        global_batch = single[b * 8:(b + 1) * 8]
        assert torch.equal(r0, global_batch[0::2]) and torch.equal(r1, global_batch[1::2])


def test_resuming_mid_epoch_continues_with_exactly_the_batches_left():
    data = dataset(70)
    whole = epoch_of(data, 2, 4, seed=5, epoch=4)
    resumed = epoch_of(data, 2, 4, seed=5, epoch=4, start=3)
    for rank in range(2):
        assert [t.tolist() for t in resumed[rank]] == [t.tolist() for t in whole[rank][3:]]


def test_drop_last_drops_the_short_global_batch_on_every_rank():
    assert num_batches(100, 8, world=2, drop_last=True) == 6
    per_rank = epoch_of(dataset(100), 2, 8, drop_last=True)
    assert [len(b) for b in per_rank[0]] == [8] * 6 == [len(b) for b in per_rank[1]]


def test_a_position_saved_with_one_world_size_maps_to_the_batch_covering_the_same_samples():
    # 6 batches of 4 on 2 ranks = 48 samples done; with 3 ranks (12 a step) that is batch 4
    assert batches_for_samples(6 * 4 * 2, 4, 3) == 4
    assert batches_for_samples(10, 4, 1) == 3  # rounded up: never trains a sample of the epoch twice
    assert batches_for_samples(0, 4, 2) == 0


def test_a_single_process_shard_changes_nothing():
    data = dataset(30)
    plain = [t.tolist() for t in data.batch_indices("train", 7, shuffle=True, seed=2, epoch=1)]
    shard = [t.tolist() for t in data.batch_indices("train", 7, shuffle=True, seed=2, epoch=1, shard=Shard(0, 1))]
    assert plain == shard and data.num_batches("train", 7, shard=Shard(0, 1)) == data.num_batches("train", 7)


def test_an_impossible_rank_is_refused():
    with pytest.raises(ValueError, match="rank 2 of a world of 2"):
        Shard(2, 2)


def test_a_streamed_dataset_decodes_only_this_ranks_share(monkeypatch):
    from engine.data.streaming import StreamingImageDataset, placeholder

    n = 20
    data = StreamingImageDataset(x=placeholder(1, 4), labels=torch.zeros(n, dtype=torch.long), classes=["a"],
                                 splits={"train": torch.arange(n)}, files=[f"img{i}.png" for i in range(n)],
                                 decode={"size": 4, "fit": "stretch", "channels": 1})
    asked: dict[int, list[list[int]]] = {}

    def loader(self, batch_lists, device):  # noqa: ANN001 - stands in for the DataLoader that decodes files
        asked[len(asked)] = batch_lists
        return [(torch.zeros(len(b), 1, 4, 4, dtype=torch.uint8), torch.zeros(len(b), dtype=torch.long))
                for b in batch_lists]

    monkeypatch.setattr(StreamingImageDataset, "_loader", loader)
    for rank in range(2):
        list(data.batches("train", 4, shuffle=True, seed=1, epoch=1, shard=Shard(rank, 2)))
    decoded = [i for lists in asked.values() for batch in lists for i in batch]
    assert sorted(decoded) == list(range(n)), "each file is decoded by one rank only"
    in_memory = dataset(n)
    assert asked[0] == [b.tolist() for b in in_memory.batch_indices("train", 4, shuffle=True, seed=1, epoch=1,
                                                                   shard=Shard(0, 2))], "the same shards as in memory"
