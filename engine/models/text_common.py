"""What every text classifier shares: the facts it reads, the padding mask and masked pooling.

Inputs are ``N x L`` int64 token ids with ``pad_id`` after each text's end
(see :class:`engine.data.texts.TextDataset`).  The models never pack
sequences: padding is masked with plain tensor operations (comparisons,
gathers, ``where``), which trace to TorchScript and ONNX with a dynamic batch
axis, so an exported model runs outside Loom exactly as it ran inside.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class TextFacts:
    """The data facts a text builder needs, checked once with a message that says what to connect."""

    length: int
    num_classes: int
    vocab_size: int
    pad_id: int

    @classmethod
    def of(cls, facts: Mapping[str, Any], model: str) -> TextFacts:
        shape = tuple(facts["input_shape"])
        if len(shape) != 1 or "vocab_size" not in facts:
            raise ValueError(f"{model} reads texts as token ids, but the data has samples of shape {list(shape)} — "
                             "feed it from a 'tokenize' step")
        vocab, pad = int(facts["vocab_size"]), int(facts.get("pad_id", 0))
        if not 0 <= pad < vocab:
            raise ValueError(f"the padding id {pad} is outside the vocabulary of {vocab} tokens — tokenize again")
        return cls(int(shape[0]), int(facts["num_classes"]), vocab, pad)


def real_tokens(ids: torch.Tensor, pad_id: int) -> torch.Tensor:
    """``N x L`` bool: True where a token is part of the text, False on padding."""
    return ids != pad_id


def masked_mean(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``h`` (N x L x D) over the real positions; an empty text gives zeros."""
    weights = mask.unsqueeze(-1).to(h.dtype)
    return (h * weights).sum(1) / weights.sum(1).clamp(min=1.0)


def masked_max(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Largest value of ``h`` over the real positions per feature; an empty text gives zeros."""
    low = torch.full_like(h, -1e4)
    best = torch.where(mask.unsqueeze(-1), h, low).max(1).values
    return torch.where(mask.any(1, keepdim=True), best, torch.zeros_like(best))


def gather_time(h: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``h[n, index[n, t]]`` for every n, t (``index``: N x T int64): reorders or picks positions."""
    return h.gather(1, index.unsqueeze(-1).expand(-1, -1, h.shape[-1]))


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} {value!r} is not one of {', '.join(choices)}")
    return value
