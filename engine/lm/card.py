"""Saving and loading a trained language model without pickles.

Three files in the training node's folder: ``language_model.safetensors``
(the weights), ``tokenizer.json`` (how text becomes ids and back) and
``language_model.json`` (the card: architecture, params, facts, the
tokenizer's file name, sampling defaults and a short history).  The card is
checked field by field against the model step's own param declarations
before anything is built, so a damaged card is one sentence, never a
traceback or a runaway allocation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.cardcheck import finite_number, sibling_file_problem, whole_in
from engine.errors import UserInputError
from engine.fileio import atomic_write, atomic_write_json, atomic_write_text, json_type, read_json
from engine.lm import LM_ARCHS, TrainedLanguageModel

CARD_NAME = "language_model.json"
WEIGHTS_NAME = "language_model.safetensors"
TOKENIZER_NAME = "tokenizer.json"
CARD_FORMAT = 1
ARTIFACT_KIND = "language_model"
DAMAGED = "the file is damaged; train the model again or restore the run folder"


def save_language_model(trained: TrainedLanguageModel, folder: Path, tokenizer: bool = True) -> Path:
    """Write weights + card (and the tokenizer unless ``tokenizer`` is False) into ``folder``; the card's path."""
    from safetensors.torch import save as st_save

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in trained.module.state_dict().items()}
    blob = st_save(tensors)
    atomic_write(folder / WEIGHTS_NAME, lambda f: f.write(blob))
    if tokenizer or not (folder / TOKENIZER_NAME).exists():
        atomic_write_text(folder / TOKENIZER_NAME, trained.tokenizer_json)
    card: dict[str, Any] = {
        "format": CARD_FORMAT,
        "kind": ARTIFACT_KIND,
        "arch": trained.spec.arch,
        "params": dict(trained.spec.params),
        "facts": dict(trained.facts),
        "tokenizer": TOKENIZER_NAME,
        "tokenizer_method": trained.tokenizer_method,
        "weights": WEIGHTS_NAME,
        "sampling": dict(trained.sampling),
        "history": trained.history,
    }
    path = folder / CARD_NAME
    atomic_write_json(path, card)
    return path


def load_language_model(card_path: Path, device: str = "cpu") -> TrainedLanguageModel:
    """Rebuild a language model from its card, tokenizer and safetensors weights (UserInputError naming the file
    that is wrong otherwise)."""
    from safetensors.torch import load_file

    from engine.data.tokenizer import TextTokenizer
    from engine.models import ModelSpec, build_model

    card_path = Path(card_path)
    if not card_path.exists():
        raise UserInputError(f"{card_path}: no language model card there — was the training step finished?")
    card = read_json(card_path, DAMAGED)
    problem = card_problem(card)
    if problem:
        raise UserInputError(f"{card_path}: not a usable language model card: {problem} — {DAMAGED}")
    folder = card_path.parent
    tok_path = folder / card.get("tokenizer", TOKENIZER_NAME)
    try:
        tokenizer_json = tok_path.read_text(encoding="utf-8")
        tokenizer = TextTokenizer.from_json(tokenizer_json, str(card.get("tokenizer_method", "")))
    except FileNotFoundError:
        raise UserInputError(f"{tok_path}: the language model's tokenizer is missing — restore the run folder") \
            from None
    except Exception as exc:  # noqa: BLE001 - not UTF-8, not JSON, not a tokenizer: the file is damaged
        detail = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise UserInputError(f"{tok_path}: not a usable tokenizer ({detail}) — {DAMAGED}") from None
    facts = dict(card["facts"])
    if tokenizer.vocab_size != facts["vocab_size"]:
        raise UserInputError(f"{card_path}: says the vocabulary has {facts['vocab_size']} tokens but {tok_path.name} "
                             f"has {tokenizer.vocab_size} — the two do not belong together; restore the run folder")
    spec = ModelSpec(card["arch"], dict(card.get("params", {})))
    try:
        module = build_model(spec, facts)
    except Exception as exc:  # noqa: BLE001 - any way a damaged card fails to build is the card's fault
        raise UserInputError(f"{card_path}: the model it describes cannot be built ({type(exc).__name__}: "
                             f"{str(exc)[:200]}) — {DAMAGED}") from None
    weights = folder / card.get("weights", WEIGHTS_NAME)
    try:
        module.load_state_dict(load_file(str(weights), device="cpu"))
    except FileNotFoundError:
        raise UserInputError(f"{weights}: the language model's weights file is missing") from None
    except Exception as exc:  # wrong shapes, a corrupt file
        raise UserInputError(f"{weights}: cannot load the language model's weights ({type(exc).__name__}: "
                             f"{str(exc)[:200]})") from None
    module.to(device).eval()
    return TrainedLanguageModel(spec=spec, module=module, facts=facts, tokenizer_json=tokenizer_json,
                                tokenizer_method=str(card.get("tokenizer_method", "")),
                                sampling=dict(card.get("sampling", {})), history=dict(card.get("history", {})))


def card_problem(card: dict[str, Any]) -> str:
    """What makes a parsed card unusable ('' when it is sound), checked before anything is built."""
    from engine.params import ParamError
    from engine.steps.registry import get_step

    arch = card.get("arch")
    if arch not in LM_ARCHS:
        return f"\"arch\" is {json_type(arch)}, not one of {', '.join(LM_ARCHS)}"
    params = card.get("params", {})
    if not isinstance(params, dict):
        return f"\"params\" is {json_type(params)}, not an object"
    declared = get_step(arch)
    for name, value in params.items():
        param = declared.param(name) if declared is not None else None
        if param is not None:
            try:
                param.check(value)
            except ParamError as exc:
                return f"\"params.{name}\": {str(exc).split(' — ')[0]}"
    facts = card.get("facts")
    if not (isinstance(facts, dict) and whole_in(facts.get("vocab_size"), 2, 10_000_000)
            and whole_in(facts.get("block_size"), 1, 1_000_000)):
        return f"\"facts\" is {json_type(facts)}, not {{\"vocab_size\": 2 or more, \"block_size\": 1 or more}}"
    for field in ("tokenizer", "weights"):
        problem = sibling_file_problem(field, card.get(field, TOKENIZER_NAME if field == "tokenizer" else WEIGHTS_NAME))
        if problem:
            return problem
    sampling = card.get("sampling", {})
    if not (isinstance(sampling, dict) and finite_number(sampling.get("temperature", 1.0))
            and whole_in(sampling.get("top_k", 0), 0, 10_000_000)):
        return f"\"sampling\" is {json_type(sampling)}, not {{\"temperature\": a number, \"top_k\": a whole number}}"
    if not isinstance(card.get("history", {}), dict):
        return f"\"history\" is {json_type(card.get('history'))}, not an object"
    return ""
