"""Benchmark: in-memory batches vs a DataLoader that decodes every image per item.

Usage: python bench/data_pipeline.py [--count 5000] [--batch 128] [--workers 2] [--epochs 2] [--rounds 4]

Draws the built-in ``shapes`` set at 32 px, writes it as PNG files, and then,
side by side in one process, times full passes over the training split:

* in-memory: the dataset as Loom holds it (decoded once, normalised), batched
  by index permutation with ``ImageDataset.batches`` (the default fast path);
* per-item DataLoader: the classic ``ImageFolder``-style pipeline — a Dataset
  that opens and decodes one PNG per item with PIL, converts and normalises it,
  collated by a ``torch.utils.data.DataLoader`` with worker processes;
* Loom's streaming path (``StreamingImageDataset``), which is what folders over
  the memory limit use.

Rounds alternate A B, B A (bench/abba.py): in-memory against per-item, then
streaming against per-item.  Every round's images/s and ratio are printed with
the load average, then the median and spread of the ratios (in-memory :
per-item target >= 5x).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from abba import abba, ratios, summary  # noqa: E402

from engine.data.datasets import MINUS_ONE_TO_ONE, ImageDataset  # noqa: E402
from engine.data.shapes import make_shapes  # noqa: E402
from engine.data.streaming import StreamingImageDataset, placeholder  # noqa: E402
from engine.data.transforms import normalize_images  # noqa: E402


class DecodePerItem(Dataset):
    """What a hand-written training script typically does: decode each file when asked."""

    def __init__(self, files: list[Path], labels: list[int]) -> None:
        self.files, self.labels = files, labels

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        with Image.open(self.files[i]) as img:
            arr = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
        x = torch.from_numpy(arr).permute(2, 0, 1)
        return (x - 0.5) / 0.5, self.labels[i]


def write_pngs(data: ImageDataset, folder: Path) -> list[Path]:
    pixels = (data.images01() * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    files = []
    for i, arr in enumerate(pixels):
        path = folder / f"{i:06d}.png"
        Image.fromarray(arr).save(path)
        files.append(path)
    return files


def rate(make_batches, epochs: int) -> float:
    """Images per second over ``epochs`` full passes (after one warm-up batch)."""
    next(iter(make_batches(0)))
    seen, t0 = 0, time.perf_counter()
    for epoch in range(1, epochs + 1):
        for xb, _ in make_batches(epoch):
            seen += xb.shape[0]
    return seen / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=4, help="rounds per pair (A B, then B A, ...)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    shapes = make_shapes(count=args.count, size=32, seed=0)
    gen_s = time.perf_counter() - t0
    print(f"shapes: drew {args.count} images at 32 px in {gen_s:.2f} s ({args.count / gen_s:,.0f} images/s)")
    memory = normalize_images(shapes, value_range="-1..1")
    train_idx = memory.split("train")

    with tempfile.TemporaryDirectory() as tmp:
        files = write_pngs(shapes, Path(tmp))
        labels = shapes.labels.tolist()
        train_files = [files[i] for i in train_idx.tolist()]
        train_labels = [labels[i] for i in train_idx.tolist()]

        def in_memory(epoch: int):
            return memory.batches("train", args.batch, "cpu", shuffle=True, seed=0, epoch=epoch)

        def per_item(epoch: int):
            torch.manual_seed(epoch)
            return DataLoader(DecodePerItem(train_files, train_labels), batch_size=args.batch, shuffle=True,
                              num_workers=args.workers)

        stream = StreamingImageDataset(
            x=placeholder(3, 32), labels=shapes.labels, classes=shapes.classes, splits=memory.splits,
            normalization=MINUS_ONE_TO_ONE, files=[str(f) for f in files],
            decode={"size": 32, "fit": "resize", "channels": 3}, workers=args.workers,
        )

        def streamed(epoch: int):
            return stream.batches("train", args.batch, "cpu", shuffle=True, seed=0, epoch=epoch)

        print(f"{len(train_idx)} training images, batch {args.batch}, {args.epochs} epochs a pass, "
              f"{torch.get_num_threads()} torch threads; rates in images/s")
        print(f"A = in-memory (Loom default), B = per-item decode DataLoader ({args.workers} workers)")
        memory_pairs = abba(lambda: rate(in_memory, args.epochs), lambda: rate(per_item, args.epochs), args.rounds)
        print(f"A = Loom streaming ({args.workers} workers), B = per-item decode DataLoader ({args.workers} workers)")
        stream_pairs = abba(lambda: rate(streamed, args.epochs), lambda: rate(per_item, args.epochs), args.rounds)
    print(summary("in-memory : per-item decoding", ratios(memory_pairs), 5.0))
    print(summary("streaming : per-item decoding", ratios(stream_pairs)))


if __name__ == "__main__":
    main()
