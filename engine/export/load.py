"""Loading an export and classifying image files with it, in any process.

Only the export folder is needed: the card says how to rebuild the
architecture and prepare the pixels, the safetensors file holds the weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.errors import UserInputError
from engine.export.card import CARD_NAME, WEIGHTS_NAME, find_export, read_card


@dataclass
class LoadedModel:
    module: nn.Module
    card: dict[str, Any]
    folder: Path

    @property
    def classes(self) -> list[str]:
        return list(self.card["classes"])

    def normalize(self, x01: torch.Tensor) -> torch.Tensor:
        norm = self.card.get("normalization", {"mean": [0.0], "std": [1.0]})
        c = x01.shape[1]
        mean = torch.tensor(norm["mean"], dtype=x01.dtype).view(1, -1, 1, 1).expand(1, c, 1, 1)
        std = torch.tensor(norm["std"], dtype=x01.dtype).view(1, -1, 1, 1).expand(1, c, 1, 1)
        return (x01 - mean) / std


def load_export(path: str | Path) -> LoadedModel:
    """Rebuild the model of a run folder's export (or of an export folder)."""
    from safetensors.torch import load_file

    from engine.models import ModelSpec, build_model, model_facts

    folder = find_export(path)
    card = read_card(folder)  # every field checked, so what follows cannot trip on a damaged card
    weights = folder / card.get("files", {}).get("weights", WEIGHTS_NAME)
    if not weights.is_file():
        raise UserInputError(f"{folder}: the weights file {weights.name} named by the model card is missing")
    try:
        facts = model_facts(card["input_shape"], len(card["classes"]), **card.get("facts", {}))
        module = build_model(ModelSpec(card["architecture"], dict(card.get("params", {}))), facts)
    except Exception as exc:  # noqa: BLE001 - however a damaged card fails to build, it is the card's fault
        raise UserInputError(f"{folder / CARD_NAME}: the model it describes cannot be built "
                             f"({type(exc).__name__}: {str(exc)[:200]}) — export the model again") from None
    try:
        module.load_state_dict(load_file(str(weights)))
    except Exception as exc:
        raise UserInputError(f"{weights}: the weights do not fit the model card ({str(exc)[:200]})") from None
    return LoadedModel(module.eval(), card, folder)


def load_images(files: list[Path], model: LoadedModel, fit: str | None = None
                ) -> tuple[list[torch.Tensor | None], list[str]]:
    """Decode files as the card says (uint8, the model's size and channels); None and a reason for bad files."""
    from engine.data.images import decode_file

    spec = model.card["input"]
    size, channels = int(spec["height"]), int(spec["channels"])
    if int(spec["width"]) != size:
        raise UserInputError(f"{model.folder}: non-square inputs are not supported for prediction")
    pixels: list[torch.Tensor | None] = []
    skipped: list[str] = []
    for f in files:
        dec = decode_file(f, size, fit or spec.get("fit", "resize"), channels, digest=False)
        if dec.ok:
            pixels.append(dec.pixels)
        else:
            skipped.append(f"{f}: {dec.reason}" + (f" ({dec.detail})" if dec.detail else ""))
            pixels.append(None)
    return pixels, skipped


@torch.inference_mode()
def predict_files(model: LoadedModel, files: list[Path], batch_size: int = 256,
                  fit: str | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per readable file: path, predicted class, confidence and every class probability."""
    if model.card.get("input_kind") != "image":
        raise UserInputError(f"{model.folder}: `loom predict` classifies images; this model takes table rows")
    pixels, skipped = load_images(files, model, fit)
    rows: list[dict[str, Any]] = []
    ok = [(f, p) for f, p in zip(files, pixels, strict=True) if p is not None]
    classes = model.classes
    for i in range(0, len(ok), batch_size):
        chunk = ok[i:i + batch_size]
        x01 = torch.stack([p for _, p in chunk]).float() / 255.0
        probs = model.module(model.normalize(x01)).float().softmax(1)
        for (f, _), p in zip(chunk, probs, strict=True):
            k = int(p.argmax())
            row = {"file": str(f), "prediction": classes[k], "confidence": round(float(p[k]), 6)}
            row.update({f"p_{c}": round(float(v), 6) for c, v in zip(classes, p, strict=True)})
            rows.append(row)
    return rows, skipped
