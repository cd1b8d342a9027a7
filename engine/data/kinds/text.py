"""Text: raw texts (port ``Texts``) and texts as token ids (port ``TextDataset``), predicted from text.

A text model's export carries its tokenizer (``tokenizer.json`` beside the
card), so ``loom predict`` tokenizes new text exactly as training did.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from engine.data.kinds import DataKind, PredictInputs, base_facts, register_kind
from engine.data.texts import RawTexts, TextDataset
from engine.errors import UserInputError
from engine.fileio import atomic_write_text
from engine.ports import TEXT_DATASET, TEXTS

TOKENIZER_FILE = "tokenizer.json"


def model_facts(data: TextDataset) -> dict[str, Any]:
    return {**base_facts(data), "vocab_size": data.vocab_size, "pad_id": int(data.pad_id)}


def input_spec(data: TextDataset) -> dict[str, Any]:
    return {"tokenizer_json": data.tokenizer_json, "tokenizer_method": data.tokenizer_method,
            "max_len": data.max_len, "pad_id": int(data.pad_id), "source": dict(data.source)}


def card_fields(facts: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    source = spec.get("source", {})
    return {"input": {
        "max_tokens": int(spec["max_len"]),
        "tokenizer": TOKENIZER_FILE,
        "tokenizer_method": spec.get("tokenizer_method", ""),
        "pad_id": int(spec.get("pad_id", 0)),
        "text_columns": list(source.get("text_columns", [])),
        "layout": "N x max_tokens int64 token ids, padded with pad_id after each text",
    }}


def export_files(spec: Mapping[str, Any], folder: Path) -> dict[str, str]:
    atomic_write_text(folder / TOKENIZER_FILE, str(spec["tokenizer_json"]))
    return {"tokenizer": TOKENIZER_FILE}


def example_input(facts: Mapping[str, Any], batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random token ids with random lengths (padding after each text's end), like real batches."""
    length, vocab, pad = int(facts["input_shape"][0]), int(facts["vocab_size"]), int(facts.get("pad_id", 0))
    ids = torch.randint(0, vocab, (batch, length), generator=generator)
    ids[ids == pad] = (pad + 1) % vocab
    ends = torch.randint(1, length + 1, (batch,), generator=generator)
    ids[torch.arange(length)[None, :] >= ends[:, None]] = pad
    return ids


def card_problem(card: Mapping[str, Any]) -> str:
    from engine.cardcheck import sibling_file_problem, whole_in

    spec = card.get("input")
    if not isinstance(spec, dict) or not whole_in(spec.get("max_tokens"), 1, 1_000_000):
        return "\"input\" does not give max_tokens (a whole number)"
    return sibling_file_problem("files.tokenizer", card.get("files", {}).get("tokenizer", TOKENIZER_FILE))


def read_inputs(args: list[str], card: Mapping[str, Any], options: Mapping[str, Any]) -> PredictInputs:
    """Texts given literally (``options['texts']``), CSV files (the card's text columns) or .txt files and folders."""
    from engine.data.textread import read_prediction_texts
    from engine.data.tokenizer import TextTokenizer

    folder = Path(options["folder"])
    try:
        tokenizer = TextTokenizer.from_json((folder / card["files"].get("tokenizer", TOKENIZER_FILE))
                                            .read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError) as exc:
        raise UserInputError(f"{folder}: the model's tokenizer cannot be read ({exc}) — export the model again") from None
    literal = [str(t) for t in options.get("texts") or []]
    empty = [i for i, t in enumerate(literal, 1) if not t.strip()]
    if empty:
        raise UserInputError(f"--text number {empty[0]} is empty — give the text to classify in quotes")
    names, texts, skipped = read_prediction_texts(args, literal, list(card["input"].get("text_columns") or []))
    names[:len(literal)] = literal  # a text given with --text is its own name in predictions.csv
    x, _ = tokenizer.encode_batch(texts, int(card["input"]["max_tokens"]))
    return PredictInputs(x, names, skipped, name_column="input")


def preview(ctx: Any, data: TextDataset) -> dict[str, Any]:
    """Vocabulary size, tokens per text (mean, longest) and a few texts split into their tokens.

    The examples also go to ``RUN/<node>/preview.txt``, shown as the node's text preview.
    """
    from engine.data.text_tokens import preview_text, token_examples

    lengths = data.lengths().float()
    facts: dict[str, Any] = {
        "vocab_size": data.vocab_size, "max_tokens": data.max_len,
        "mean_tokens": round(float(lengths.mean()), 1) if len(lengths) else 0.0,
        "longest_tokens": int(lengths.max()) if len(lengths) else 0,
    }
    facts["examples"] = token_examples(data)
    if facts["examples"]:
        text = preview_text(data, facts, facts["examples"])
        path = ctx.node_dir / "preview.txt"
        atomic_write_text(path, text)
        ctx.text("preview", text, path=path)
    return facts


def raw_facts(data: RawTexts) -> dict[str, Any]:
    raise ValueError("raw texts are not model input — put a 'tokenize' step between the texts and the model")


TEXT = register_kind(DataKind(
    name="text", port_type=TEXT_DATASET, dataset_type=TextDataset, from_state=TextDataset.from_state,
    model_facts=model_facts, input_spec=input_spec, card_fields=card_fields, read_inputs=read_inputs,
    preview=preview, card_problem=card_problem, export_files=export_files, example_input=example_input, noun="texts",
))
RAW_TEXTS = register_kind(DataKind(
    name="texts", port_type=TEXTS, dataset_type=RawTexts, from_state=RawTexts.from_state, model_facts=raw_facts,
    noun="texts",
))
