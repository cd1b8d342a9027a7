"""The JSON model card: what an exported model is and how to feed it."""

from __future__ import annotations

import datetime as dt
import json
import platform
from pathlib import Path
from typing import Any

from engine.errors import UserInputError
from engine.models import TrainedModel

CARD_NAME = "model_card.json"
WEIGHTS_NAME = "model.safetensors"
TORCHSCRIPT_NAME = "model.torchscript.pt"
ONNX_NAME = "model.onnx"
CARD_FORMAT = "loom-model-card"
CARD_VERSION = 1
_METRIC_KEYS = ("split", "accuracy", "precision_macro", "recall_macro", "f1_macro", "loss", "samples", "per_class",
                "kfold", "robustness_fgsm")


def make_card(trained: TrainedModel, metrics: dict[str, Any] | None, files: dict[str, str]) -> dict[str, Any]:
    import torch

    from engine import __version__
    from engine.data.kinds import kind_named

    kind = kind_named(trained.input_kind)
    if kind is None:
        raise ValueError(f"no data kind named {trained.input_kind!r}")
    facts = {k: v for k, v in trained.facts.items() if k not in ("input_shape", "num_classes")}
    card: dict[str, Any] = {
        "format": CARD_FORMAT,
        "card_version": CARD_VERSION,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": {"loom": __version__, "torch": torch.__version__, "python": platform.python_version()},
        "architecture": trained.spec.arch,
        "params": dict(trained.spec.params),
        "input_kind": trained.input_kind,
        "input_shape": list(trained.sample_shape),
        "classes": list(trained.classes),
        "files": files,
        "training": {k: v for k, v in trained.history.items() if k != "val_mean_std"},
    }
    if facts:
        card["facts"] = facts  # what else the builder needs (a vocabulary size...)
    card.update(kind.card_fields(trained.facts, trained.inputs))
    if metrics:
        card["metrics"] = {k: metrics[k] for k in _METRIC_KEYS if k in metrics}
    return card


def read_card(folder: Path) -> dict[str, Any]:
    path = folder / CARD_NAME
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserInputError(f"{folder}: no {CARD_NAME} there — not a Loom export folder") from None
    except (OSError, ValueError) as exc:
        raise UserInputError(f"{path}: cannot be read ({exc})") from None
    if card.get("format") != CARD_FORMAT:
        raise UserInputError(f"{path}: not a Loom model card (no \"format\": \"{CARD_FORMAT}\")")
    if int(card.get("card_version", 0)) > CARD_VERSION:
        raise UserInputError(f"{path}: written by a newer Loom (card version {card['card_version']}) — update Loom")
    return card


def find_export(path: str | Path) -> Path:
    """The export folder of a run folder (or the export folder itself)."""
    root = Path(path).expanduser()
    if (root / CARD_NAME).is_file():
        return root
    if not root.is_dir():
        raise UserInputError(f"{root}: no such run or export folder")
    info = root / "run.json"
    if info.is_file():
        try:
            artifacts = json.loads(info.read_text(encoding="utf-8")).get("artifacts", [])
        except ValueError:
            artifacts = []
        for art in artifacts:
            if art.get("kind") == "model_card" and (root / art["path"]).is_file():
                return (root / art["path"]).parent
    found = sorted(root.glob(f"*/{CARD_NAME}"))
    if found:
        return found[0].parent
    raise UserInputError(
        f"{root}: this run has no exported model — add an 'Export model' step after training and run it again"
    )
