"""Kinds of data (image, table, ...), each declared once.

A :class:`DataKind` says everything the rest of the engine needs to know
about one kind of dataset, so the training loop, export, ``loom predict``, the
disk cache and the previews never tell kinds apart themselves:

* its port type and dataset class;
* ``from_state``: the dataset back from the disk cache (``to_state`` is the
  dataset's own method);
* ``model_facts``: what model builders need (``input_shape``,
  ``num_classes``, and whatever a kind adds, such as a vocabulary size);
* ``input_spec``: how raw inputs became model inputs (plain JSON kept with
  the trained model and in its card: normalisation, decoding, an encoding);
* ``card_fields``: how the model card describes the inputs to a person;
* ``read_inputs``: how ``loom predict`` turns its arguments into a batch (its
  options carry the export ``folder``), ``card_problem`` what makes a card's
  own fields for it unusable, ``export_files`` what an export writes beside
  the card (a tokenizer) and ``example_input`` made-up inputs for tracing;
* ``preview``: the picture and facts a data node shows.

The built-in kinds live in this package (one module each) and are found on
the first lookup; a kind from elsewhere calls :func:`register_kind` (plus
:func:`engine.ports.register_port_type` for its port type).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from engine.context import StepContext


@dataclass
class PredictInputs:
    """What ``loom predict`` feeds a model: a batch, a name per row, and the inputs it could not use."""

    x: torch.Tensor
    names: list[str]
    skipped: list[str] = field(default_factory=list)
    name_column: str = "input"  # the heading of the names in predictions.csv ("file", "row", ...)


Facts = dict[str, Any]
# (the user's arguments, the model card, options such as {"fit": "crop"}) -> the batch to classify
InputReader = Callable[[list[str], Mapping[str, Any], Mapping[str, Any]], PredictInputs]


def no_card_fields(facts: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    return {}


def no_preview(ctx: StepContext, data: Any) -> dict[str, Any]:
    return {}


def no_card_problem(card: Mapping[str, Any]) -> str:
    return ""


def no_files(spec: Mapping[str, Any], folder: Path) -> dict[str, str]:
    return {}


def random_floats(facts: Mapping[str, Any], batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """A batch of made-up model inputs (standard normal numbers) for tracing and checking an export."""
    import torch

    return torch.randn(batch, *facts["input_shape"], generator=generator)


@dataclass(frozen=True)
class DataKind:
    name: str  # stored in the disk cache and the model card ("input_kind")
    port_type: str
    dataset_type: type
    from_state: Callable[[dict[str, Any]], Any]
    model_facts: Callable[[Any], Facts]
    input_spec: Callable[[Any], dict[str, Any]] = lambda data: {}
    card_fields: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]] = no_card_fields
    read_inputs: InputReader | None = None
    preview: Callable[[StepContext, Any], dict[str, Any]] = no_preview
    #: what makes a model card's kind-specific fields unusable ('' when sound), checked before any build
    card_problem: Callable[[Mapping[str, Any]], str] = no_card_problem
    #: files an export writes next to the card (a tokenizer...): {role: file name}, listed in the card's "files"
    export_files: Callable[[Mapping[str, Any], Path], dict[str, str]] = no_files
    #: made-up inputs of the right type and shape, to trace a model for TorchScript/ONNX and check the export
    example_input: Callable[..., torch.Tensor] = random_floats
    #: how a person names inputs of this kind ("images", "table rows", "texts")
    noun: str = "inputs"


_KINDS: dict[str, DataKind] = {}
_loaded = False


def register_kind(kind: DataKind) -> DataKind:
    existing = _KINDS.get(kind.name)
    if existing is not None and existing.dataset_type is not kind.dataset_type:
        raise ValueError(f"data kind {kind.name!r} is declared twice")
    _KINDS[kind.name] = kind
    return kind


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for info in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{info.name}")


def kind_named(name: str) -> DataKind | None:
    _load_builtin()
    return _KINDS.get(name)


def kind_of(data: Any) -> DataKind:
    """The kind of a dataset: the registered class nearest to its own (a subclass may register itself)."""
    _load_builtin()
    for cls in type(data).__mro__:
        for kind in _KINDS.values():
            if kind.dataset_type is cls:
                return kind
    raise TypeError(f"{type(data).__name__} is not a registered kind of data")


def base_facts(data: Any) -> Facts:
    """The facts every labelled tensor dataset offers model builders."""
    return {"input_shape": tuple(int(d) for d in data.sample_shape), "num_classes": int(data.num_classes)}
