"""Test-only text for language models, until the text data steps land: a tiny corpus and the Python docs.

``lm_corpus`` makes a ``TextDataset`` the way the ``tokenize`` step will
(a tokenizer learned from the training split, ``encode_batch``), from a
small repetitive corpus a model learns in a few dozen steps, or from the
text of ``pydoc_data.topics`` (the built-in ``python_docs`` corpus).
"""

from __future__ import annotations

from pathlib import Path

from engine.data.texts import RawTexts, TextDataset
from engine.data.tokenizer import TextTokenizer
from engine.params import Choice, Int
from engine.ports import TEXT_DATASET, Port
from engine.steps.registry import step
from engine.workflow import Workflow

ROOT = Path(__file__).resolve().parents[1]

# Short, regular sentences: a tiny model picks up their words within a few dozen steps.
TINY = [f"the {a} {v} the {b}." for a in ("cat", "dog", "bird", "fox") for v in ("sees", "likes", "chases")
        for b in ("mat", "ball", "tree", "moon")] * 3


def corpus_texts(name: str) -> list[str]:
    if name == "python_docs":
        from pydoc_data.topics import topics

        return [text for _key, text in sorted(topics.items())]
    return list(TINY)


def text_dataset(texts: list[str], method: str = "char", vocab_size: int = 300, max_len: int = 64) -> TextDataset:
    """Texts as the tokenize step makes them: tokenizer learned from the training split, ids padded."""
    raw = RawTexts(texts, None, [], name="corpus")
    tokenizer = TextTokenizer.train(raw.texts_of("train"), method, vocab_size)
    x, _ = tokenizer.encode_batch(raw.texts, max_len)
    return TextDataset(x=x, labels=None, classes=[], name="corpus", splits=raw.splits, texts=raw.texts,
                       tokenizer_json=tokenizer.to_json(), tokenizer_method=method, pad_id=tokenizer.pad_id)


@step("lm_corpus", title="Corpus (test)", category="data", outputs=[Port("data", TEXT_DATASET)],
      params=[Choice("corpus", "tiny", ("tiny", "python_docs"), "Which text."),
              Choice("method", "char", ("char", "bpe"), "Tokenizer."),
              Int("vocab_size", 300, 10, 100000, "Tokenizer vocabulary."),
              Int("max_len", 64, 2, 100000, "Tokens kept per text in the dataset's ids.")])
def lm_corpus(ctx) -> dict:  # noqa: ANN001
    p = ctx.params
    return {"data": text_dataset(corpus_texts(p["corpus"]), p["method"], p["vocab_size"], p["max_len"])}


def lm_flow(model: str = "gpt", model_params: dict | None = None, corpus: str = "tiny", method: str = "char",
            generate: bool = False, **train: object) -> Workflow:
    """data -> model -> train_lm (-> generate_text), shrunk for a unit test unless told otherwise."""
    small = {"gpt": {"layers": 1, "heads": 2, "width": 32, "block_size": 16},
             "gru_lm": {"embed": 16, "width": 32, "layers": 1, "block_size": 16}}[model]
    nodes = [
        {"id": "data", "type": "lm_corpus", "params": {"corpus": corpus, "method": method}},
        {"id": "model", "type": model, "params": {**small, **(model_params or {})}},
        {"id": "train", "type": "train_lm", "params": {"epochs": 2, "batch_size": 8, "sample_every": 5,
                                                      "sample_tokens": 20, "warmup_steps": 5, **train}},
    ]
    links = [{"source": "data.data", "target": "train.data"}, {"source": "model.model", "target": "train.model"}]
    if generate:
        nodes.append({"id": "generate", "type": "generate_text", "params": {"prompt": "the cat", "n": 3,
                                                                          "max_tokens": 12}})
        links.append({"source": "train.model", "target": "generate.model"})
    return Workflow.from_json({"schema": 1, "name": "lm", "nodes": nodes, "links": links})


def steps_per_epoch(wf: Workflow) -> int:
    """Blocks of the training split / batch size, computed as train_lm does."""
    from engine.lm.blocks import cut_blocks, token_stream

    p = wf.node("data").params
    data = text_dataset(corpus_texts(p.get("corpus", "tiny")), p.get("method", "char"), p.get("vocab_size", 300))
    blocks = cut_blocks(token_stream(data, "train"), wf.node("model").params["block_size"])
    return -(-len(blocks) // wf.node("train").params["batch_size"])
