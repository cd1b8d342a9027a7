"""``gpt``: a small decoder-only Transformer language model (GPT-2 style, after nanoGPT).

Pre-norm blocks (LayerNorm -> causal self-attention -> residual, LayerNorm ->
MLP -> residual), learned positions, and the output layer tied to the token
embedding: the same matrix reads tokens in and scores them out, which saves
a vocabulary-sized layer and helps small models learn faster.  Causal
attention goes through ``scaled_dot_product_attention(is_causal=True)``, the
fused kernel on every device.

Builders read two facts: ``vocab_size`` (the tokenizer's) and
``block_size`` (the longest context the model sees, which sizes the
position table).  Generation calls :meth:`GPT.decode_step`, shared in
shape with the GRU language model (``engine.models.lm_gru``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from engine.models import architecture

KeyValues = tuple[torch.Tensor, torch.Tensor]  # one layer's cached keys and values (B x heads x T x head width)
DecodeState = tuple[torch.Tensor, list[KeyValues]]  # the context's token ids and every layer's keys and values


class CausalSelfAttention(nn.Module):
    def __init__(self, width: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.heads = heads
        self.dropout = dropout
        self.resid_drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, cache: KeyValues | None = None) -> tuple[torch.Tensor, KeyValues]:
        """Attend causally over ``x`` (no ``cache``), or let one new token attend to the cached keys and values."""
        b, t, c = x.shape
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in self.qkv(x).split(c, dim=2))
        if cache is not None:
            k, v = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0,
                                           is_causal=cache is None)
        return self.resid_drop(self.proj(y.transpose(1, 2).reshape(b, t, c))), (k, v)


class Block(nn.Module):
    def __init__(self, width: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.attn = CausalSelfAttention(width, heads, dropout)
        self.ln2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width),
                                 nn.Dropout(dropout))

    def forward(self, x: torch.Tensor, cache: KeyValues | None = None) -> tuple[torch.Tensor, KeyValues]:
        y, kv = self.attn(self.ln1(x), cache)
        x = x + y
        return x + self.mlp(self.ln2(x)), kv


class GPT(nn.Module):
    """Token ids (B x T, T <= block_size) -> next-token logits (B x T x vocab)."""

    def __init__(self, vocab_size: int, block_size: int, layers: int, heads: int, width: int, dropout: float) -> None:
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} is not a multiple of heads {heads}")
        self.block_size = block_size
        self.tok_emb = nn.Embedding(vocab_size, width)
        self.pos_emb = nn.Embedding(block_size, width)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(width, heads, dropout) for _ in range(layers))
        self.ln_f = nn.LayerNorm(width)
        self.apply(self._init)
        for name, p in self.named_parameters():  # GPT-2: residual projections scaled down by depth
            if name.endswith("attn.proj.weight") or name.endswith("mlp.2.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * layers))

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, 0.0, 0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def features(self, idx: torch.Tensor, caches: list[KeyValues] | None = None,
                 start: int = 0) -> tuple[torch.Tensor, list[KeyValues]]:
        """Hidden states of ``idx`` at positions ``start...``, after the cached ones when ``caches`` are given."""
        pos = torch.arange(start, start + idx.shape[1], device=idx.device)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))
        new = []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, caches[i] if caches is not None else None)
            new.append(kv)
        return self.ln_f(x), new

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return F.linear(self.features(idx)[0], self.tok_emb.weight)  # tied: the embedding scores the tokens

    def decode_step(self, idx: torch.Tensor, state: DecodeState | None) -> tuple[torch.Tensor, DecodeState]:
        """Logits of the token after ``idx`` (B x vocab), and the state for the next call.

        The state is the context so far plus every layer's keys and values, so
        each new token costs one position, not the whole context.  The model
        sees at most ``block_size`` positions: when the context outgrows them
        it is cut to its last three quarters and encoded afresh.
        """
        context = idx if state is None else torch.cat([state[0], idx], dim=1)
        if state is not None and idx.shape[1] == 1 and context.shape[1] <= self.block_size:
            h, caches = self.features(idx, state[1], start=context.shape[1] - 1)
        else:
            if context.shape[1] > self.block_size:
                context = context[:, -max(1, self.block_size - self.block_size // 4):]
            h, caches = self.features(context)
        return F.linear(h[:, -1], self.tok_emb.weight), (context, caches)


@architecture("gpt")
def build_gpt(params: dict[str, Any], facts: Mapping[str, Any]) -> nn.Module:
    return GPT(vocab_size=int(facts["vocab_size"]), block_size=int(facts["block_size"]),
               layers=int(params.get("layers", 4)), heads=int(params.get("heads", 4)),
               width=int(params.get("width", 128)), dropout=float(params.get("dropout", 0.0)))
