"""Language models that write: the gpt and gru_lm architectures, train_lm with live text samples, generate_text."""

from __future__ import annotations

from engine.context import StepContext
from engine.device import DEVICE_CHOICES
from engine.lm import DEFAULT_PROMPTS, DEFAULT_TEMPERATURE, DEFAULT_TOP_K, parse_prompts
from engine.models import ModelSpec
from engine.names import CachePolicy
from engine.params import Choice, Float, Int, Seed, Text
from engine.ports import LANGUAGE_MODEL, TEXT_DATASET, TRAINED_LANGUAGE_MODEL, Port
from engine.problems import Issue, param_field
from engine.steps.registry import step
from engine.steps.train import speed_params

_DROPOUT_HELP = ("Fraction of units dropped while training. 0 learns fastest; raise it to 0.1-0.2 when a long run on "
                 "a small corpus starts memorising it (validation perplexity rises while the training loss falls).")
_TEMPERATURE_HELP = ("How adventurous the writing is: below 1 safer and more repetitive, above 1 wilder; "
                     "0 = always the most likely token.")
_TOP_K_HELP = "Draw each token from the K most likely only (0 = from all)."


def _heads_divide_width(params: dict) -> list[Issue]:
    width, heads = params.get("width", 128), params.get("heads", 4)
    if isinstance(width, int) and isinstance(heads, int) and heads > 0 and width % heads:
        return [(param_field("heads"), f"width {width} is not a multiple of {heads} heads — use e.g. "
                 f"{max(1, width // heads) * heads} wide or a number of heads that divides {width}")]
    return []


@step(
    "gpt",
    title="GPT (small Transformer)",
    category="models",
    description="Decoder-only Transformer language model (GPT-style): causal self-attention, tied embeddings.",
    outputs=[Port("model", LANGUAGE_MODEL)],
    params=[
        Int("layers", 4, 1, 32, "Transformer blocks. More = better text, slower training."),
        Int("heads", 4, 1, 64, "Attention heads per block; must divide the width."),
        Int("width", 128, 8, 2048, "Size of each token's vector inside the model."),
        Int("block_size", 64, 4, 8192, "Context length: how many tokens the model sees at once (and trains on). "
            "Longer = more coherent text, slower steps.", unit="tokens", label="Context length"),
        Float("dropout", 0.0, 0.0, 0.9, _DROPOUT_HELP),
    ],
    check=_heads_divide_width,
)
def gpt(ctx: StepContext) -> dict:
    return {"model": ModelSpec("gpt", dict(ctx.params), node_id=ctx.node_id)}


@step(
    "gru_lm",
    title="GRU language model",
    category="models",
    description="Recurrent language model; with a char tokenizer, the classic character-level RNN.",
    outputs=[Port("model", LANGUAGE_MODEL)],
    params=[
        Int("embed", 64, 4, 4096, "Size of each token's embedding.", label="Embedding size"),
        Int("width", 256, 8, 4096, "GRU hidden size."),
        Int("layers", 2, 1, 16, "Stacked GRU layers."),
        Int("block_size", 64, 4, 8192, "Tokens per training sequence (backpropagation through time); "
            "when writing, the model remembers everything it wrote.", unit="tokens", label="Context length"),
        Float("dropout", 0.0, 0.0, 0.9, _DROPOUT_HELP),
    ],
)
def gru_lm(ctx: StepContext) -> dict:
    return {"model": ModelSpec("gru_lm", dict(ctx.params), node_id=ctx.node_id)}


def _sampling_params() -> list:
    return [
        Float("temperature", DEFAULT_TEMPERATURE, 0.0, 5.0, _TEMPERATURE_HELP),
        Int("top_k", DEFAULT_TOP_K, 0, 1000000, _TOP_K_HELP, label="Top-k sampling"),
    ]


