"""Images: N x C x H x W tensors, normalised per channel; predicted from image files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from engine.data.datasets import ImageDataset
from engine.data.kinds import DataKind, PredictInputs, base_facts, register_kind
from engine.errors import UserInputError
from engine.ports import IMAGE_DATASET


def input_spec(data: ImageDataset) -> dict[str, Any]:
    spec: dict[str, Any] = {"normalization": data.normalization.to_json()}
    decode = dict(getattr(data, "decode", {}) or {})
    if decode:
        spec["decode"] = decode
    return spec


def card_fields(facts: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    channels, height, width = facts["input_shape"]
    norm = spec.get("normalization") or {"mean": [0.0], "std": [1.0]}
    return {
        "input": {
            "channels": channels,
            "height": height,
            "width": width,
            "color": "grayscale" if channels == 1 else "RGB",
            "fit": spec.get("decode", {}).get("fit", "resize"),
            "layout": "N x C x H x W float32",
            "pixels": "divide 8-bit values by 255, then (x - mean) / std per channel",
        },
        "normalization": {"mean": list(norm["mean"]), "std": list(norm["std"])},
    }


def collect_files(inputs: list[str]) -> list[Path]:
    """Image files named or found (recursively) in the folders named."""
    from engine.data.images import IMAGE_SUFFIXES

    files: list[Path] = []
    for item in inputs:
        path = Path(item).expanduser()
        if path.is_dir():
            found = sorted(f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise UserInputError(f"{path}: the folder holds no image files ({', '.join(IMAGE_SUFFIXES)})")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise UserInputError(f"{path}: no such file or folder")
    return files


def normalize(x01: torch.Tensor, normalization: Mapping[str, Any]) -> torch.Tensor:
    """[0, 1] pixels -> the model's input space, per channel (one value serves every channel)."""
    c = x01.shape[1]
    mean = torch.tensor(normalization["mean"], dtype=x01.dtype).view(1, -1, 1, 1).expand(1, c, 1, 1)
    std = torch.tensor(normalization["std"], dtype=x01.dtype).view(1, -1, 1, 1).expand(1, c, 1, 1)
    return (x01 - mean) / std


def read_inputs(args: list[str], card: Mapping[str, Any], options: Mapping[str, Any]) -> PredictInputs:
    """Decode image files as the card says: its size and channels, its fit unless ``options['fit']``."""
    from engine.data.images import decode_file

    spec = card["input"]
    size, channels = int(spec["height"]), int(spec["channels"])
    if int(spec["width"]) != size:
        raise UserInputError("non-square image inputs are not supported for prediction")
    fit = options.get("fit") or spec.get("fit", "resize")
    pixels, names, skipped = [], [], []
    for f in collect_files(args):
        dec = decode_file(f, size, fit, channels, digest=False)
        if dec.ok:
            pixels.append(dec.pixels)
            names.append(str(f))
        else:
            skipped.append(f"{f}: {dec.reason}" + (f" ({dec.detail})" if dec.detail else ""))
    x01 = torch.stack(pixels).float() / 255.0 if pixels else torch.empty(0, channels, size, size)
    norm = card.get("normalization", {"mean": [0.0], "std": [1.0]})
    return PredictInputs(normalize(x01, norm), names, skipped, name_column="file")


def card_problem(card: Mapping[str, Any]) -> str:
    from engine.cardcheck import normalization_problem, whole_in

    spec = card.get("input")
    if not isinstance(spec, dict) or not (whole_in(spec.get("channels"), 1, 4) and whole_in(spec.get("height"), 1, 4096)
                                          and whole_in(spec.get("width"), 1, 4096)):
        return "\"input\" does not give channels (1-4), height and width (whole numbers)"
    if spec.get("fit", "resize") not in ("resize", "crop", "pad"):
        return f"\"input.fit\" is {spec.get('fit')!r}, not resize, crop or pad"
    return normalization_problem(card.get("normalization", {"mean": [0.0], "std": [1.0]}))


def preview(ctx: Any, data: ImageDataset) -> dict[str, Any]:
    from engine.data.preview import save_png, thumbnail_grid

    facts: dict[str, Any] = {"channels": data.channels, "size": list(data.size)}
    if len(data):
        grid = thumbnail_grid(data)
        path = ctx.node_dir / "preview.png"
        save_png(grid, path)
        ctx.image("preview", grid, path=path)
    return facts


IMAGE = register_kind(DataKind(
    name="image", port_type=IMAGE_DATASET, dataset_type=ImageDataset, from_state=ImageDataset.from_state,
    model_facts=base_facts, input_spec=input_spec, card_fields=card_fields, read_inputs=read_inputs,
    preview=preview, card_problem=card_problem, noun="images",
))
