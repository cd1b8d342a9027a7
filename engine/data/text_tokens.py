"""Raw texts -> token ids: what the ``tokenize`` step does, and what its preview shows.

The tokenizer is learned from the *training* split only (nothing of the
validation or test texts leaks into its vocabulary), or is a pretrained
model folder's own ``tokenizer.json``.  Every text is then encoded to at
most ``max_len`` tokens (0: as many as the longest text has), in chunks, so
Stop answers and the progress bar moves on a large corpus.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine.data.text_checks import HF_TOKENIZER_FILE, TextSourceError, param, pretrained_problem
from engine.data.text_cleaning import shorten
from engine.data.texts import RawTexts, TextDataset
from engine.data.tokenizer import TextTokenizer

CHUNK = 2048  # texts encoded between two checks of Stop ...
CHUNK_CHARS = 1_000_000  # ... and characters: the tokenizer's working memory grows with them (~250 bytes each)
MAX_IDS_BYTES = 1 << 30  # a token matrix larger than this is refused before it is allocated
TOKENS_SHOWN = 48


@dataclass
class TokenizeOptions:
    method: str = "bpe"  # bpe | char | pretrained
    vocab_size: int = 8000
    max_len: int = 256  # 0: the longest text's length
    lowercase: bool = False
    path: str = ""  # with pretrained: the model folder holding tokenizer.json


def make_tokenizer(raw: RawTexts, opts: TokenizeOptions) -> TextTokenizer:
    """Learn the tokenizer from the training split, or read the pretrained model folder's own."""
    if opts.method != "pretrained":
        return TextTokenizer.train(raw.texts_of("train"), opts.method, opts.vocab_size, opts.lowercase)
    folder = Path(opts.path).expanduser()
    problem = pretrained_problem(folder)
    if problem:
        raise TextSourceError(problem, param("path"))
    try:
        return TextTokenizer.from_folder(folder)
    except Exception as exc:  # the tokenizers library raises its own Exception for a damaged file
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise TextSourceError(f"{folder / HF_TOKENIZER_FILE} cannot be read as a tokenizer ({first}) — copy the "
                              "model folder again, or choose bpe or char", param("path")) from None


def chunks(texts: list[str], max_texts: int = CHUNK, max_chars: int = CHUNK_CHARS) -> Iterator[tuple[int, int]]:
    """``(start, end)`` runs of texts to encode at once: at most ``max_texts`` texts and (unless one text is
    longer by itself) ``max_chars`` characters, so a corpus of huge texts never sits in the tokenizer at once."""
    start = size = 0
    for i, text in enumerate(texts):
        if i > start and (i - start >= max_texts or size + len(text) > max_chars):
            yield start, i
            start, size = i, 0
        size += len(text)
    if start < len(texts):
        yield start, len(texts)


def longest(tok: TextTokenizer, texts: list[str], check: Callable[[], None]) -> int:
    """Tokens in the longest text (what ``max_len`` 0 pads to)."""
    most = 1
    for start, end in chunks(texts):
        check()
        most = max([most, *(len(e.ids) for e in tok.tok.encode_batch(texts[start:end]))])
    return most


def encode_texts(raw: RawTexts, tok: TextTokenizer, max_len: int, check: Callable[[], None] = lambda: None,
                 progress: Callable[[float], None] = lambda f: None) -> tuple[TextDataset, int]:
    """Every text as ``max_len`` token ids (padded); returns the dataset and how many texts were cut."""
    splits = {s: raw.split(s) for s in ("train", "val", "test")}  # the source's splits (80/10/10 when it set none)
    length = max_len or longest(tok, raw.texts, check)
    size = len(raw) * length * 8
    if size > MAX_IDS_BYTES:
        raise TextSourceError(f"{len(raw):,} texts of {length:,} tokens would take {size / 2**30:.1f} GB — lower "
                              "max_len (a language model reads every text whole whatever max_len is; a classifier sees the "
                              "first max_len tokens of each)", param("max_len"))
    parts, cut = [], 0
    for start, end in chunks(raw.texts):
        check()
        x, n_cut = tok.encode_batch(raw.texts[start:end], length)
        parts.append(x)
        cut += n_cut
        progress(end / len(raw))
    x = torch.cat(parts) if parts else torch.empty(0, length, dtype=torch.long)
    data = TextDataset(x=x, labels=raw.labels, classes=list(raw.classes), name=raw.name, splits=splits,
                       texts=list(raw.texts), tokenizer_json=tok.to_json(), tokenizer_method=tok.method,
                       pad_id=tok.pad_id, source=dict(raw.source))
    return data, cut


def token_examples(data: TextDataset, n: int = 5) -> list[dict[str, Any]]:
    """The first few training texts with the tokens the model sees (each token decoded on its own)."""
    tok = data.tokenizer
    out = []
    for i in data.split("train")[:n].tolist():
        ids = [int(t) for t in data.x[i] if int(t) != data.pad_id]
        out.append({"text": shorten(data.texts[i]), "tokens": [tok.decode([t], skip_special=False)
                                                               for t in ids[:TOKENS_SHOWN]], "count": len(ids)})
    return out


def preview_text(data: TextDataset, facts: dict[str, Any], shown: list[dict[str, Any]]) -> str:
    """The tokenize preview as a person reads it: the vocabulary, lengths, and texts split into tokens."""
    lines = [f"{data.vocab_size:,} tokens in the vocabulary ({data.tokenizer_method}); texts padded to "
             f"{data.max_len} tokens; mean {facts['mean_tokens']}, longest {facts['longest_tokens']}", ""]
    for ex in shown:
        more = " …" if ex["count"] > len(ex["tokens"]) else ""
        lines += [ex["text"], "  -> " + " | ".join(repr(t) for t in ex["tokens"]) + more + f"  ({ex['count']} tokens)",
                  ""]
    return "\n".join(lines)
