"""Port types: what may flow along a link.

Types are plain strings so workflow files and the GUI can name them.  A few
are abstract ("Dataset" accepts any dataset), which is the whole type
hierarchy; a new kind of data declares its port type with
:func:`register_port_type`; :func:`accepts` is the single rule that decides whether a link is
allowed, and :func:`why_not` explains a refusal in words.
"""

from __future__ import annotations

from dataclasses import dataclass

IMAGE_DATASET = "ImageDataset"
TABULAR_DATASET = "TabularDataset"
TEXT_DATASET = "TextDataset"  # texts as token ids, ready for a model
TEXTS = "Texts"  # cleaned raw texts with labels and splits: a tokenize step makes them a TextDataset
DATASET = "Dataset"  # abstract: any dataset
MODEL = "Model"  # an untrained classifier architecture (a builder)
GENERATIVE_MODEL = "GenerativeModel"  # an untrained GAN or VAE architecture
TRAINED_MODEL = "TrainedModel"  # a fitted classifier
TRAINED_GENERATOR = "TrainedGenerator"  # a fitted GAN generator or VAE decoder
METRICS = "Metrics"
IMAGES = "Images"

_PORT_TYPES: set[str] = {MODEL, GENERATIVE_MODEL, TRAINED_MODEL, TRAINED_GENERATOR, METRICS, IMAGES, DATASET}
# abstract type -> concrete types it accepts
_SUBTYPES: dict[str, set[str]] = {DATASET: set()}


def register_port_type(name: str, accepted_by: tuple[str, ...] = ()) -> str:
    """Declare a port type (e.g. a new kind of dataset, accepted by the abstract ``Dataset``).

    Torch-free, so step declarations can use it at import.  Returns ``name``.
    """
    for parent in accepted_by:
        if parent not in _SUBTYPES:
            raise ValueError(f"port type {name!r}: {parent!r} is not an abstract port type")
        _SUBTYPES[parent].add(name)
    _PORT_TYPES.add(name)
    return name


def port_types() -> tuple[str, ...]:
    return tuple(sorted(_PORT_TYPES))


register_port_type(IMAGE_DATASET, accepted_by=(DATASET,))
register_port_type(TABULAR_DATASET, accepted_by=(DATASET,))
register_port_type(TEXT_DATASET, accepted_by=(DATASET,))
register_port_type(TEXTS)
LANGUAGE_MODEL = register_port_type("LanguageModel")  # an untrained language model (gpt, gru_lm): a spec
TRAINED_LANGUAGE_MODEL = register_port_type("TrainedLanguageModel")  # a fitted language model and its tokenizer


def accepts(target_type: str, source_type: str) -> bool:
    """Can an output of ``source_type`` feed an input of ``target_type``?"""
    if target_type == source_type:
        return True
    return source_type in _SUBTYPES.get(target_type, ())


def why_not(target_type: str, source_type: str) -> str:
    """Plain-words reason a link is refused (empty when it is allowed)."""
    if accepts(target_type, source_type):
        return ""
    return f"this input takes {target_type}, but that output gives {source_type}"


@dataclass(frozen=True)
class Port:
    """A named, typed input or output of a step."""

    name: str
    type: str
    help: str = ""
    optional: bool = False

    def __post_init__(self) -> None:
        if self.type not in _PORT_TYPES:
            raise ValueError(f"port {self.name!r}: unknown type {self.type!r}")
