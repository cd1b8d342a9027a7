"""Turning text into token ids and back, with Hugging Face ``tokenizers``.

A tokenizer is learned from the *training* split only (so nothing of the
validation or test texts leaks into it), or taken from a pretrained model's
folder.  Loom's learned tokenizers share three special tokens: ``[PAD]`` (id
0, fills sequences to a common length), ``[UNK]`` and ``[EOS]`` (ends a text;
a language model learns where texts stop).  Methods:

* ``bpe``: byte-level byte-pair encoding (GPT-2 style): every string encodes,
  common words become one token;
* ``char``: one token per character; tiny vocabulary, long sequences (the
  classic character-level language model).

Both are learned reproducibly: the same texts give the same vocabulary in
every process (so the node cache, exact resume and exports agree).
``tokenizers``' WordPiece trainer does not (it breaks ties in hash order and
gives another vocabulary on every run), so WordPiece vocabularies come only
with pretrained models (BERT's ``tokenizer.json``), not learned here.

The whole tokenizer is one JSON string (``tokenizer.json``), saved with the
run and exported with the model, so ``loom predict`` tokenizes new text the
way training did.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch

PAD, UNK, EOS = "[PAD]", "[UNK]", "[EOS]"
METHODS = ("bpe", "char")  # plus "pretrained": a model folder's own tokenizer.json


class TextTokenizer:
    def __init__(self, tokenizer: object, method: str) -> None:
        from tokenizers import Tokenizer

        assert isinstance(tokenizer, Tokenizer)
        self.tok = tokenizer
        self.method = method
        self.tok.no_padding()
        self.tok.no_truncation()

    # -- making one ------------------------------------------------------------------------
    @classmethod
    def train(cls, texts: Iterable[str], method: str, vocab_size: int, lowercase: bool = False) -> TextTokenizer:
        from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

        specials = [PAD, UNK, EOS]
        norm = [normalizers.NFKC()] + ([normalizers.Lowercase()] if lowercase else [])
        if method == "bpe":
            tok = Tokenizer(models.BPE(unk_token=UNK))
            tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
            tok.decoder = decoders.ByteLevel()
            trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                          initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
        elif method == "char":
            tok = Tokenizer(models.WordLevel(unk_token=UNK))
            tok.pre_tokenizer = pre_tokenizers.Split("", "isolated")
            tok.decoder = decoders.Fuse()
            trainer = trainers.WordLevelTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False)
        else:
            raise ValueError(f"unknown tokenizer method {method!r} (choose from {', '.join(METHODS)})")
        tok.normalizer = normalizers.Sequence(norm)
        tok.train_from_iterator(texts, trainer)
        return cls(tok, method)

    @classmethod
    def from_json(cls, text: str, method: str = "") -> TextTokenizer:
        from tokenizers import Tokenizer

        return cls(Tokenizer.from_str(text), method)

    @classmethod
    def from_folder(cls, folder: Path) -> TextTokenizer:
        """A pretrained model's own tokenizer (its ``tokenizer.json``)."""
        from tokenizers import Tokenizer

        return cls(Tokenizer.from_file(str(Path(folder) / "tokenizer.json")), "pretrained")

    def to_json(self) -> str:
        return self.tok.to_str()

    # -- facts -------------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return int(self.tok.get_vocab_size())

    def token_id(self, token: str) -> int | None:
        return self.tok.token_to_id(token)

    @property
    def pad_id(self) -> int:
        for name in (PAD, "<pad>", "[pad]"):
            i = self.tok.token_to_id(name)
            if i is not None:
                return int(i)
        return 0

    @property
    def eos_id(self) -> int | None:
        for name in (EOS, "</s>", "[SEP]", "<|endoftext|>"):
            i = self.tok.token_to_id(name)
            if i is not None:
                return int(i)
        return None

    # -- using it --------------------------------------------------------------------------------
    def encode(self, text: str) -> list[int]:
        return list(self.tok.encode(text).ids)

    def unknown_parts(self, text: str) -> list[str]:
        """The pieces of ``text`` read as ``[UNK]`` (characters or words the tokenizer never saw), each once."""
        unk = self.token_id(UNK)
        if unk is None:
            return []
        enc = self.tok.encode(text)
        parts: list[str] = []
        for token, (start, end) in zip(enc.ids, enc.offsets, strict=True):
            if token == unk and text[start:end] not in parts:
                parts.append(text[start:end])
        return parts

    def encode_batch(self, texts: list[str], max_len: int) -> tuple[torch.Tensor, int]:
        """``N x max_len`` int64 ids padded with ``pad_id``, and how many texts were cut to fit."""
        out = torch.full((len(texts), max_len), self.pad_id, dtype=torch.long)
        cut = 0
        for i, enc in enumerate(self.tok.encode_batch(list(texts))):
            ids = enc.ids
            if len(ids) > max_len:
                ids, cut = ids[:max_len], cut + 1
            if ids:
                out[i, :len(ids)] = torch.tensor(ids, dtype=torch.long)
        return out, cut

    def decode(self, ids: Iterable[int], skip_special: bool = True) -> str:
        return self.tok.decode([int(i) for i in ids], skip_special_tokens=skip_special)
