"""Folder decoding: one thread for small pictures, threads for big ones, and the same result either way."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from engine.data.folder import FolderOptions, decode_workers, load_image_folder, scan_image_folder
from engine.data.listing import list_folder


def _draw(root: Path, count: int, size: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for i in range(count):
        cls = root / ("a" if i % 2 else "b")
        cls.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(cls / f"{i:03d}.png")


def test_small_pictures_decode_on_one_thread_and_big_ones_on_several(tmp_path: Path) -> None:
    _draw(tmp_path / "small", 10, 16)
    _draw(tmp_path / "big", 4, 256)  # random pixels do not compress: about 200 KB a file
    assert decode_workers(list_folder(tmp_path / "small", "auto").files) == 1
    assert decode_workers(list_folder(tmp_path / "big", "auto").files) == min(8, os.cpu_count() or 2)
    assert decode_workers([]) == 1


def test_thread_count_changes_nothing_in_what_is_kept(tmp_path: Path) -> None:
    _draw(tmp_path, 40, 16, seed=3)
    (tmp_path / "a" / "copy.png").write_bytes((tmp_path / "a" / "001.png").read_bytes())  # a duplicate
    (tmp_path / "b" / "broken.png").write_bytes(b"\x89PNG not really")
    opts = FolderOptions(size=16, channels="3")
    one = scan_image_folder(tmp_path, opts, into_buffer=True, workers=1)
    three = scan_image_folder(tmp_path, opts, into_buffer=True, workers=3)
    assert one.files == three.files and one.labels == three.labels
    assert len(one.files) == 40
    assert one.report.duplicates == three.report.duplicates and len(one.report.duplicates) == 1
    assert torch.equal(one.buffer[:40], three.buffer[:40])
    first = np.array(Image.open(one.files[0]).convert("RGB"))
    assert torch.equal(one.buffer[0], torch.from_numpy(first).permute(2, 0, 1))


def test_a_folder_of_grey_rgb_pictures_loads_as_one_channel(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    (tmp_path / "x").mkdir()
    for i in range(5):
        grey = rng.integers(0, 256, (8, 8), dtype=np.uint8)
        Image.fromarray(np.stack([grey] * 3, axis=-1)).save(tmp_path / "x" / f"{i}.png")
    data, _, _ = load_image_folder(tmp_path, FolderOptions(size=8, channels="auto"))
    assert data.images().shape == (5, 1, 8, 8)
    Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(tmp_path / "x" / "colour.png")
    data, _, _ = load_image_folder(tmp_path, FolderOptions(size=8, channels="auto"))
    assert data.images().shape == (6, 3, 8, 8)
