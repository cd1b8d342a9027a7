"""Loading an export and classifying new inputs with it, in any process.

Only the export folder is needed: the card says how to rebuild the
architecture and which kind of data it takes (that kind reads new inputs, see
:mod:`engine.data.kinds`); the safetensors file holds the weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.errors import UserInputError
from engine.export.card import CARD_NAME, WEIGHTS_NAME, read_card
from engine.export.trained import trained_model_folder


@dataclass
class LoadedModel:
    module: nn.Module
    card: dict[str, Any]
    folder: Path

    @property
    def classes(self) -> list[str]:
        return list(self.card["classes"])


def load_export(path: str | Path) -> LoadedModel:
    """Rebuild the classifier of a run folder (its export, else its train step's card) or of an export folder."""
    from safetensors.torch import load_file

    from engine.models import ModelSpec, build_model, model_facts

    folder = trained_model_folder(path)
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


@torch.inference_mode()
def predict(model: LoadedModel, args: list[str], batch_size: int = 256,
            options: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per usable input: its name, the predicted class, the confidence and every class probability.

    The model's kind of data reads ``args`` (files, folders, texts...); what
    it could not use comes back as lines for the user.
    """
    from engine.data.kinds import kind_named

    kind = kind_named(str(model.card["input_kind"]))
    if kind is None or kind.read_inputs is None:
        raise UserInputError(f"{model.folder}: `loom predict` cannot read inputs for a "
                             f"{model.card['input_kind']!r} model")
    if (options or {}).get("texts") and kind.noun != "texts":
        raise UserInputError(f"--text gives texts, but this model classifies {kind.noun} — give {kind.noun} files "
                             "or folders instead")
    inputs = kind.read_inputs(list(args), model.card, {**(options or {}), "folder": model.folder})
    rows: list[dict[str, Any]] = []
    classes = model.classes
    for i in range(0, len(inputs.names), batch_size):
        probs = model.module(inputs.x[i:i + batch_size]).float().softmax(1)
        for name, p in zip(inputs.names[i:i + batch_size], probs, strict=True):
            k = int(p.argmax())
            row = {inputs.name_column: name, "prediction": classes[k], "confidence": round(float(p[k]), 6)}
            row.update({f"p_{c}": round(float(v), 6) for c, v in zip(classes, p, strict=True)})
            rows.append(row)
    return rows, inputs.skipped
