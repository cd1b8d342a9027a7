"""Model architectures and the values that carry them between steps.

A ``Model`` port carries a :class:`ModelSpec`: plain data (an architecture
name and its params), not a module.  The training step builds the module once
it knows the data, through :func:`build_model`, from the data kind's *facts*
(``input_shape``, ``num_classes`` and whatever a kind adds, such as a
vocabulary size).  Because a spec plus those facts rebuild the exact module,
exported weights are loaded again from a JSON model card and a safetensors
file, never a pickle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    import torch
    from torch import nn

# name -> builder(params, facts) -> nn.Module; facts: input_shape, num_classes, and a kind's own
Builder = Callable[[dict[str, Any], Mapping[str, Any]], "nn.Module"]
_ARCHITECTURES: dict[str, Builder] = {}


def architecture(name: str) -> Callable[[Builder], Builder]:
    """Register a builder under ``name`` (used by model specs and model cards)."""

    def wrap(fn: Builder) -> Builder:
        _ARCHITECTURES[name] = fn
        return fn

    return wrap


def build_model(spec: ModelSpec, facts: Mapping[str, Any]) -> nn.Module:
    """The module of ``spec`` for data described by ``facts`` (see :func:`model_facts`)."""
    _load_architectures()
    try:
        builder = _ARCHITECTURES[spec.arch]
    except KeyError:
        raise ValueError(f"unknown model architecture {spec.arch!r}") from None
    return builder(dict(spec.params), facts)


def model_facts(input_shape: tuple[int, ...] | list[int], num_classes: int, **more: Any) -> dict[str, Any]:
    """The facts every classifier builder reads, plus a kind's own."""
    return {"input_shape": tuple(int(d) for d in input_shape), "num_classes": int(num_classes), **more}


def _load_architectures() -> None:
    import importlib
    import pkgutil

    import engine.models as package

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"engine.models.{info.name}")


@dataclass(frozen=True)
class ModelSpec:
    """An untrained architecture: what the ``Model`` port carries."""

    arch: str
    params: dict[str, Any] = field(default_factory=dict)
    # Starting weights handed over inside the workflow (a state dict from an upstream
    # trained model): transfer learning without a file.  Not part of the JSON form.
    source: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    node_id: str = field(default="", compare=False)  # the model node, for messages about its params

    def to_json(self) -> dict[str, Any]:
        return {"arch": self.arch, "params": dict(self.params)}


@dataclass
class TrainedModel:
    """A fitted classifier plus what is needed to use it on new data.

    ``facts`` rebuild the module (with the spec); ``input_kind`` names the
    data kind and ``inputs`` says, in plain JSON, how raw inputs of that kind
    become model inputs (normalisation, decoding, a table's encoding...).
    """

    spec: ModelSpec
    module: nn.Module
    classes: list[str]
    input_kind: str
    facts: dict[str, Any]
    inputs: dict[str, Any] = field(default_factory=dict)
    history: dict[str, Any] = field(default_factory=dict)  # best epoch, final metrics...
    extra: dict[str, Any] = field(default_factory=dict)  # fold models of a cross-validation

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.facts["input_shape"])

    def write_card(self, node_dir: Path) -> list[tuple[str, Path]]:
        """Leave this model's card in its train node's folder (also when a later run reuses it from the cache)."""
        from engine.export.trained import write_trained_card

        return write_trained_card(self, node_dir)

    def predict_logits(self, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
        import torch

        out = batched_inference(self.module, x, batch_size)
        return out if out is not None else torch.empty(0, len(self.classes))


def batched_inference(
    module: nn.Module, x: torch.Tensor, batch_size: int, post: Callable[[torch.Tensor], torch.Tensor] | None = None
) -> torch.Tensor | None:
    """Run ``module`` over ``x`` in eval mode, batch by batch, on the module's device.

    Each output batch comes back float32 on the CPU, through ``post`` if given;
    ``None`` when ``x`` is empty.  Shared by classifiers and generators.
    """
    import torch

    module.eval()
    device = next(module.parameters()).device
    outs = []
    with torch.inference_mode():
        for i in range(0, len(x), batch_size):
            out = module(x[i:i + batch_size].to(device)).float().cpu()
            outs.append(post(out) if post is not None else out)
    return torch.cat(outs) if outs else None
