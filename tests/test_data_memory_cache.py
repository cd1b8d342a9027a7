"""A warm run holds the samples once: disk cache entries that hand on the same tensor refer to it (issue 16).

Split, augment and a new normalisation of uint8 images pass their input's
sample tensor on unchanged; the disk cache saves the first entry holding it
and lets the others name that entry, and loading them shares one tensor.
"""

from __future__ import annotations

from pathlib import Path

import torch

from engine.cache import NodeCache
from engine.data.folder import FolderOptions, load_image_folder
from engine.data.splits import stratified_split
from engine.data.transforms import normalize_images
from tests.test_data_helpers import good_images


def _chain(tmp_path: Path):
    good_images(tmp_path / "pets", per_class=8, size=(16, 16))
    data, _, _ = load_image_folder(tmp_path / "pets", FolderOptions(size=16))
    normed = normalize_images(data, value_range="-1..1")
    split = normed.with_x(normed.x, splits=stratified_split(normed.labels, len(normed), (0.5, 0.25, 0.25), 3))
    return data, normed, split


def test_entries_sharing_samples_are_saved_once_and_loaded_as_one_tensor(tmp_path: Path) -> None:
    data, normed, split = _chain(tmp_path)
    disk = tmp_path / "cache"
    writer = NodeCache(disk)
    for key, value in (("k_data", data), ("k_norm", normed), ("k_split", split)):
        writer.put(key, {"data": value}, to_disk=True)
    sizes = {p.stem: p.stat().st_size for p in disk.glob("*.pt")}
    assert sizes["k_norm"] < data.x.numel() / 4 and sizes["k_split"] < data.x.numel() / 4  # references, not copies

    reader = NodeCache(disk)  # a fresh process: nothing in memory
    got_split = reader.get("k_split", from_disk=True)["data"]
    got_norm = reader.get("k_norm", from_disk=True)["data"]
    got_data = reader.get("k_data", from_disk=True)["data"]
    assert got_split.x is got_norm.x is got_data.x
    assert torch.equal(got_split.x, data.x) and got_split.normalization == normed.normalization
    assert torch.equal(got_split.split("train"), split.split("train"))
    assert torch.equal(got_split.images(), split.images())


def test_a_reference_whose_holder_is_gone_is_recomputed_not_wrong(tmp_path: Path) -> None:
    data, normed, _ = _chain(tmp_path)
    disk = tmp_path / "cache"
    writer = NodeCache(disk)
    writer.put("k_data", {"data": data}, to_disk=True)
    writer.put("k_norm", {"data": normed}, to_disk=True)
    (disk / "k_data.pt").unlink()
    assert NodeCache(disk).get("k_norm", from_disk=True) is None


def test_new_samples_are_saved_whole(tmp_path: Path) -> None:
    data, _, _ = _chain(tmp_path)
    resized = normalize_images(data, size=8)  # resampled: new float samples
    disk = tmp_path / "cache"
    writer = NodeCache(disk)
    writer.put("k_data", {"data": data}, to_disk=True)
    writer.put("k_small", {"data": resized}, to_disk=True)
    back = NodeCache(disk).get("k_small", from_disk=True)["data"]
    assert back.x.dtype == torch.float32 and torch.equal(back.x, resized.x)
