"""What fell in each cell of the confusion matrix, kept small enough for 10,000 held-out samples.

The evaluate step writes, in its node folder:

* ``predictions.csv`` — every scored sample: its index in the dataset, true
  and predicted class, the confidence (and nothing bigger);
* ``cells.json`` — per (true, predicted) cell its count and the samples shown
  for it, surest first, at most :data:`PER_CELL` of them (texts shortened);
* ``cells.safetensors`` — those samples' pictures as uint8 thumbnails (at most
  :data:`THUMB_SIDE` px a side, :data:`MAX_IMAGES` in all, mistakes first).

So clicking a cell needs neither the dataset nor the model: the app reads one
small JSON and one tensor file (:func:`read_cell`, off the GUI thread), and the
most confident mistakes come from the same files (:func:`read_mistakes`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import UserInputError
from engine.fileio import atomic_write, atomic_write_json, atomic_write_text, read_json

PREDICTIONS_CSV = "predictions.csv"
CELLS_JSON = "cells.json"
CELLS_IMAGES = "cells.safetensors"
PER_CELL = 32  # samples kept per cell; the cell's count says how many there were
MAX_IMAGES = 1500  # thumbnails in all (mistakes first): a 10-class, 10,000-image test split stays a few MB
THUMB_SIDE = 96  # px; bigger pictures are shrunk to this (the app shows them at least this large)
TEXT_CHARS = 400

if TYPE_CHECKING:  # the app reads cells without importing torch (its window shows before torch loads)
    import numpy as np
    import torch


@dataclass
class CellItem:
    """One held-out sample of a cell: where it is in the dataset, how sure the model was, and what it looks like."""

    sample: int
    true: str
    predicted: str
    confidence: float
    image: np.ndarray | None = None  # H x W x C uint8 (C = 1 grey or 3 colour)
    text: str | None = None

    @property
    def caption(self) -> str:
        return f"{self.true} → {self.predicted}  {self.confidence:.0%}"


@dataclass
class Cell:
    true: str
    predicted: str
    count: int
    items: list[CellItem]


def write_cells(out: Path, classes: list[str], split: str, result: dict[str, Any], samples: torch.Tensor,
                images: Any = None, texts: Any = None) -> list[Path]:
    """Write the three files for one evaluation; returns their paths.

    ``result`` holds per-position ``true``, ``pred`` and ``probs`` of the split;
    ``samples`` the dataset index of each position; ``images(idx)`` gives N x C
    x H x W [0, 1] pictures of dataset indices, ``texts(i)`` one sample's text.
    """
    import torch

    true, pred = result["true"].cpu(), result["pred"].cpu()
    conf = result["probs"].cpu().max(1).values if len(true) else torch.empty(0)
    samples = samples.cpu()
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["sample", "true", "predicted", "confidence"])
    for i, t, p, c in zip(samples.tolist(), true.tolist(), pred.tolist(), conf.tolist(), strict=True):
        writer.writerow([i, classes[t], classes[p], f"{c:.4f}"])
    atomic_write_text(out / PREDICTIONS_CSV, buf.getvalue())
    cells: dict[str, dict[str, Any]] = {}
    picks: list[tuple[str, int]] = []  # (cell key, position), mistakes first
    n = len(classes)
    cell_of = true * n + pred
    for flat in torch.unique(cell_of).tolist():
        t, p = divmod(int(flat), n)
        positions = torch.nonzero(cell_of == flat).flatten()
        order = positions[conf[positions].argsort(descending=True, stable=True)][:PER_CELL]
        key = f"{t},{p}"
        cells[key] = {"count": len(positions), "shown": []}
        picks.extend((key, int(pos)) for pos in order)
    picks.sort(key=lambda kp: kp[0].split(",")[0] == kp[0].split(",")[1])  # stable: mistakes before hits
    if images is not None:
        picks = picks[:MAX_IMAGES]
    rows = []
    for key, pos in picks:
        entry: dict[str, Any] = {"sample": int(samples[pos]), "confidence": round(float(conf[pos]), 4)}
        if images is not None:
            entry["image"] = len(rows)
            rows.append(int(samples[pos]))
        if texts is not None:
            entry["text"] = _shorten(texts(int(samples[pos])), TEXT_CHARS)
        cells[key]["shown"].append(entry)
    written = [out / PREDICTIONS_CSV]
    if images is not None and rows:
        thumbs = _thumbnails(images(torch.tensor(rows)))
        _save_tensor(out / CELLS_IMAGES, thumbs)
        written.append(out / CELLS_IMAGES)
    atomic_write_json(out / CELLS_JSON, {"classes": list(classes), "split": split, "per_cell": PER_CELL,
                                         "cells": cells})
    written.append(out / CELLS_JSON)
    return written


def read_cell(folder: str | Path, true: str, predicted: str) -> Cell:
    """The samples of one cell of an evaluate node's confusion matrix (surest first)."""
    index, images = _read(Path(folder))
    classes = index["classes"]
    for name in (true, predicted):
        if name not in classes:
            raise UserInputError(f"{folder}: no class named {name!r} in this evaluation")
    entry = index["cells"].get(f"{classes.index(true)},{classes.index(predicted)}", {"count": 0, "shown": []})
    items = [_item(e, true, predicted, images) for e in entry.get("shown", [])]
    return Cell(true, predicted, int(entry.get("count", len(items))), items)


