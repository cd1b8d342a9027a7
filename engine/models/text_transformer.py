"""A Transformer encoder trained from scratch on token ids.

Pre-norm blocks (layer norm, self-attention, layer norm, feed-forward, each
with a residual), which train stably from random weights without a warm-up.
A learned ``[CLS]`` vector is put in front of every text and is never
masked, so even an empty text attends to something (no all-masked softmax,
no NaN); padding keys are masked in every attention.  Attention is written
with ``scaled_dot_product_attention`` and a boolean mask, which traces to
TorchScript and ONNX.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from engine.models import architecture
from engine.models.text_choices import POSITIONS, TRANSFORMER_POOLINGS
from engine.models.text_common import (
    TextFacts,
    check_choice,
    masked_max,
    masked_mean,
    real_tokens,
)


def sinusoidal_table(length: int, width: int) -> torch.Tensor:
    """The fixed sine/cosine position codes of "Attention Is All You Need" (``length x width``)."""
    position = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    rate = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10000.0) / width))
    table = torch.zeros(length, width)
    table[:, 0::2] = torch.sin(position * rate)
    table[:, 1::2] = torch.cos(position * rate[: width // 2])
    return table


class SelfAttention(nn.Module):
    def __init__(self, width: int, heads: int, dropout: float) -> None:
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} must be a multiple of heads {heads} — e.g. width {heads * 32}")
        self.heads, self.dropout = heads, dropout
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, keys_ok: torch.Tensor) -> torch.Tensor:
        n, length, width = x.shape
        q, k, v = self.qkv(x).view(n, length, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        drop = self.dropout if self.training else 0.0
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=keys_ok[:, None, None, :], dropout_p=drop)
        return self.out(att.transpose(1, 2).reshape(n, length, width))


class EncoderBlock(nn.Module):
    def __init__(self, width: int, heads: int, ff: int, dropout: float) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.attention = SelfAttention(width, heads, dropout)
        self.ff = nn.Sequential(nn.Linear(width, ff), nn.GELU(), nn.Dropout(dropout), nn.Linear(ff, width))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, keys_ok: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.attention(self.norm1(x), keys_ok))
        return x + self.drop(self.ff(self.norm2(x)))


class TransformerTextClassifier(nn.Module):
    def __init__(self, facts: TextFacts, layers: int, heads: int, width: int, ff: int, positions: str,
                 pooling: str, dropout: float) -> None:
        super().__init__()
        self.pad_id = facts.pad_id
        self.pooling = check_choice("pooling", pooling, TRANSFORMER_POOLINGS)
        self.scale = math.sqrt(width)
        self.embed = nn.Embedding(facts.vocab_size, width, padding_idx=facts.pad_id)
        nn.init.normal_(self.embed.weight, std=width ** -0.5)  # x sqrt(width) below: unit-sized token vectors
        with torch.no_grad():
            self.embed.weight[facts.pad_id].zero_()
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        if check_choice("positions", positions, POSITIONS) == "learned":
            self.positions = nn.Parameter(torch.randn(facts.length + 1, width) * 0.02)
        else:
            self.register_buffer("positions", sinusoidal_table(facts.length + 1, width), persistent=False)
        self.blocks = nn.ModuleList(EncoderBlock(width, heads, ff, dropout) for _ in range(layers))
        self.norm = nn.LayerNorm(width)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, facts.num_classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        mask = real_tokens(ids, self.pad_id)
        keys_ok = torch.cat([torch.ones_like(mask[:, :1]), mask], dim=1)  # [CLS] is always there
        tokens = self.embed(ids) * self.scale
        x = torch.cat([self.cls.expand(ids.shape[0], -1, -1), tokens], dim=1) + self.positions[: ids.shape[1] + 1]
        x = self.drop(x)
        for block in self.blocks:
            x = block(x, keys_ok)
        x = self.norm(x)
        if self.pooling == "cls":
            pooled = x[:, 0]
        elif self.pooling == "mean":
            pooled = masked_mean(x[:, 1:], mask)
        else:
            pooled = masked_max(x[:, 1:], mask)
        return self.head(self.drop(pooled))


@architecture("transformer")
def build_transformer(params: dict[str, Any], facts: Mapping[str, Any]) -> nn.Module:
    """Every param is given: the step declares the defaults (``engine/steps/text_models.py``) and the card keeps them."""
    return TransformerTextClassifier(
        TextFacts.of(facts, "The Transformer"), layers=int(params["layers"]), heads=int(params["heads"]),
        width=int(params["width"]), ff=int(params["ff_width"]), positions=str(params["positions"]),
        pooling=str(params["pooling"]), dropout=float(params["dropout"]),
    )
