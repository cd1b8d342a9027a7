"""A corpus as a language model learns it: one token stream, cut into blocks.

The texts of a split are encoded in full (the tokenize step's ``max_len``
cuts texts for classifiers; a language model wants every token) and joined
into one stream with an ``[EOS]`` after each text, so the model learns where
texts end and a prompt-less sample starts like a text does.  The stream is
cut into blocks of ``block_size + 1`` tokens that overlap by one: a block's
first ``block_size`` tokens are the input, its last ``block_size`` the
next-token targets, and every token of the stream but the first is a target
exactly once per epoch.
"""

from __future__ import annotations

import torch

from engine.data.datasets import TensorDataset
from engine.data.texts import TextDataset
from engine.lm.sampling import encode_plain


def token_stream(data: TextDataset, split: str) -> torch.Tensor:
    """The ``split``'s texts as one int64 stream of token ids, an ``[EOS]`` after each text (if there is one)."""
    idx = data.split(split)
    tokenizer = data.tokenizer
    if len(data.texts) == len(data):
        seqs = encode_plain(tokenizer, [data.texts[int(i)] for i in idx])
    else:  # a dataset without its texts: the stored ids, padding removed
        lengths = data.lengths(idx).tolist()
        seqs = [row[:n].tolist() for row, n in zip(data.x[idx], lengths, strict=True)]
    eos = tokenizer.eos_id
    flat: list[int] = []
    for ids in seqs:
        if ids:
            flat.extend(ids)
            if eos is not None:
                flat.append(eos)
    return torch.tensor(flat, dtype=torch.long)


def cut_blocks(stream: torch.Tensor, block_size: int, max_blocks: int = 0) -> torch.Tensor:
    """``n x (block_size + 1)`` blocks of ``stream`` (the last, shorter rest is left out).

    A stream too short for one block gives a single shorter block (when it
    has at least two tokens), so a small validation split is still measured.
    ``max_blocks`` > 0 keeps that many, evenly spread over the stream.
    """
    n = (len(stream) - 1) // block_size
    if n <= 0:  # an empty stream (no validation texts: a one-file corpus) gives -1
        return stream[None] if len(stream) >= 2 else stream.new_zeros((0, block_size + 1))
    starts = torch.arange(n) * block_size
    if 0 < max_blocks < n:
        starts = starts[torch.linspace(0, n - 1, max_blocks).round().long()]
    return stream[starts[:, None] + torch.arange(block_size + 1)[None, :]]


def block_dataset(blocks: torch.Tensor) -> TensorDataset:
    """Blocks as a dataset whose ``train`` split is every block: batched by the driver's seeded permutation."""
    n = len(blocks)
    empty = torch.zeros(0, dtype=torch.long)
    return TensorDataset(x=blocks, labels=None, classes=[], name="blocks",
                         splits={"train": torch.arange(n), "val": empty, "test": empty})
