"""The text core: a tokenizer learned from the training split, token-id datasets that cache, train and export."""

from __future__ import annotations

import torch

from engine.data.datasets import dataset_from_state
from engine.data.kinds import kind_of
from engine.data.texts import RawTexts, TextDataset
from engine.data.tokenizer import METHODS, TextTokenizer

TEXTS = ["The cat sat on the mat.", "A dog barked at the postman!", "Cats purr; dogs bark.", "Héllo wörld — ünïcode.",
         "Loops, threads and files.", "Sockets and servers talk HTTP."] * 5


def test_every_method_encodes_and_decodes_unseen_text_with_padding_after_the_end():
    for method in METHODS:
        tok = TextTokenizer.from_json(TextTokenizer.train(TEXTS, method, 200).to_json(), method)
        x, cut = tok.encode_batch(["the cat", "a much longer sentence about dogs and cats and mats"], 8)
        assert x.shape == (2, 8) and x.dtype == torch.long and cut == 1
        assert (x[0] == tok.pad_id).any() and tok.pad_id == 0
        assert "cat" in tok.decode(x[0]).replace(" ", "").lower()


def test_a_text_dataset_caches_and_comes_back_with_its_tokenizer_and_facts():
    raw = RawTexts(TEXTS, torch.tensor([0, 1, 0, 1, 0, 1] * 5), ["a", "b"])
    tok = TextTokenizer.train(raw.texts_of("train"), "bpe", 300)
    x, _ = tok.encode_batch(raw.texts, 16)
    data = TextDataset(x=x, labels=raw.labels, classes=raw.classes, splits=raw.splits, texts=raw.texts,
                       tokenizer_json=tok.to_json(), tokenizer_method="bpe", pad_id=tok.pad_id)
    back = dataset_from_state(data.to_state())
    assert isinstance(back, TextDataset) and torch.equal(back.x, data.x) and back.texts == data.texts
    facts = kind_of(back).model_facts(back)
    assert facts == {"input_shape": (16,), "num_classes": 2, "vocab_size": tok.vocab_size, "pad_id": 0}
    assert back.tokenizer.decode(back.x[0]) == tok.decode(x[0])
    raw_back = dataset_from_state(raw.to_state())
    assert isinstance(raw_back, RawTexts) and raw_back.texts == TEXTS


def test_a_learned_tokenizer_is_the_same_in_every_process():
    import subprocess
    import sys

    code = ("from engine.data.tokenizer import TextTokenizer\n"
            "from engine.data.builtin_text import ui_languages\n"
            "import hashlib\n"
            "texts = ui_languages(60).texts_of('train')\n"
            "print(' '.join(hashlib.sha1(TextTokenizer.train(texts, m, 1500).to_json().encode()).hexdigest()\n"
            "               for m in ('bpe', 'char')))\n")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300).stdout
            for _ in range(2)}
    assert len(outs) == 1 and len(next(iter(outs)).split()) == 2
