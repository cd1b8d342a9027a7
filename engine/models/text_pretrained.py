"""A Hugging Face encoder (BERT, DistilBERT, RoBERTa, ...) with a classification head for this task.

The builder makes the module from the model's configuration alone (the
``config`` param, a copy of the folder's ``config.json`` that the step puts
in the spec, so the model card carries it): an exported model rebuilds from
its card and safetensors without the original folder, offline, never running
code from a download (no ``trust_remote_code``).  The pretrained weights are
starting weights like any other (:class:`PretrainedWeights`, handed over as
the spec's ``source`` and applied by :func:`engine.models.weights.prepare_model`,
which also freezes); the head always starts fresh, sized to this task's
classes.  ``transformers`` is imported only here, when a model is built.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.models import architecture
from engine.models.text_common import TextFacts
from engine.models.text_hub import usable_positions

# Families whose position ids start after the padding id (RoBERTa's offset of 2).


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """No progress bars or load reports from transformers on the run's terminal (Loom logs its own line)."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def hf_config(config: Mapping[str, Any], num_classes: int) -> Any:
    """A transformers config object from a ``config.json`` dict, sized to ``num_classes``."""
    from transformers import AutoConfig

    values = dict(config)
    model_type = str(values.pop("model_type", ""))
    try:
        cfg = AutoConfig.for_model(model_type, **values)
    except (ValueError, KeyError) as exc:
        raise ValueError(f"transformers cannot build a {model_type!r} model offline ({str(exc)[:120]}) — use a "
                         "BERT, DistilBERT, RoBERTa or similar encoder") from None
    cfg.num_labels = int(num_classes)
    return cfg


class PretrainedTextClassifier(nn.Module):
    """``backbone``: transformers' ``AutoModelForSequenceClassification``; ids in, logits out."""

    def __init__(self, config: Mapping[str, Any], facts: TextFacts) -> None:
        super().__init__()
        from transformers import AutoModelForSequenceClassification, PreTrainedModel

        cfg = hf_config(config, facts.num_classes)
        if facts.vocab_size > int(cfg.vocab_size):
            raise ValueError(f"the texts were tokenized into {facts.vocab_size} different tokens, but this "
                             f"{cfg.model_type} model knows {cfg.vocab_size} — set the tokenize step's method to "
                             "pretrained with the same model folder")
        limit = usable_positions(config)
        if limit is not None and facts.length > limit:
            raise ValueError(f"texts of {facts.length} tokens are longer than this {cfg.model_type} model reads "
                             f"({limit}) — set the tokenize step's max_len to {limit} or less")
        self.pad_id = facts.pad_id
        with quiet_transformers():
            self.backbone = AutoModelForSequenceClassification.from_config(cfg)
        for part in self.backbone.modules():  # Loom computes the loss; a set type keeps tracing from warning
            if isinstance(part, PreTrainedModel):
                part.loss_type = "ForSequenceClassification"

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        attention = (ids != self.pad_id).long()
        return self.backbone(input_ids=ids, attention_mask=attention).logits

    # What freezing and the starting weights count (see engine.models.weights).
    def loom_head(self) -> nn.Module:
        """The classification layers on top of the encoder (``classifier``, DistilBERT's ``pre_classifier``...)."""
        base = self.backbone.base_model
        return nn.ModuleList([m for m in self.backbone.children() if m is not base])

    def loom_blocks(self) -> list[nn.Module]:
        """The embeddings, then each transformer layer in order (what freeze = last_n counts)."""
        base = self.backbone.base_model
        n_layers = getattr(self.backbone.config, "num_hidden_layers", None)
        layers = next((m for m in base.modules() if isinstance(m, nn.ModuleList) and len(m) == n_layers), None)
        embeddings = getattr(base, "embeddings", None)
        if layers is None or embeddings is None:
            return [base]
        return [embeddings, *layers]


class PretrainedWeights(Mapping[str, torch.Tensor]):
    """The model folder's weights under :class:`PretrainedTextClassifier`'s names, read on first use.

    transformers' own loader reads them (safetensors, or ``.bin`` files with
    ``weights_only=True``; sharded checkpoints, old key names), so any folder
    ``from_pretrained`` reads works.  Reading happens when training sets up,
    not when the model node runs, and leaves the training's random numbers
    untouched.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._state: dict[str, torch.Tensor] | None = None

    def _loaded(self) -> dict[str, torch.Tensor]:
        if self._state is None:
            from transformers import AutoModelForSequenceClassification

            with torch.random.fork_rng(devices=[]), quiet_transformers():
                model = AutoModelForSequenceClassification.from_pretrained(
                    str(self.folder), local_files_only=True, weights_only=True)
            self._state = {f"backbone.{k}": v.detach() for k, v in model.state_dict().items()}
        return self._state

    def __getitem__(self, key: str) -> torch.Tensor:
        return self._loaded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


@architecture("pretrained_text")
def build_pretrained_text(params: dict[str, Any], facts: Mapping[str, Any]) -> nn.Module:
    config = params.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("model_type"), str):
        raise ValueError("the model's configuration (config.json) is missing from its params")
    return PretrainedTextClassifier(config, TextFacts.of(facts, "pretrained_text"))
