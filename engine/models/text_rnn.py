"""GRU and LSTM text classifiers over token ids, padding masked without packed sequences.

A forward RNN reads each text left to right; the padding after its end can
only touch positions that pooling ignores.  The backward direction of a
bidirectional layer reads each text *reversed within its own length* (a
gather), so it starts at the text's last real token, never in the padding —
the result a packed sequence would give, in operations that trace to
TorchScript and ONNX.  Pooling (mean, max or both over the real tokens)
also takes the token vectors themselves, beside the recurrent states: a
direct bag-of-words path, which a few thousand texts teach fastest.  Layers are stacked by hand (one single-direction RNN
per layer and direction) so every layer's backward pass sees its text the
same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from engine.models import architecture
from engine.models.text_choices import RNN_POOLINGS
from engine.models.text_common import (
    TextFacts,
    check_choice,
    gather_time,
    masked_max,
    masked_mean,
    real_tokens,
)

CELLS = {"gru": nn.GRU, "lstm": nn.LSTM}


def reverse_within_length(lengths: torch.Tensor, length: int) -> torch.Tensor:
    """``N x L`` positions that reverse each text's first ``lengths[n]`` tokens and keep the padding in place.

    Applying it twice gives the identity, so the same index undoes it.
    """
    t = torch.arange(length, device=lengths.device).unsqueeze(0)
    flipped = lengths.unsqueeze(1) - 1 - t
    return torch.where(t < lengths.unsqueeze(1), flipped, t)


class RecurrentTextClassifier(nn.Module):
    """Embedding, stacked (bi)directional GRU/LSTM layers, masked pooling, dropout, a linear head."""

    def __init__(self, cell: str, facts: TextFacts, embed: int, width: int, layers: int, bidirectional: bool,
                 dropout: float, pooling: str) -> None:
        super().__init__()
        rnn = CELLS[cell]
        self.pad_id = facts.pad_id
        self.pooling = check_choice("pooling", pooling, RNN_POOLINGS)
        self.embed = nn.Embedding(facts.vocab_size, embed, padding_idx=facts.pad_id)
        self.forward_rnns = nn.ModuleList()
        self.backward_rnns = nn.ModuleList()
        size = embed
        for _ in range(layers):
            self.forward_rnns.append(rnn(size, width, batch_first=True))
            if bidirectional:
                self.backward_rnns.append(rnn(size, width, batch_first=True))
            size = width * (2 if bidirectional else 1)
        self.drop = nn.Dropout(dropout)
        if pooling != "last":  # the token vectors are pooled too: a direct bag-of-words path
            size += embed
        self.head = nn.Linear(size * (2 if pooling == "mean_max" else 1), facts.num_classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        mask = real_tokens(ids, self.pad_id)
        lengths = mask.sum(1).clamp(min=1)
        reverse = reverse_within_length(lengths, ids.shape[1]) if len(self.backward_rnns) else None
        tokens = self.drop(self.embed(ids))
        h = tokens
        for i, forward_rnn in enumerate(self.forward_rnns):
            out, _ = forward_rnn(h)
            if reverse is not None:
                back, _ = self.backward_rnns[i](gather_time(h, reverse))
                out = torch.cat([out, gather_time(back, reverse)], dim=-1)
            h = self.drop(out)
        if self.pooling != "last":
            h = torch.cat([h, tokens], dim=-1)
        return self.head(self.pool(h, mask, lengths))

    def pool(self, h: torch.Tensor, mask: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if self.pooling == "mean":
            return masked_mean(h, mask)
        if self.pooling == "max":
            return masked_max(h, mask)
        if self.pooling == "mean_max":
            return torch.cat([masked_mean(h, mask), masked_max(h, mask)], dim=-1)
        last = gather_time(h, (lengths - 1).unsqueeze(1)).squeeze(1)  # the forward direction's final state
        if not len(self.backward_rnns):
            return last
        width = h.shape[-1] // 2
        return torch.cat([last[:, :width], h[:, 0, width:]], dim=-1)  # ...and the backward direction's


def build_recurrent(cell: str, params: dict[str, Any], facts: Mapping[str, Any]) -> nn.Module:
    """Every param is given: the step declares the defaults (``engine/steps/text_models.py``) and the card keeps them."""
    text = TextFacts.of(facts, cell.upper())
    return RecurrentTextClassifier(
        cell, text, embed=int(params["embed"]), width=int(params["width"]), layers=int(params["layers"]),
        bidirectional=bool(params["bidirectional"]), dropout=float(params["dropout"]), pooling=str(params["pooling"]),
    )


@architecture("gru")
def build_gru(params: dict[str, Any], facts: Mapping[str, Any]) -> nn.Module:
    return build_recurrent("gru", params, facts)


@architecture("lstm")
def build_lstm(params: dict[str, Any], facts: Mapping[str, Any]) -> nn.Module:
    return build_recurrent("lstm", params, facts)
