"""Labelled texts made up in test code, tokenized like the ``tokenize`` step does (learned or a model's own).

Three topics; every text is filler words plus one or two words only its
topic uses, so a text classifier that reads words learns the task in a few
epochs.  ``tiny_bert_folder`` saves a randomly initialised miniature BERT with
a WordPiece tokenizer over the same words: a local "pretrained" model folder
made without any download.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import torch

from engine.data.texts import RawTexts, TextDataset
from engine.data.tokenizer import TextTokenizer
from engine.names import CachePolicy
from engine.params import Choice, Int, Seed, Text
from engine.ports import TEXT_DATASET, Port
from engine.steps.registry import step

TOPICS = {
    "sport": ["goal", "match", "referee", "striker", "league", "tennis", "stadium"],
    "cooking": ["recipe", "oven", "garlic", "simmer", "pastry", "flour", "sauce"],
    "computers": ["kernel", "compiler", "laptop", "python", "server", "keyboard", "memory"],
}
FILLER = ["the", "a", "today", "we", "saw", "really", "very", "new", "old", "and", "then", "it", "was", "about",
          "my", "friend", "said", "this", "that", "week", "good", "bad", "long", "story", "again", "of", "on"]
CLASSES = list(TOPICS)


def make_texts(n: int, seed: int) -> tuple[list[str], list[int]]:
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        label = i % len(CLASSES)
        words = [rng.choice(FILLER) for _ in range(rng.randint(5, 14))]
        for _ in range(rng.randint(1, 2)):
            words.insert(rng.randint(0, len(words)), rng.choice(TOPICS[CLASSES[label]]))
        texts.append(" ".join(words).capitalize() + ".")
        labels.append(label)
    return texts, labels


def text_dataset(n: int = 240, seed: int = 0, method: str = "bpe", folder: str = "", max_len: int = 24,
                 vocab_size: int = 400) -> TextDataset:
    """A tokenized dataset as the ``tokenize`` step makes it: the tokenizer learned from the training split only."""
    texts, labels = make_texts(n, seed)
    raw = RawTexts(texts, torch.tensor(labels), list(CLASSES), name="topics", source={"text_columns": ["text"]})
    raw.split("train")  # the seeded stratified split, made once
    if method == "pretrained":
        tokenizer = TextTokenizer.from_folder(Path(folder))
    else:
        tokenizer = TextTokenizer.train(raw.texts_of("train"), method, vocab_size)
    x, _ = tokenizer.encode_batch(texts, max_len)
    return TextDataset(x=x, labels=raw.labels, classes=raw.classes, name="topics", splits=raw.splits, texts=texts,
                       tokenizer_json=tokenizer.to_json(), tokenizer_method=tokenizer.method or method,
                       pad_id=tokenizer.pad_id, source=raw.source)


@step("toy_texts", title="Topics (test)", category="data", outputs=[Port("data", TEXT_DATASET)],
      cache=CachePolicy.DISK,
      params=[Int("n", 240, 6, 100000, "How many texts."), Int("max_len", 24, 2, 512, "Tokens per text."),
              Choice("method", "bpe", ("bpe", "char", "pretrained"), "Tokenizer (bpe and char are learned "
                     "the same way in every process)."),
              Text("folder", "", "A model folder, for method pretrained."), Seed()])
def toy_texts(ctx) -> dict:  # noqa: ANN001
    p = ctx.params
    return {"data": text_dataset(p["n"], p["seed"], p["method"], p["folder"], p["max_len"])}


def tiny_bert_folder(folder: Path, seed: int = 0) -> Path:
    """A miniature BERT (2 layers, width 32) with its own WordPiece tokenizer, saved like a downloaded model."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel

    words = sorted({w for ws in TOPICS.values() for w in ws} | set(FILLER) | {"."})
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words])}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.BertProcessing(("[SEP]", vocab["[SEP]"]), ("[CLS]", vocab["[CLS]"]))
    tok.decoder = decoders.WordPiece()
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64, pad_token_id=0)
    BertModel(config).save_pretrained(str(folder))
    assert json.loads((folder / "config.json").read_text())["model_type"] == "bert"
    return folder
