"""The model card a classifier's train step leaves in its own folder.

A run without an Export step still trained a model someone wants to try,
export or predict with later.  When a train step finishes (or is reused from
the cache by a later run) it writes ``<train node>/model/``: the same
``model_card.json`` + ``model.safetensors`` (+ ``tokenizer.json`` for text)
an Export step writes, through the same code (:func:`engine.export.card.write_card`),
minus TorchScript and ONNX.  :func:`engine.export.load.load_export` loads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.errors import UserInputError
from engine.export.card import CARD_NAME, WEIGHTS_NAME, write_card
from engine.export.formats import save_weights
from engine.models import TrainedModel

MODEL_DIR = "model"  # inside the train node's folder
ARTIFACT_KIND = "classifier"  # run.json artifact kind of that folder's card


def save_trained(trained: TrainedModel, folder: Path) -> Path:
    """Write ``trained`` as an export card folder (weights + card, no TorchScript/ONNX); returns the card's path."""
    folder.mkdir(parents=True, exist_ok=True)
    save_weights(trained.module, folder / WEIGHTS_NAME, {"architecture": trained.spec.arch})
    write_card(trained, folder, None, {"weights": WEIGHTS_NAME}, source="train")
    return folder / CARD_NAME


def write_trained_card(trained: TrainedModel, node_dir: Path) -> list[tuple[str, Path]]:
    """The artifacts a train node's folder gets for ``trained``: ``[(kind, path)]``."""
    return [(ARTIFACT_KIND, save_trained(trained, node_dir / MODEL_DIR))]


def trained_model_folder(run_dir: str | Path, node: str | None = None) -> Path:
    """The folder a run's classifier loads from: its export when it has one, else the train step's model folder.

    ``node`` picks one train (or export) node when the run has several.
    Raises UserInputError in words when the run has no usable classifier.
    """
    from engine.export.card import find_export
    from engine.run_files import RUN_JSON, artifact_path, read_run

    root = Path(run_dir).expanduser()
    if (root / CARD_NAME).is_file():
        return root  # an export (or model) folder itself
    if not (root / RUN_JSON).exists():  # one that is there but damaged is named by read_run
        raise UserInputError(f"{root}: not a Loom run folder (no {RUN_JSON})")
    info = read_run(root, ("artifacts",))
    arts: list[dict[str, Any]] = [a for a in info["artifacts"] if node is None or a["node"] == node]
    for kind in ("model_card", ARTIFACT_KIND):  # the export first: it is what the user chose to ship
        for art in arts:
            if art["kind"] == kind and artifact_path(root, art).exists():  # a damaged card is named, not skipped
                return artifact_path(root, art).parent
    if node is None:
        try:
            return find_export(root)
        except UserInputError:
            pass
    kinds = {a["kind"] for a in info["artifacts"]}
    if kinds & {"language_model", "generator"}:
        prompt = ' --prompt "..."' if "language_model" in kinds else ""
        raise UserInputError(f"{root}: this run trained a generative model, which writes or draws rather than "
                             f"classifies — there is no classifier to try; use: loom generate {root}{prompt}")
    status = str(info.get("status", ""))
    where = f"step '{node}'" if node else "this run"
    if status in ("stopped", "failed", "interrupted"):
        raise UserInputError(f"{root}: {where} has no finished classifier — the run {status} before training "
                             "ended; continue it first")
    if "checkpoint" in kinds:  # finished, but before Loom left a card after training
        raise UserInputError(f"{root}: {where} kept its training checkpoints but no model card (it ran in an older "
                             "Loom) — run the workflow again, or add an Export step, to try it")
    raise UserInputError(f"{root}: {where} has no trained classifier (no model card from a train or export step)")
