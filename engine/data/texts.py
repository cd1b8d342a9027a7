"""Text as it flows between steps: raw texts, and texts made into token ids.

``RawTexts`` (port ``Texts``) is what a text source makes: the cleaned
texts, their labels (or none, for a language model's corpus) and seeded,
stratified splits.  A ``tokenize`` step learns a tokenizer from the training
split and makes a :class:`TextDataset` (port ``TextDataset``, a ``Dataset``):
an ``N x L`` int64 tensor of token ids padded with ``pad_id``, which batches,
caches and trains like any other dataset.  It keeps the raw texts (for the
report of mistakes) and the tokenizer as JSON (exported with the model).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import torch

from engine.data.datasets import TensorDataset, labelled_fields, labelled_state, plain
from engine.data.splits import Splits
from engine.data.tokenizer import TextTokenizer


@dataclass
class RawTexts(Splits):
    """Cleaned texts with labels (or none) and splits; not yet model input."""

    texts: list[str]
    labels: torch.Tensor | None
    classes: list[str]
    name: str = "texts"
    splits: dict[str, torch.Tensor] | None = None
    report: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)  # how new inputs are read: {"text_columns": [...]}...

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def texts_of(self, split: str) -> list[str]:
        return [self.texts[int(i)] for i in self.split(split)]

    def to_state(self) -> dict[str, Any]:
        return {"kind": "texts", "texts": list(self.texts), "source": plain(self.source), **labelled_state(self)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> RawTexts:
        return cls(texts=list(state["texts"]), source=dict(state.get("source", {})),
                   **labelled_fields(state, "texts"))


@dataclass
class TextDataset(TensorDataset):
    """Token ids (``x``: N x L int64, ``pad_id`` after each text's end) plus the texts and the tokenizer."""

    texts: list[str] = field(default_factory=list)
    tokenizer_json: str = ""
    tokenizer_method: str = ""
    pad_id: int = 0
    source: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def tokenizer(self) -> TextTokenizer:
        return TextTokenizer.from_json(self.tokenizer_json, self.tokenizer_method)

    @property
    def max_len(self) -> int:
        return int(self.x.shape[1])

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size

    def batches(self, split: str, batch_size: int, device: str | torch.device = "cpu", **kwargs: Any
                ) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        """Batches as :meth:`TensorDataset.batches`, cut after the longest text of each batch.

        Texts are padded to ``max_len`` for storage, but a batch of short texts
        needs only as many columns as its longest text: a recurrent model then
        runs a few dozen time steps instead of hundreds.  The columns cut hold
        nothing but padding, which every text model masks, so the results are
        the same.
        """
        for xb, yb in super().batches(split, batch_size, device, **kwargs):
            used = max(1, int((xb != self.pad_id).sum(1).max().item())) if len(xb) else 1  # padding only follows a text
            yield xb[:, :used], yb

    def lengths(self, idx: torch.Tensor | None = None) -> torch.Tensor:
        """Tokens per text (before padding)."""
        x = self.x if idx is None else self.x[idx]
        return (x != self.pad_id).sum(1)

    def to_state(self) -> dict[str, Any]:
        state = super().to_state()
        state.update(texts=list(self.texts), tokenizer_json=self.tokenizer_json,
                     tokenizer_method=self.tokenizer_method, pad_id=int(self.pad_id), source=plain(self.source))
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TextDataset:
        return cls(**cls.common_from_state(state), texts=list(state.get("texts", [])),
                   tokenizer_json=str(state["tokenizer_json"]), tokenizer_method=str(state.get("tokenizer_method", "")),
                   pad_id=int(state.get("pad_id", 0)), source=dict(state.get("source", {})))
