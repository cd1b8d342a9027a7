"""MNIST, Fashion-MNIST and CIFAR-10 read from a cache folder (downloaded when possible).

The files are read directly — IDX files for the MNISTs, the *binary* CIFAR-10
release — so no pickle is ever loaded (torchvision's CIFAR-10 class unpickles
the Python release).  The folder layout matches torchvision's, so a cache
filled by torchvision is reused.  Offline, :class:`DatasetMissing` says
exactly which files to fetch and where to put them.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.data.datasets import ImageDataset


class DatasetMissing(FileNotFoundError):
    """The files are not in the cache and could not be downloaded; the text says what to do."""


@dataclass(frozen=True)
class Source:
    name: str
    folder: str  # inside the cache root
    files: tuple[str, ...]
    urls: tuple[str, ...]  # base URLs (MNISTs: one file each) or one archive URL
    classes: tuple[str, ...]


MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
SOURCES = {
    "MNIST": Source(
        "MNIST", "MNIST/raw", MNIST_FILES,
        ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
        tuple(str(i) for i in range(10)),
    ),
    "FashionMNIST": Source(
        "FashionMNIST", "FashionMNIST/raw", MNIST_FILES,
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    ),
    "CIFAR10": Source(
        "CIFAR10", "cifar-10-batches-bin",
        tuple(f"data_batch_{i}.bin" for i in range(1, 6)) + ("test_batch.bin",),
        ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",),
        ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
    ),
}
DATASET_NAMES = tuple(SOURCES)


def default_root() -> Path:
    env = os.environ.get("LOOM_DATA_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "loom" / "datasets"


def _find(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _missing(src: Source, root: Path) -> list[str]:
    return [f for f in src.files if _find(root / src.folder, f) is None]


def _how_to(src: Source, root: Path, missing: list[str], why: str) -> str:
    where = root / src.folder
    if src.name == "CIFAR10":
        what = f"download {src.urls[0]} and unpack it into {root} (it creates {src.folder}/)"
    else:
        what = f"download {', '.join(f + '.gz' for f in missing)} from {src.urls[0]} and put them in {where}"
    return f"{src.name} is not in the cache folder {where} ({why}) — {what}, or set the node's 'root' to a folder that has them"


def _download(src: Source, root: Path) -> None:
    from torchvision.datasets.utils import download_and_extract_archive, download_url

    if src.name == "CIFAR10":
        download_and_extract_archive(src.urls[0], download_root=str(root), extract_root=str(root))
        return
    target = root / src.folder
    for name in _missing(src, root):
        errors = []
        for base in src.urls:
            try:
                download_url(base + name + ".gz", str(target), filename=name + ".gz")
                break
            except Exception as exc:  # try the next mirror
                errors.append(exc)
        else:
            raise errors[-1]


def _read_idx(path: Path) -> np.ndarray:
    """An IDX file (the MNIST format): magic, dims, then raw unsigned bytes."""
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DatasetMissing(f"{path} is not an IDX file of unsigned bytes (damaged download?) — delete it and retry")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise DatasetMissing(f"{path} is truncated (damaged download?) — delete it and retry")
    return body.reshape(dims)


def _read_cifar(path: Path) -> tuple[np.ndarray, np.ndarray]:
    raw = np.frombuffer(path.read_bytes(), dtype=np.uint8)
    if raw.size % 3073:
        raise DatasetMissing(f"{path} is truncated (damaged download?) — delete it and retry")
    rec = raw.reshape(-1, 3073)
    return rec[:, 1:].reshape(-1, 3, 32, 32), rec[:, 0].astype(np.int64)


def load_torchvision(name: str, root: Path | None = None, download: bool = True) -> tuple[ImageDataset, int]:
    """The whole dataset (official train + test), uint8 pixels read as [0, 1]; also returns the number of train images.

    Raises :class:`DatasetMissing` when the files are absent and cannot be downloaded.
    """
    src = SOURCES[name]
    root = Path(root) if root else default_root()
    missing = _missing(src, root)
    if missing and download:
        try:
            root.mkdir(parents=True, exist_ok=True)
            _download(src, root)
        except Exception as exc:
            reason = f"download failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
            raise DatasetMissing(_how_to(src, root, missing, reason)) from None
        missing = _missing(src, root)
    if missing:
        raise DatasetMissing(_how_to(src, root, missing, "downloads are off" if not download else "files missing"))
    folder = root / src.folder
    if name == "CIFAR10":
        parts = [_read_cifar(_find(folder, f)) for f in src.files]  # type: ignore[arg-type]
        x = np.concatenate([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])
        n_train = sum(len(p[1]) for p in parts[:-1])
    else:
        xs = [_read_idx(_find(folder, f)) for f in (MNIST_FILES[0], MNIST_FILES[2])]  # type: ignore[arg-type]
        ys = [_read_idx(_find(folder, f)) for f in (MNIST_FILES[1], MNIST_FILES[3])]  # type: ignore[arg-type]
        x = np.concatenate(xs)[:, None]
        y = np.concatenate(ys).astype(np.int64)
        n_train = len(xs[0])
    tensor = torch.from_numpy(np.ascontiguousarray(x, dtype=np.uint8))  # 8-bit pixels: kept as uint8, read as [0, 1]
    data = ImageDataset(x=tensor, labels=torch.from_numpy(y), classes=list(src.classes), name=name)
    return data, n_train