def read_mistakes(folder: str | Path, limit: int = 16) -> list[CellItem]:
    """The ``limit`` wrong predictions the model was surest of, across every cell, surest first."""
    index, images = _read(Path(folder))
    classes = index["classes"]
    items = []
    for key, entry in index["cells"].items():
        t, p = (int(v) for v in key.split(","))
        if t != p:
            items.extend(_item(e, classes[t], classes[p], images) for e in entry.get("shown", []))
    items.sort(key=lambda item: -item.confidence)
    return items[:limit]


def has_cells(folder: str | Path) -> bool:
    return (Path(folder) / CELLS_JSON).is_file()


def _item(entry: dict[str, Any], true: str, predicted: str, images: np.ndarray | None) -> CellItem:
    row = entry.get("image")
    picture = images[row] if images is not None and isinstance(row, int) and 0 <= row < len(images) else None
    return CellItem(int(entry.get("sample", -1)), true, predicted, float(entry.get("confidence", 0.0)),
                    picture, entry.get("text"))


def _read(folder: Path) -> tuple[dict[str, Any], np.ndarray | None]:
    path = folder / CELLS_JSON
    if not path.is_file():
        raise UserInputError(f"{folder}: this evaluation kept no samples per cell (it ran in an older Loom) — "
                             "run the evaluate step again to see them")
    index = read_json(path, "the confusion cells file is damaged; run the evaluate step again")
    if not (isinstance(index.get("classes"), list) and isinstance(index.get("cells"), dict)):
        raise UserInputError(f"{path}: no \"classes\" list and \"cells\" object — run the evaluate step again")
    images = None
    if (folder / CELLS_IMAGES).is_file():
        from safetensors.numpy import load_file

        try:
            images = load_file(str(folder / CELLS_IMAGES))["images"]
        except Exception as exc:  # noqa: BLE001 - a damaged file: the texts and numbers still show
            raise UserInputError(f"{folder / CELLS_IMAGES}: cannot be read ({type(exc).__name__}) — run the "
                                 "evaluate step again") from None
    return index, images


def _thumbnails(x01: torch.Tensor) -> torch.Tensor:
    """N x C x H x W [0, 1] -> N x H x W x C uint8 (C: 1 or 3; grey stays one channel), no side above THUMB_SIDE."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    x = x01.detach().float().cpu().clamp(0, 1)
    side = max(int(x.shape[-2]), int(x.shape[-1]))
    if side > THUMB_SIDE:
        size = (max(1, int(x.shape[-2]) * THUMB_SIDE // side), max(1, int(x.shape[-1]) * THUMB_SIDE // side))
        x = F.interpolate(x, size=size, mode="area")
    return (x[:, :3] * 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous()


def _save_tensor(path: Path, images: torch.Tensor) -> None:
    from safetensors.torch import save

    data = save({"images": images})
    atomic_write(path, lambda f: f.write(data))


def _shorten(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
