"""Text classifiers: a node outputs a spec; ``train`` builds it from the tokenized data's facts.

Free of torch and transformers at import (the GUI lists steps without
them).  ``pretrained_text`` finds its model folder with
:mod:`engine.models.text_hub`, which only reads files.
"""

from __future__ import annotations

from typing import Any

from engine.context import StepContext
from engine.errors import UserInputError
from engine.models import ModelSpec
from engine.models.text_choices import POSITIONS, RNN_POOLINGS, TRANSFORMER_POOLINGS
from engine.models.text_hub import DEFAULT_MODEL
from engine.names import CachePolicy
from engine.params import Bool, Choice, Float, Int
from engine.params import Path as PathParam
from engine.ports import MODEL, Port
from engine.problems import Issue, param_field
from engine.steps.models import FREEZE_CHOICES
from engine.steps.registry import step

RNN_PARAMS = [
    Int("embed", 128, 8, 2048, "Size of each token's learned vector.", label="Embedding size"),
    Int("width", 64, 8, 4096, "Hidden units of each recurrent layer (per direction)."),
    Int("layers", 1, 1, 8, "Recurrent layers stacked on each other."),
    Bool("bidirectional", True, "Also read each text right to left; usually more accurate, twice the work."),
    Float("dropout", 0.5, 0.0, 0.9, "Fraction of units dropped during training to curb overfitting."),
    Choice("pooling", "mean_max", RNN_POOLINGS, "How the per-token states (and the word vectors beside them) "
           "become one vector: mean_max joins the average and the strongest signal over the text; last takes the "
           "final recurrent states only.", advanced=True),
]
# The defaults are the measured presets' (engine/text_presets.py, bench/text_baseline.py).
RNN_HELP = "Reads the token ids in order; padding after each text is masked, so any length up to max_len works."


def _rnn_spec(ctx: StepContext, arch: str) -> dict:
    return {"model": ModelSpec(arch, dict(ctx.params), node_id=ctx.node_id)}


@step("gru", title="GRU text classifier", category="models",
      description="A recurrent network (gated recurrent units) over token ids. " + RNN_HELP,
      outputs=[Port("model", MODEL)], params=RNN_PARAMS)
def gru(ctx: StepContext) -> dict:
    return _rnn_spec(ctx, "gru")


@step("lstm", title="LSTM text classifier", category="models",
      description="A recurrent network (long short-term memory) over token ids. " + RNN_HELP,
      outputs=[Port("model", MODEL)], params=RNN_PARAMS)
def lstm(ctx: StepContext) -> dict:
    return _rnn_spec(ctx, "lstm")


def _heads_divide_width(params: dict[str, Any]) -> list[Issue]:
    if params["width"] % params["heads"]:
        return [(param_field("heads"), f"{params['heads']} heads do not divide width {params['width']} — use a "
                 f"width that is a multiple of the heads, e.g. {params['heads'] * 32}")]
    return []


@step(
    "transformer",
    title="Transformer text classifier",
    category="models",
    description="A Transformer encoder trained from scratch on token ids: self-attention layers with padding "
    "masked, positions learned or sinusoidal, pooled into one vector per text.",
    outputs=[Port("model", MODEL)],
    check=_heads_divide_width,
    params=[
        Int("layers", 2, 1, 24, "Encoder blocks (attention + feed-forward) stacked on each other."),
        Int("heads", 4, 1, 32, "Attention heads per block; must divide width."),
        Int("width", 64, 16, 2048, "Size of each token's vector inside the model."),
        Int("ff_width", 128, 16, 8192, "Hidden units of each block's feed-forward layer.", label="Feed-forward width"),
        Choice("positions", "learned", POSITIONS, "How the model knows word order: learned position vectors, "
               "or fixed sine/cosine codes.", label="Longest text (positions)"),
        Choice("pooling", "mean", TRANSFORMER_POOLINGS, "One vector per text: the mean or the maximum over its "
               "tokens, or a learned [CLS] token's output."),
        Float("dropout", 0.3, 0.0, 0.9, "Fraction of units dropped during training to curb overfitting."),
    ],
)
def transformer(ctx: StepContext) -> dict:
    return {"model": ModelSpec("transformer", dict(ctx.params), node_id=ctx.node_id)}


def _model_problem(params: dict[str, Any]) -> list[Issue]:
    from engine.models.text_hub import model_problem

    problem = model_problem(str(params["model"]))
    return [(param_field("model"), problem)] if problem else []


def _model_fingerprint(params: dict[str, Any]) -> str:
    """A changed model folder (new weights, another config) invalidates the cached training."""
    from engine.cache import path_fingerprint
    from engine.models.text_hub import resolve

    folder = resolve(str(params["model"]))
    return path_fingerprint(folder) if folder is not None else "missing"


@step(
    "pretrained_text",
    title="Pretrained text model (Hugging Face)",
    category="models",
    description="Fine-tune a pretrained Hugging Face encoder (BERT, DistilBERT, RoBERTa, ...) from a local folder "
    "or the Hugging Face cache, with a new head for this task's classes. Tokenize with the same model's "
    "tokenizer (tokenize method pretrained) and train with a small learning rate (2e-5 to 5e-5, adamw).",
    outputs=[Port("model", MODEL)],
    params=[
        PathParam("model", DEFAULT_MODEL, "A model folder (config.json, model.safetensors, tokenizer.json), or a "
                  "model name found in ~/.cache/loom/models or the Hugging Face cache. Nothing is downloaded.",
                  mode="folder"),
        Choice("freeze", "none", FREEZE_CHOICES, "none fine-tunes everything (most accurate); backbone trains "
               "only the new head (fastest); last_n also trains the last N transformer layers (set train_blocks)."),
        Int("train_blocks", 2, 0, 48, "With freeze = last_n: how many of the last transformer layers stay "
            "trainable.", label="Blocks to train"),
    ],
    cache=CachePolicy.NONE,  # cheap to make; its weights are read when training starts, never kept in a cache
    fingerprint=_model_fingerprint,
    preflight=_model_problem,
)
def pretrained_text(ctx: StepContext) -> dict:
    from engine.models.text_hub import read_config, resolve
    from engine.models.text_pretrained import PretrainedWeights

    problem = _model_problem(ctx.params)  # the preflight looked; the folder may have changed since
    if problem:
        raise UserInputError(f"node '{ctx.node_id}', {problem[0][0]}: {problem[0][1]}")
    folder = resolve(str(ctx.params["model"]))
    assert folder is not None
    try:
        config = read_config(folder)
    except ValueError as exc:
        raise UserInputError(f"node '{ctx.node_id}', param 'model': {exc}") from None
    layers = config.get("num_hidden_layers", config.get("n_layers", "?"))
    ctx.log(f"will fine-tune {config['model_type']} ({layers} layers) from {folder}")
    ctx.report(model_folder=str(folder), model_type=config["model_type"])
    spec = ModelSpec("pretrained_text", {**ctx.params, "config": config}, source=PretrainedWeights(folder),
                     node_id=ctx.node_id)
    return {"model": spec}
