"""Language-model training: next-token prediction on a token stream, as an algorithm of the loop driver.

The training split's texts become one token stream cut into blocks
(:mod:`engine.lm.blocks`), batched by the driver's seeded permutation, so a
resumed run sees exactly the batches it would have.  Each step is AdamW on
the mean next-token cross-entropy (``train_loss``), after a linear warm-up
of the learning rate (computed from the step count, so it resumes exactly)
and with the gradient norm clipped.  Validation cross-entropy and
perplexity (``val_loss``, ``val_perplexity``) are measured on the untrained
model at step 0 and after every epoch.  Live samples (continuations of fixed
prompts from a fixed seed) appear at step 0 — before any training, so the
first one shows within seconds — every ``sample_every`` steps, on Stop and
at the end; the weights, card and tokenizer are saved next to every
checkpoint, so a stopped run can already ``loom generate``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812

from engine.context import StepContext
from engine.data.texts import TextDataset
from engine.errors import UserInputError
from engine.lm import (
    DEFAULT_PROMPTS,
    DEFAULT_TEMPERATURE,
    DEFAULT_TOP_K,
    TrainedLanguageModel,
    lm_facts,
    parse_prompts,
)
from engine.lm.blocks import block_dataset, cut_blocks, token_stream
from engine.lm.card import ARTIFACT_KIND, save_language_model
from engine.lm.live import TextSampleWriter
from engine.lm.sampling import join_samples
from engine.models import ModelSpec, build_model
from engine.training.algorithm import Algorithm, Outcome
from engine.training.common import FromParams, adam
from engine.training.loop import LoopConfig, TrainingLoop

DEFAULT_BLOCK_SIZE = 64
MAX_VAL_TOKENS = 32_768  # validation is measured on at most this many tokens, evenly spread (seconds on a CPU)


@dataclass
class LMConfig(FromParams):
    """The language model's own training settings (the loop's are in :class:`LoopConfig`)."""

    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 0.1
    warmup_steps: int = 100
    grad_clip: float = 1.0
    prompts: str = DEFAULT_PROMPTS
    temperature: float = DEFAULT_TEMPERATURE
    top_k: int = DEFAULT_TOP_K
    sample_tokens: int = 200
    sample_every: int = 100


def fit_language_model(ctx: StepContext, data: TextDataset, spec: ModelSpec, cfg: LMConfig,
                       loop: LoopConfig) -> TrainedLanguageModel:
    return TrainingLoop(ctx, LanguageModelTraining(data, spec, cfg, ctx.node_id), loop).run()


def perplexity(loss: float) -> float:
    """exp(cross-entropy in nats): the number of tokens the model is as unsure as choosing among."""
    return math.exp(min(loss, 700.0))


class LanguageModelTraining(Algorithm):
    metrics = ("train_loss",)

    def __init__(self, data: TextDataset, spec: ModelSpec, cfg: LMConfig, node_id: str) -> None:
        if not isinstance(data, TextDataset):
            raise UserInputError(f"node '{node_id}': a language model learns from texts — connect a 'tokenize' step")
        self.spec, self.cfg, self.text_data = spec, cfg, data
        self.block_size = int(spec.params.get("block_size", DEFAULT_BLOCK_SIZE))
        self.prompts = parse_prompts(cfg.prompts)
        stream = token_stream(data, "train")
        if len(stream) < self.block_size + 1:
            raise UserInputError(
                f"node '{node_id}': the training texts make {len(stream)} tokens, but block_size "
                f"{self.block_size} needs at least {self.block_size + 1} — lower block_size on the model node or "
                "give it more text")
        self.data = block_dataset(cut_blocks(stream, self.block_size))
        self.batch_size, self.train_tokens = cfg.batch_size, len(stream)
        val_stream = token_stream(data, "val")
        self.val_blocks = cut_blocks(val_stream, self.block_size, max(1, MAX_VAL_TOKENS // self.block_size))
        self.val_tokens = int(self.val_blocks[:, 1:].numel()) if len(self.val_blocks) else 0
        self.scores: dict[str, float] = {}  # first and latest validation scores, for the history

    # -- setup -------------------------------------------------------------------------
    def setup(self, loop: TrainingLoop) -> None:
        cfg, device, data = self.cfg, loop.device, self.text_data
        facts = lm_facts(data.vocab_size, self.block_size)
        try:
            model = build_model(self.spec, facts)
        except ValueError as exc:
            raise UserInputError(f"node '{loop.ctx.node_id}': {exc}") from None
        self.model = model.to(device).train()
        decay = [p for p in model.parameters() if p.dim() >= 2]  # matrices and embeddings; not biases or norms
        rest = [p for p in model.parameters() if p.dim() < 2]
        self.optimizer = adam([{"params": decay, "weight_decay": cfg.weight_decay},
                               {"params": rest, "weight_decay": 0.0}], cfg.lr, (0.9, 0.99), decoupled=True)
        self.clip = (list(model.parameters()), cfg.grad_clip) if cfg.grad_clip > 0 else None
        self.trained = TrainedLanguageModel(self.spec, model, facts, data.tokenizer_json, data.tokenizer_method,
                                            sampling={"temperature": cfg.temperature, "top_k": cfg.top_k})
        self.tokenizer_saved = False
        seed = loop.config.seed
        self.writer = TextSampleWriter(loop.ctx, lambda: join_samples([
            self.trained.write(prompt, 1, cfg.sample_tokens, seed=seed + 1 + i)[0]
            for i, prompt in enumerate(self.prompts)]))

    def describe(self) -> str:
        size = sum(p.numel() for p in self.model.parameters())
        val = f"{self.val_tokens} validation tokens" if self.val_tokens else "no validation texts"
        return (f"training {self.spec.arch} ({size / 1e6:.2f}M parameters, {self.text_data.vocab_size} tokens in the "
                f"vocabulary) on {self.train_tokens} tokens in {len(self.data)} blocks of {self.block_size}, {val}")

    def objects(self) -> dict[str, Any]:
        return {"model": self.model, "optimizer": self.optimizer}

    def state(self) -> dict[str, Any]:
        return {"scores": dict(self.scores)}

    def load_state(self, state: dict[str, Any]) -> None:
        self.scores = {k: float(v) for k, v in (state.get("scores") or {}).items()}

    # -- training ------------------------------------------------------------------------
    def train_step(self, batch: tuple[torch.Tensor, Any]) -> tuple[torch.Tensor]:
        blocks = batch[0]
        inputs, targets = blocks[:, :-1], blocks[:, 1:]
        cfg, precision = self.cfg, self.loop.precision
        warm = min(1.0, (self.loop.position.step + 1) / cfg.warmup_steps) if cfg.warmup_steps > 0 else 1.0
        for group in self.optimizer.param_groups:
            group["lr"] = cfg.lr * warm
        with precision.autocast():
            logits = self.model(inputs)
        loss = F.cross_entropy(logits.float().flatten(0, 1), targets.flatten())
        precision.optimize(loss, self.optimizer, self.clip)
        return (loss,)

    @torch.no_grad()
    def validation_loss(self) -> float | None:
        """Mean next-token cross-entropy over the validation blocks (None when there are none)."""
        if not self.val_tokens:
            return None
        model, device = self.model, self.loop.device
        model.eval()
        total = 0.0
        try:
            for start in range(0, len(self.val_blocks), self.batch_size * 2):
                blocks = self.val_blocks[start:start + self.batch_size * 2].to(device)
                with self.loop.precision.autocast():
                    logits = model(blocks[:, :-1])
                total += float(F.cross_entropy(logits.float().flatten(0, 1), blocks[:, 1:].flatten(), reduction="sum"))
        finally:
            model.train()
        return total / self.val_tokens

    def validate(self) -> None:
        loss = self.validation_loss()
        if loss is None:
            return
        self.loop.metric("val_loss", loss)
        self.loop.metric("val_perplexity", perplexity(loss))
        self.scores.setdefault("val_perplexity_start", perplexity(loss))
        self.scores.update(val_loss=loss, val_perplexity=perplexity(loss))

    # -- hooks ----------------------------------------------------------------------------
    def on_start(self, resumed: bool) -> None:
        step = self.loop.position.step
        if not resumed or not self.writer.exists(step):
            self.writer.write(step)  # the first sample, before any training
        if not resumed:
            if not self.val_tokens:
                self.loop.log("no validation texts: perplexity is not measured (give the data a validation split)",
                              "warning")
            self.validate()

    def on_step_end(self, step: int) -> None:
        if step % self.cfg.sample_every == 0:
            self.writer.write(step)

    def on_epoch_end(self, epoch: int, step: int, complete: bool) -> str:
        self.validate()
        return ""

    def on_stop(self, step: int) -> None:
        if not self.writer.exists(step):  # stopped right after a sample: the same text twice says nothing
            self.writer.write(step)

    def on_train_end(self, outcome: Outcome) -> None:
        step = outcome.position.step
        if not self.writer.exists(step):
            self.writer.write(step)
        self.model.eval()
        last = {name: round(value, 5) for name, value in self.loop.last_values.items()}
        scores = {name: round(value, 4) for name, value in self.scores.items()}
        self.trained.history = {"steps": step, "epochs": self.loop.config.epochs, "stopped": outcome.reason,
                                **last, **scores}

    def on_checkpoint(self, final: bool) -> None:
        ctx = self.loop.ctx
        card = save_language_model(self.trained, ctx.node_dir, tokenizer=not self.tokenizer_saved)
        self.tokenizer_saved = True
        ctx.artifact(ARTIFACT_KIND, card)

    def result(self, outcome: Outcome) -> TrainedLanguageModel:
        return self.trained
