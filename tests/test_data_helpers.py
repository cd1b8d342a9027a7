"""Builders of small, deliberately messy data folders and tables, shared by the data tests (no tests here)."""

from __future__ import annotations

import csv
import random
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

COLOURS = ((220, 40, 40), (40, 200, 40), (40, 40, 220))


def good_images(root: Path, classes: tuple[str, ...] = ("red", "green", "blue"), per_class: int = 10,
                size: tuple[int, int] = (20, 24)) -> None:
    """Noisy solid-colour pictures, one colour per class folder (easy to learn)."""
    rng = np.random.default_rng(0)
    for k, name in enumerate(classes):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            arr = np.clip(np.array(COLOURS[k % 3]) + rng.integers(-30, 30, (*size, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(arr).save(folder / f"img{i:03d}.png")


def png_claiming(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG whose header claims ``width`` x ``height`` pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def messy_folder(root: Path) -> dict[str, str]:
    """Three good classes plus every kind of bad file; returns {relative file: expected reason}."""
    good_images(root)
    red, green, blue = root / "red", root / "green", root / "blue"
    (red / "empty.png").write_bytes(b"")
    whole = (red / "img000.png").read_bytes()
    (red / "half.png").write_bytes(whole[: len(whole) // 2])
    (green / "readme.txt").write_text("these are green pictures\n")
    Image.new("RGB", (1, 1), (0, 200, 0)).save(green / "pixel.png")
    Image.new("RGBA", (24, 24), (40, 40, 220, 160)).save(blue / "alpha.png")  # good: converted
    (blue / "bomb.png").write_bytes(png_claiming(60000, 60000))
    (blue / "x_copy.png").write_bytes((blue / "img003.png").read_bytes())  # exact duplicate
    return {
        "red/empty.png": "zero-byte file",
        "red/half.png": "truncated or corrupt image",
        "green/readme.txt": "not an image",
        "green/pixel.png": "too small",
        "blue/bomb.png": "too large",
    }


def separable_csv(path: Path, rows: int = 300, seed: int = 0) -> None:
    """A binary-target table with a numeric signal, a text column, an id column and holes."""
    rnd = random.Random(seed)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["age", "income", "colour", "customer_id", "bought"])
        for i in range(rows):
            y = rnd.random() < 0.5
            age = rnd.gauss(30 if y else 50, 4)
            colour = rnd.choice(["red", "green"] if y else ["blue", "green"])
            row = [f"{age:.1f}", f"{rnd.gauss(1000, 300):.0f}", colour, f"c{i:05d}", "yes" if y else "no"]
            if i % 13 == 0:
                row[1] = ""
            if i % 19 == 0:
                row[2] = "NA"
            w.writerow(row)