@step(
    "train_lm",
    title="Train language model",
    category="train",
    description="Next-token training on the texts with live text samples from step 0; validation perplexity "
                "before training and after every epoch.",
    inputs=[Port("data", TEXT_DATASET, "Tokenized texts (the training split is learned, validation measured)"),
            Port("model", LANGUAGE_MODEL, "A GPT or GRU language model")],
    outputs=[Port("model", TRAINED_LANGUAGE_MODEL)],
    params=[
        Int("epochs", 20, 1, 100000, "Passes over the training texts."),
        Float("time_budget", 0.0, 0.0, 10080.0, "Stop gracefully after this many minutes of training, with samples "
              "and a checkpoint; 0 = no limit (the epochs decide).", unit="min"),
        Int("batch_size", 32, 1, 4096, "Blocks of text per optimisation step."),
        Float("lr", 2e-3, 1e-7, 1.0, "Learning rate (AdamW), reached after the warm-up.", label="Learning rate"),
        Text("prompts", DEFAULT_PROMPTS, "Beginnings the live samples continue, separated by |.",
             parse=parse_prompts),
        *_sampling_params(),
        Int("sample_tokens", 200, 1, 10000, "Tokens written per live sample.", unit="tokens",
            label="Tokens per sample"),
        Int("sample_every", 100, 1, 1000000, "Write the live samples every N steps (also at step 0).", unit="steps",
            label="Write a sample every"),
        Seed(),
        Int("warmup_steps", 100, 0, 1000000, "Steps over which the learning rate rises from 0.", unit="steps",
            advanced=True),
        Float("weight_decay", 0.1, 0.0, 1.0, "AdamW weight decay on weight matrices.", advanced=True),
        Float("grad_clip", 1.0, 0.0, 1000.0, "Clip the gradient norm to this (0 = off).", advanced=True,
              label="Gradient clipping"),
        Int("checkpoint_every", 500, 1, 10000000, "Save a checkpoint every N steps (and at every epoch end).",
            unit="steps", advanced=True),
        Choice("device", "auto", DEVICE_CHOICES, "auto = the run's device (GPU when there is one).", advanced=True),
        *speed_params(),
    ],
)
def train_lm(ctx: StepContext) -> dict:
    from engine.training.language import LMConfig, fit_language_model
    from engine.training.loop import LoopConfig

    if ctx.params["device"] != "auto":
        from engine.device import select_device

        ctx.device, reason = select_device(ctx.params["device"])
        ctx.log(f"device for this step: {ctx.device} ({reason})")
    trained = fit_language_model(ctx, ctx.inputs["data"], ctx.inputs["model"], LMConfig.from_params(ctx.params),
                                 LoopConfig.from_params(ctx.params))
    ctx.report(**trained.history)
    return {"model": trained}


@step(
    "generate_text",
    title="Generate text",
    category="generate",
    description="Writes continuations of a prompt with a trained language model, to a text file.",
    inputs=[Port("model", TRAINED_LANGUAGE_MODEL)],
    params=[
        Text("prompt", "The", "The text to continue.", required=True),
        Int("n", 5, 1, 1000, "How many continuations.", label="Number of texts"),
        Int("max_tokens", 200, 1, 100000, "Tokens written per continuation at most (fewer when the model ends "
            "the text).", unit="tokens", label="Longest continuation"),
        *_sampling_params(),
        Seed(),
    ],
    cache=CachePolicy.NONE,
)
def generate_text(ctx: StepContext) -> dict:
    from engine.fileio import atomic_write_text
    from engine.lm.sampling import join_samples

    p, trained = ctx.params, ctx.inputs["model"]
    unseen = trained.unseen_in(p["prompt"])
    if unseen:
        ctx.log(unseen, "warning")
    texts = trained.write(p["prompt"], p["n"], p["max_tokens"], p["temperature"], p["top_k"], p["seed"])
    text = join_samples(texts)
    path = ctx.node_dir / "generated.txt"
    atomic_write_text(path, text)
    ctx.text("generated", text, path=path)
    ctx.log(f"wrote {len(texts)} continuation(s) of {p['prompt']!r} to {path.relative_to(ctx.run_dir)}")
    ctx.report(texts=len(texts), characters=sum(len(t) for t in texts))
    return {}
