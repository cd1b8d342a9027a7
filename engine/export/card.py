"""The JSON model card: what an exported model is and how to feed it."""

from __future__ import annotations

import datetime as dt
import platform
from pathlib import Path
from typing import Any

from engine.cardcheck import sibling_file_problem, whole_in
from engine.errors import UserInputError
from engine.fileio import atomic_write_json, json_type, json_type_name, read_json
from engine.models import TrainedModel

CARD_NAME = "model_card.json"
WEIGHTS_NAME = "model.safetensors"
TORCHSCRIPT_NAME = "model.torchscript.pt"
ONNX_NAME = "model.onnx"
CARD_FORMAT = "loom-model-card"
CARD_VERSION = 1
METRIC_KEYS = ("split", "accuracy", "precision_macro", "recall_macro", "f1_macro", "loss", "samples", "per_class",
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
        card["metrics"] = {k: metrics[k] for k in METRIC_KEYS if k in metrics}
    return card


def write_card(trained: TrainedModel, folder: Path, metrics: dict[str, Any] | None, files: dict[str, str],
               **extra: Any) -> dict[str, Any]:
    """The kind's own files (a text model's tokenizer) and then the card, written into ``folder``.

    The one way a card is written, whether by an Export step or at the end of
    training (:mod:`engine.export.trained`), so both folders load the same way.
    ``extra`` keys with a value ("checks", "not_exported", "source") join the card.
    """
    from engine.data.kinds import kind_named

    kind = kind_named(trained.input_kind)
    if kind is None:
        raise ValueError(f"no data kind named {trained.input_kind!r}")
    files = {**files, **kind.export_files(trained.inputs, folder)}
    card = make_card(trained, metrics, files)
    card.update({key: value for key, value in extra.items() if value})
    atomic_write_json(folder / CARD_NAME, card)
    return card


def read_card(folder: Path) -> dict[str, Any]:
    """The export's model card, checked field by field (UserInputError naming the file otherwise)."""
    path = folder / CARD_NAME
    if not path.exists():
        raise UserInputError(f"{folder}: no {CARD_NAME} there — not a Loom export folder")
    card = read_json(path, "the model card is damaged; export the model again")
    if card.get("format") != CARD_FORMAT:
        raise UserInputError(f"{path}: not a Loom model card (no \"format\": \"{CARD_FORMAT}\")")
    version = card.get("card_version", 0)
    if not whole_in(version, 0, 10**6):
        raise UserInputError(f"{path}: \"card_version\" is {json_type(version)}, not a whole number — the card "
                             "is damaged")
    if version > CARD_VERSION:
        raise UserInputError(f"{path}: written by a newer Loom (card version {version}) — update Loom")
    problem = card_problem(card)
    if problem:
        raise UserInputError(f"{path}: {problem} — the card is damaged; export the model again")
    return card


def card_problem(card: dict[str, Any]) -> str:
    """What makes a parsed model card unusable ('' when sound): types and sane ranges, before any build."""
    for key, kind in (("architecture", str), ("params", dict), ("input_kind", str), ("files", dict)):
        if not isinstance(card.get(key, {} if key in ("params", "files") else None), kind):
            return f"\"{key}\" is {json_type(card.get(key))}, not {json_type_name(kind)}"
    shape = card.get("input_shape")
    if not (isinstance(shape, list) and 1 <= len(shape) <= 3 and all(whole_in(v, 1, 10**6) for v in shape)):
        return f"\"input_shape\" is {json_type(shape)}, not a list of 1 to 3 positive whole numbers"
    classes = card.get("classes")
    if not (isinstance(classes, list) and 1 <= len(classes) <= 100000 and all(isinstance(c, str) for c in classes)):
        return f"\"classes\" is {json_type(classes)}, not a list of class names"
    problem = sibling_file_problem("files.weights", card.get("files", {}).get("weights", WEIGHTS_NAME))
    if problem:
        return problem
    from engine.data.kinds import kind_named

    kind = kind_named(card["input_kind"])
    if kind is None:
        return f"\"input_kind\" {card['input_kind']!r} is not a kind of data this Loom knows"
    return kind.card_problem(card)


def find_export(path: str | Path) -> Path:
    """The export folder of a run folder (or the export folder itself)."""
    from engine.run_files import RUN_JSON, artifact_path, read_run

    root = Path(path).expanduser()
    if (root / CARD_NAME).is_file():
        return root
    if not root.is_dir():
        raise UserInputError(f"{root}: no such run or export folder")
    artifacts = read_run(root, ("artifacts",))["artifacts"] if (root / RUN_JSON).exists() else []
    for art in artifacts:
        if art["kind"] == "model_card" and artifact_path(root, art).is_file():
            return artifact_path(root, art).parent
    found = sorted(root.glob(f"*/{CARD_NAME}"))
    if found:
        return found[0].parent
    kinds = {a["kind"] for a in artifacts}
    if kinds & {"language_model", "generator"}:  # a writer or a drawer: nothing here classifies
        prompt = ' --prompt "..."' if "language_model" in kinds else ""
        raise UserInputError(f"{root}: this run trained a generative model, which writes or draws rather than "
                             f"classifies — use: loom generate {root}{prompt}")
    raise UserInputError(
        f"{root}: this run has no exported model — add an 'Export model' step after training and run it again"
    )
