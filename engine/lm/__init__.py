"""Language models that write: the values that carry them between steps.

A ``LanguageModel`` port carries a :class:`engine.models.ModelSpec` whose
architecture is one of :data:`LM_ARCHS` (built by the same ``@architecture``
registry as classifiers, from the facts ``vocab_size`` and ``block_size``).
A ``TrainedLanguageModel`` port carries a :class:`TrainedLanguageModel`: the
fitted module, its tokenizer and how it likes to be sampled.  On disk it is a
safetensors file, a small JSON card and the tokenizer (:mod:`engine.lm.card`),
so ``loom generate`` rebuilds it without unpickling anything.

This module stays free of torch at import: step declarations and the prompt
parser are read while the GUI checks a form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

    from engine.data.tokenizer import TextTokenizer
    from engine.models import ModelSpec

LM_ARCHS = ("gpt", "gru_lm")
# How samples are drawn unless told otherwise (the train_lm step's defaults).
DEFAULT_PROMPTS = "The|In Python|A list"  # beginnings the built-in corpus (the Python docs) knows well
DEFAULT_TEMPERATURE = 0.8
DEFAULT_TOP_K = 40
PROMPT_SEPARATOR = "|"


def lm_facts(vocab_size: int, block_size: int) -> dict[str, int]:
    """What a language-model builder needs: the tokenizer's vocabulary and the context length."""
    return {"vocab_size": int(vocab_size), "block_size": int(block_size)}


def parse_prompts(text: str) -> list[str]:
    """``'The|def |A list'`` -> the prompts (each stripped of surrounding blanks); at least one, none empty.

    Torch-free: validation calls it while the user types.
    """
    parts = [part.strip() for part in str(text).split(PROMPT_SEPARATOR)]
    if not any(parts):
        raise ValueError("give at least one prompt, e.g. The|In Python|A list (prompts are separated by |)")
    if not all(parts):
        raise ValueError(f"{text!r} has an empty prompt — remove the extra | or write a prompt between them")
    return parts


@dataclass
class TrainedLanguageModel:
    """A fitted language model and what writing with it needs.

    ``facts`` (``vocab_size``, ``block_size``) plus the spec rebuild the
    module; ``tokenizer_json`` turns prompts into ids and ids back into text;
    ``sampling`` holds the temperature and top-k it was trained to show.
    """

    spec: ModelSpec
    module: nn.Module
    facts: dict[str, Any]
    tokenizer_json: str
    tokenizer_method: str = ""
    sampling: dict[str, Any] = field(default_factory=lambda: {"temperature": DEFAULT_TEMPERATURE,
                                                               "top_k": DEFAULT_TOP_K})
    history: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def tokenizer(self) -> TextTokenizer:
        from engine.data.tokenizer import TextTokenizer

        return TextTokenizer.from_json(self.tokenizer_json, self.tokenizer_method)

    @property
    def arch(self) -> str:
        return self.spec.arch

    def unseen_in(self, prompt: str) -> str:
        """A warning when the prompt holds what the model never saw (it reads those as one unknown token), or ''."""
        parts = self.tokenizer.unknown_parts(prompt)
        if not parts:
            return ""
        shown = " ".join(repr(p) for p in parts[:8]) + (" …" if len(parts) > 8 else "")
        return (f"the prompt holds {len(parts)} piece(s) the model never saw in its training texts ({shown}): it "
                "reads each as an unknown token, so the continuation may ignore them")

    def write(self, prompt: str, n: int, max_tokens: int, temperature: float | None = None,
              top_k: int | None = None, seed: int = 0) -> list[str]:
        """``n`` continuations of ``prompt`` (each starting with it); the same seed gives the same texts."""
        from engine.lm.sampling import continue_prompt

        return continue_prompt(
            self.module, self.tokenizer, prompt, n=n, max_tokens=max_tokens,
            temperature=self.sampling.get("temperature", DEFAULT_TEMPERATURE) if temperature is None else temperature,
            top_k=int(self.sampling.get("top_k", DEFAULT_TOP_K)) if top_k is None else top_k, seed=seed)
