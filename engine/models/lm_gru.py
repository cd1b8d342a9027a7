"""``gru_lm``: a recurrent language model (embedding -> GRU layers -> next-token scores).

With a ``char`` tokenizer this is the classic character-level RNN
(Karpathy's char-rnn, with GRU cells).  It trains on blocks of
``block_size`` tokens (truncated backpropagation through time) but, unlike
the Transformer, has no hard context limit when it writes: the hidden state
carries everything seen so far, so :meth:`GruLM.decode_step` feeds one token
at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from engine.models import architecture


class GruLM(nn.Module):
    """Token ids (B x T) -> next-token logits (B x T x vocab)."""

    def __init__(self, vocab_size: int, embed: int, width: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        self.drop = nn.Dropout(dropout)
        self.gru = nn.GRU(embed, width, num_layers=layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)
        self.head = nn.Linear(width, vocab_size)

    def run(self, idx: torch.Tensor, hidden: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        out, hidden = self.gru(self.drop(self.embed(idx)), hidden)
        return self.head(self.drop(out)), hidden

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.run(idx, None)[0]

    def decode_step(self, idx: torch.Tensor, state: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits of the token after ``idx`` (B x vocab), carrying the hidden state (``state``) along."""
        logits, hidden = self.run(idx, state)
        return logits[:, -1], hidden


@architecture("gru_lm")
def build_gru_lm(params: dict[str, Any], facts: Mapping[str, Any]) -> nn.Module:
    return GruLM(vocab_size=int(facts["vocab_size"]), embed=int(params.get("embed", 64)),
                 width=int(params.get("width", 256)), layers=int(params.get("layers", 2)),
                 dropout=float(params.get("dropout", 0.0)))
