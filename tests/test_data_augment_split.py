"""Augmentation (per sample, training only), splits and k-fold, previews and batching paths."""

from __future__ import annotations

import pytest
import torch

from engine import Engine, Workflow
from engine.data.augment import augment_batch
from engine.data.datasets import MINUS_ONE_TO_ONE, ImageDataset
from engine.data.splits import kfold_splits, stratified_split
from engine.store import read_run
from engine.workflow import Endpoint, Link, Node


def arrows(n: int = 64) -> torch.Tensor:
    """Asymmetric images (a bright left column), so any flip or move is visible."""
    x = torch.zeros(n, 3, 16, 16)
    x[:, :, :, :3] = 1.0
    return x


def test_each_image_in_a_batch_gets_its_own_random_flip():
    x = arrows()
    out = augment_batch(x, ({"op": "hflip", "p": 0.5},), torch.Generator().manual_seed(0))
    flipped = (out[:, 0, 0, -1] == 1.0)
    assert 0 < int(flipped.sum()) < len(x)  # some flipped, some not: not one draw for the whole batch
    assert torch.equal(out[flipped], x[flipped].flip(-1))
    assert torch.equal(out[~flipped], x[~flipped])
    assert torch.equal(x, arrows())  # the input batch is never modified


def test_rotation_and_translation_differ_per_image_and_are_reproducible():
    x = arrows()
    specs = ({"op": "rotate", "degrees": 30.0}, {"op": "translate", "fraction": 0.2})
    a = augment_batch(x, specs, torch.Generator().manual_seed(1))
    b = augment_batch(x, specs, torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    distinct = {tuple(img.flatten().round(decimals=3).tolist()) for img in a}
    assert len(distinct) == len(x)
    assert a.shape == x.shape and a.min() >= 0 and a.max() <= 1


def test_colour_jitter_respects_the_dataset_normalisation():
    x01 = torch.rand(32, 3, 8, 8) * 0.35 + 0.25  # stays below 1 at the largest factor, 1.5
    x = MINUS_ONE_TO_ONE.apply(x01)
    out = augment_batch(x, ({"op": "jitter", "brightness": 0.5},), torch.Generator().manual_seed(0), MINUS_ONE_TO_ONE)
    ratio = MINUS_ONE_TO_ONE.invert(out) / x01  # brightness multiplies [0, 1] pixels
    per_image = ratio.flatten(1)
    assert torch.allclose(per_image.min(1).values, per_image.max(1).values, atol=1e-4)
    assert float(per_image[:, 0].std()) > 0.05  # a different factor per image


def test_unknown_augmentation_is_refused():
    with pytest.raises(ValueError, match="unknown augmentation"):
        augment_batch(torch.zeros(2, 1, 4, 4), ({"op": "melt"},))


def test_the_augment_step_stores_specs_that_survive_the_disk_cache(tmp_path):
    wf = Workflow(
        name="aug",
        nodes=[
            Node("data", "shapes", {"count": 40, "size": 16}),
            Node("augment", "augment", {"hflip": True, "rotate": 15.0, "translate": 0.0, "brightness": 0.2}),
        ],
        links=[Link(Endpoint("data", "data"), Endpoint("augment", "data"))],
    )
    assert Engine(cache_dir=tmp_path / "cache").run(wf, out_dir=tmp_path / "r1").status == "succeeded"
    info = read_run(tmp_path / "r1")
    specs = info["nodes"]["augment"]["report"]["augment"]
    assert [s["op"] for s in specs] == ["hflip", "rotate", "jitter"]
    assert (tmp_path / "r1" / "augment" / "augmented.png").is_file()
    # a new session (empty memory cache) reuses the disk entry...
    again = Engine(cache_dir=tmp_path / "cache").run(wf, out_dir=tmp_path / "r2")
    assert again.node_states == {"data": "cached", "augment": "cached"}
    # ...which holds the specs as plain data, loadable without unpickling
    data = ImageDataset(x=torch.zeros(2, 3, 4, 4), labels=None, classes=[], augment=tuple(specs))
    torch.save(data.to_state(), tmp_path / "state.pt")
    back = ImageDataset.from_state(torch.load(tmp_path / "state.pt", weights_only=True))
    assert back.augment == tuple(specs)


def test_stratified_split_keeps_class_shares_and_the_split_step_sets_them(tmp_path):
    labels = torch.tensor([0] * 50 + [1] * 30 + [2] * 20)
    parts = stratified_split(labels, 100, (0.6, 0.2, 0.2), seed=5)
    assert sorted(torch.cat(list(parts.values())).tolist()) == list(range(100))
    assert torch.bincount(labels[parts["test"]]).tolist() == [10, 6, 4]
    assert torch.equal(parts["train"], stratified_split(labels, 100, (0.6, 0.2, 0.2), seed=5)["train"])

    wf = Workflow(
        name="split",
        nodes=[Node("data", "shapes", {"count": 100, "size": 8}),
               Node("split", "split", {"train": 0.5, "val": 0.25, "test": 0.25, "seed": 2})],
        links=[Link(Endpoint("data", "data"), Endpoint("split", "data"))],
    )
    assert Engine().run(wf, out_dir=tmp_path / "r").status == "succeeded"
    report = read_run(tmp_path / "r")["nodes"]["split"]["report"]
    assert report["splits"] == {"train": 52, "val": 24, "test": 24}
    assert report["counts_per_split"]["test"] == {"circle": 6, "square": 6, "triangle": 6, "star": 6}


def test_kfold_puts_every_sample_in_exactly_one_validation_fold():
    labels = torch.tensor([0] * 10 + [1] * 7 + [2] * 5)
    pool = torch.arange(2, 22)  # e.g. train+val, leaving samples 0 and 1 as test
    folds = kfold_splits(labels, 4, seed=0, indices=pool)
    vals = torch.cat([v for _, v in folds]).sort().values
    assert torch.equal(vals, pool)
    for train, val in folds:
        assert not set(train.tolist()) & set(val.tolist())
        assert set(train.tolist()) | set(val.tolist()) == set(pool.tolist())
        assert len(torch.unique(labels[val])) == 3  # stratified: every class in every fold
    assert [len(v) for _, v in folds] == [5, 5, 5, 5]
    with pytest.raises(ValueError, match="at least 2"):
        kfold_splits(labels, 1)


def test_a_streamed_folder_yields_the_same_batches_as_the_in_memory_one(tmp_path):
    from engine.data.folder import FolderOptions, load_image_folder, output_channels, scan_classes, scan_image_folder
    from engine.data.streaming import StreamingImageDataset, placeholder
    from engine.data.transforms import normalize_images
    from tests.test_data_helpers import good_images

    good_images(tmp_path / "imgs", per_class=6)
    opts = FolderOptions(size=8)
    memory, _, _ = load_image_folder(tmp_path / "imgs", opts)
    scan = scan_image_folder(tmp_path / "imgs", opts, keep_pixels=False)
    classes, labels = scan_classes(scan)
    stream = StreamingImageDataset(
        x=placeholder(output_channels(opts, scan), 8), labels=labels, classes=classes,
        files=[str(f) for f in scan.files], decode={"size": 8, "fit": "resize", "channels": 3}, workers=0,
    )
    assert not scan.pixels and len(stream) == len(memory) == 18
    memory, stream = (normalize_images(d, value_range="mean/std") for d in (memory, stream))
    assert stream.normalization.mean == pytest.approx(memory.normalization.mean, abs=1e-4)
    for (xm, ym), (xs, ys) in zip(memory.batches("train", 5, shuffle=True, seed=3, epoch=2, start_batch=1),
                                  stream.batches("train", 5, shuffle=True, seed=3, epoch=2, start_batch=1),
                                  strict=True):
        assert torch.equal(ym, ys)
        assert torch.allclose(xm, xs, atol=1e-3)
    back = StreamingImageDataset.from_state(torch.load(_saved(stream, tmp_path), weights_only=True))
    assert back.files == stream.files and back.sample_shape == (3, 8, 8)


def _saved(data, tmp_path):
    path = tmp_path / "stream.pt"
    torch.save(data.to_state(), path)
    return path
