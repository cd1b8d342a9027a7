"""In-memory images cost a byte per pixel and read exactly as before (issue 16, item 2).

Image folders (and MNIST/CIFAR) keep their pixels as uint8; the normalisation
is applied per batch where the batch lies.  Every reader (batches, take,
images) gets float32 normalised tensors, bit for bit the floats the old
float32 copy held: ``u.float().div_(255)`` then ``(x - mean) / std``.  Pixels
that are not 8-bit values (drawn shapes, the 16-level digits, a resize, a grey
mix) stay float32, as they were.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.data.datasets import MINUS_ONE_TO_ONE, ImageDataset, Normalization, dataset_from_state
from engine.data.folder import FolderOptions, load_image_folder
from engine.data.transforms import normalize_images
from tests.test_data_helpers import good_images


def _old_float_copy(data: ImageDataset) -> ImageDataset:
    """The dataset as it used to be stored: float32 [0, 1] pixels (what load_image_folder built before)."""
    assert data.x.dtype == torch.uint8
    return data.with_x(data.x.float().div_(255.0))


@pytest.fixture
def folder_data(tmp_path: Path) -> ImageDataset:
    good_images(tmp_path / "pets", per_class=12, size=(16, 16))
    data, _, _ = load_image_folder(tmp_path / "pets", FolderOptions(size=16))
    return data


def test_an_image_folder_is_held_as_uint8_and_read_as_the_old_floats(folder_data: ImageDataset) -> None:
    assert folder_data.x.dtype == torch.uint8 and folder_data.eight_bit
    assert folder_data.x.shape == (36, 3, 16, 16) and folder_data.x.is_contiguous()
    old = _old_float_copy(folder_data)
    assert torch.equal(folder_data.images(), old.x)
    idx = torch.tensor([5, 0, 33])
    assert folder_data.take(idx).dtype == torch.float32
    assert torch.equal(folder_data.take(idx), old.take(idx))
    assert torch.equal(folder_data.images01(idx), old.x[idx])


@pytest.mark.parametrize("value_range", ["-1..1", "0..1", "mean/std"])
def test_normalising_keeps_uint8_and_gives_the_same_batches_bit_for_bit(folder_data, value_range) -> None:
    new = normalize_images(folder_data, value_range=value_range)
    old = normalize_images(_old_float_copy(folder_data), value_range=value_range)
    assert new.x.dtype == torch.uint8 and new.x.data_ptr() == folder_data.x.data_ptr()  # shared, not copied
    assert old.x.dtype == torch.float32
    assert new.normalization == old.normalization
    kw = {"shuffle": True, "seed": 3, "epoch": 1}
    got = list(new.batches("train", 5, **kw))
    want = list(old.batches("train", 5, **kw))
    assert len(got) == len(want) > 2
    for (xa, ya), (xb, yb) in zip(got, want, strict=True):
        assert xa.dtype == torch.float32 and torch.equal(xa, xb) and torch.equal(ya, yb)


def test_a_resumed_epoch_sees_exactly_the_batches_it_would_have(folder_data: ImageDataset) -> None:
    data = normalize_images(folder_data, value_range="-1..1")
    full = list(data.batches("all", 4, shuffle=True, seed=7, epoch=2))
    tail = list(data.batches("all", 4, shuffle=True, seed=7, epoch=2, start_batch=3))
    assert len(tail) == len(full) - 3
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(tail, full[3:], strict=True))


def test_grey_to_rgb_stays_uint8_but_resizing_or_mixing_to_grey_becomes_float(folder_data: ImageDataset) -> None:
    grey = folder_data.with_x(folder_data.x[:, :1].contiguous())
    rgb = normalize_images(grey, channels="3")
    assert rgb.x.dtype == torch.uint8 and rgb.channels == 3
    assert torch.equal(rgb.images(), normalize_images(_old_float_copy(grey), channels="3").x)
    for changed in (normalize_images(folder_data, size=8), normalize_images(folder_data, channels="1")):
        assert changed.x.dtype == torch.float32  # not 8-bit values any more: stored normalised, as before
    want = normalize_images(_old_float_copy(folder_data), size=8)
    assert torch.equal(normalize_images(folder_data, size=8).x, want.x)


def test_non_eight_bit_sources_stay_float(tmp_path: Path) -> None:
    from engine.data.builtin import load_digits
    from engine.data.shapes import make_shapes

    assert load_digits(8).x.dtype == torch.float32  # 16 grey levels, not multiples of 1/255
    assert make_shapes(8, 16).x.dtype == torch.float32  # anti-aliased edges
    data = normalize_images(load_digits(8))
    assert torch.equal(data.images(), data.x)  # float storage is read as stored


def test_the_disk_cache_keeps_uint8(folder_data: ImageDataset, tmp_path: Path) -> None:
    data = normalize_images(folder_data, value_range="mean/std")
    torch.save(data.to_state(), tmp_path / "state.pt")
    back = dataset_from_state(torch.load(tmp_path / "state.pt", weights_only=True))
    assert isinstance(back, ImageDataset) and back.x.dtype == torch.uint8
    assert back.normalization == data.normalization
    assert torch.equal(back.images(), data.images())


def test_skipped_files_and_grey_folders_leave_a_compact_block(tmp_path: Path) -> None:
    root = tmp_path / "grey"
    for k, name in enumerate(("dark", "light")):
        (root / name).mkdir(parents=True)
        for i in range(5):
            Image.fromarray(np.full((10, 10), 40 * k + i, dtype=np.uint8)).save(root / name / f"{i}.png")
    (root / "dark" / "broken.png").write_bytes(b"not a picture")
    (root / "light" / "copy.png").write_bytes((root / "light" / "0.png").read_bytes())
    data, report, _ = load_image_folder(root, FolderOptions(size=10))
    assert data.x.dtype == torch.uint8 and data.x.shape == (10, 1, 10, 10) and data.x.is_contiguous()
    assert len(report.skipped) == 1 and len(report.duplicates) == 1
    assert sorted(int(v) for v in data.x[:, 0, 0, 0]) == [0, 1, 2, 3, 4, 40, 41, 42, 43, 44]


def test_the_augment_preview_and_the_thumbnails_read_uint8_data(folder_data: ImageDataset) -> None:
    from engine.data.preview import thumbnail_grid

    data = normalize_images(folder_data, value_range="-1..1")
    out = data.with_x(data.x, augment=({"op": "hflip", "p": 1.0},))
    flipped = out.augmented(data.take(torch.arange(3)), torch.Generator().manual_seed(0))
    assert torch.equal(flipped, data.take(torch.arange(3)).flip(-1))
    grid = thumbnail_grid(data)
    old = thumbnail_grid(normalize_images(_old_float_copy(folder_data), value_range="-1..1"))
    assert np.array_equal(grid, old)


def test_normalisation_is_applied_on_the_batch_not_the_store() -> None:
    x = torch.tensor([[[[0, 51], [255, 102]]]], dtype=torch.uint8)
    data = ImageDataset(x=x, labels=None, classes=[], normalization=Normalization((0.2,), (0.4,)))
    (xb, _), = data.batches("all", 1)
    assert xb.dtype == torch.float32 and data.x.dtype == torch.uint8
    assert torch.allclose(xb, (x.float() / 255 - 0.2) / 0.4)
    assert torch.allclose(data.pixels01(xb), x.float() / 255, atol=1e-6)
    assert MINUS_ONE_TO_ONE.apply(torch.tensor([[[[1.0]]]])).item() == 1.0


def test_a_streamed_folder_reads_the_same_images_through_the_same_accessors(tmp_path: Path) -> None:
    from engine.data.folder import scan_image_folder
    from engine.data.streaming import StreamingImageDataset, placeholder

    good_images(tmp_path / "pets", per_class=3, size=(16, 16))
    opts = FolderOptions(size=16)
    memory, _, _ = load_image_folder(tmp_path / "pets", opts)
    scan = scan_image_folder(tmp_path / "pets", opts, keep_pixels=False)
    stream = StreamingImageDataset(x=placeholder(3, 16), labels=memory.labels, classes=memory.classes,
                                   files=[str(f) for f in scan.files], workers=0,
                                   decode={"size": 16, "fit": "resize", "channels": 3})
    assert torch.equal(stream.images(), memory.images())
    assert torch.equal(stream.images01(torch.tensor([2, 4])), memory.images01(torch.tensor([2, 4])))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_cuda_the_uint8_pixels_live_on_the_gpu_and_batches_are_made_there(folder_data: ImageDataset) -> None:
    data = normalize_images(folder_data, value_range="-1..1")
    on_gpu, _ = data.on_device("cuda")
    assert on_gpu.dtype == torch.uint8 and on_gpu.is_cuda  # a quarter of the GPU memory, copied once
    for (xg, yg), (xc, yc) in zip(data.batches("train", 5, "cuda", shuffle=True, seed=1),
                                  data.batches("train", 5, shuffle=True, seed=1), strict=True):
        assert xg.is_cuda and yg.is_cuda and xg.dtype == torch.float32
        assert torch.equal(xg.cpu(), xc) and torch.equal(yg.cpu(), yc)
