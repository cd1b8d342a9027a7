"""Classifier architectures. A model node outputs a spec; training builds it."""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Any

from engine.context import StepContext
from engine.errors import UserInputError
from engine.models import ModelSpec
from engine.params import Choice, Float, Int, Text
from engine.params import Path as PathParam
from engine.ports import MODEL, TRAINED_MODEL, Port
from engine.problems import Issue, param_field
from engine.steps.registry import step
from engine.textparams import parse_hidden

FREEZE_CHOICES = ("none", "backbone", "last_n")  # engine.models.weights.FREEZE_CHOICES, without importing torch


@step(
    "mlp",
    title="MLP classifier",
    category="models",
    description="A fully connected network for tables or small flattened images.",
    outputs=[Port("model", MODEL)],
    params=[
        Text("hidden", "256,128", "Sizes of the hidden layers, comma-separated (e.g. 256,128); empty = none.",
             parse=parse_hidden, label="Hidden layers"),
        Float("dropout", 0.1, 0.0, 0.9, "Fraction of units dropped during training to curb overfitting."),
    ],
)
def mlp(ctx: StepContext) -> dict:
    return {"model": ModelSpec("mlp", dict(ctx.params))}  # ``hidden`` was parsed when the workflow was validated


WEIGHTS_HELP = (
    "Starting weights: none (random), imagenet (ResNet-18 only; downloaded once into the torch hub cache), "
    "a weights file (.safetensors or a weights-only .pt), or a previous Loom run folder (transfer learning). "
    "The head always starts fresh to fit this task's classes."
)
FREEZE_HELP = (
    "none trains everything; backbone trains only the new head; last_n also trains the last N blocks "
    "(set train_blocks)."
)


def _weights_fingerprint(params: dict) -> str:
    """Changing the weights file or source run invalidates the cached training."""
    from engine.cache import path_fingerprint

    source = _weights_file(params)
    return path_fingerprint(source) if source else ""


PRETRAINED_PORT = Port(
    "pretrained", TRAINED_MODEL, "Optional: a model trained earlier in this workflow to start from (transfer "
    "learning); overrides the weights param", optional=True,
)


def _spec(ctx: StepContext, arch: str) -> ModelSpec:
    """The model spec, carrying the connected pretrained model's weights (on the CPU) if any."""
    missing = _missing_weights(ctx.params)  # the preflight read the file; it may have gone since
    if missing:
        raise UserInputError(f"node '{ctx.node_id}', {missing[0][0]}: {missing[0][1]}")
    upstream = ctx.inputs.get("pretrained")
    source = None
    if upstream is not None:
        source = {k: v.detach().cpu().clone() for k, v in upstream.module.state_dict().items()}
        ctx.log(f"will start from the connected {upstream.spec.arch} trained on {len(upstream.classes)} classes")
    return ModelSpec(arch, dict(ctx.params), source=source, node_id=ctx.node_id)


def _weights_file(params: dict[str, Any]) -> str:
    """The weights param when it names a file or folder ('' for none or imagenet)."""
    source = str(params.get("weights", "none")).strip()
    return "" if source.lower() in ("none", "imagenet", "") else source


def _missing_weights(params: dict[str, Any]) -> list[Issue]:
    source = _weights_file(params)
    try:
        there = not source or FsPath(source).expanduser().exists()
    except OSError:  # a name the system refuses (too long...)
        there = False
    if not there:
        return [(param_field("weights"), f"{source} does not exist — give none, imagenet, a weights file or a "
                 "Loom run folder")]
    return []


def _weights_issues(params: dict[str, Any]) -> list[Issue]:
    """A weights file or run folder that is missing, broken or would need unpickling (read safely, never run)."""
    missing = _missing_weights(params)
    if missing or not _weights_file(params):
        return missing
    from engine.models.weights import weights_problem  # imports torch: only when there is a file to check

    problem = weights_problem(_weights_file(params))
    return [(param_field("weights"), problem)] if problem else []


def _no_imagenet(params: dict[str, Any]) -> list[Issue]:
    if str(params.get("weights", "")).strip().lower() == "imagenet":
        return [(param_field("weights"), "ImageNet weights exist only for resnet18 — use none, a weights file or a "
                 "Loom run folder, or pick the resnet18 model")]
    return []


@step(
    "cnn",
    title="CNN classifier",
    category="models",
    description="A small convolutional network sized from the image: conv stages halve the image down to ~4 px.",
    inputs=[PRETRAINED_PORT],
    outputs=[Port("model", MODEL)],
    params=[
        Int("width", 32, 4, 256, "Channels of the first stage; each further stage doubles them."),
        Int("stages", 0, 0, 6, "Number of conv+pool stages; 0 picks enough to reach ~4 px."),
        Float("dropout", 0.1, 0.0, 0.9, "Dropout before the final layer."),
        PathParam("weights", "none", WEIGHTS_HELP, mode="any", advanced=True),
        Choice("freeze", "none", FREEZE_CHOICES, FREEZE_HELP, advanced=True),
        Int("train_blocks", 1, 0, 6, "With freeze = last_n: how many of the last stages stay trainable.",
            advanced=True, label="Blocks to train"),
    ],
    fingerprint=_weights_fingerprint,
    check=_no_imagenet,
    preflight=_weights_issues,
)
def cnn(ctx: StepContext) -> dict:
    return {"model": _spec(ctx, "cnn")}


@step(
    "resnet18",
    title="ResNet-18",
    category="models",
    description="torchvision's ResNet-18, from scratch, ImageNet-pretrained or transferred from a previous run.",
    inputs=[PRETRAINED_PORT],
    outputs=[Port("model", MODEL)],
    params=[
        PathParam("weights", "none", WEIGHTS_HELP, mode="any"),
        Choice("freeze", "none", FREEZE_CHOICES, FREEZE_HELP),
        Int("train_blocks", 1, 0, 5, "With freeze = last_n: how many of the last residual stages stay trainable.",
            label="Blocks to train"),
        Int("input_size", 0, 0, 512, "Resize images to this side inside the model (e.g. 64 or 224 for ImageNet "
            "weights); 0 keeps the data's size.", unit="px"),
        Float("dropout", 0.0, 0.0, 0.9, "Dropout before the new head.", advanced=True),
    ],
    fingerprint=_weights_fingerprint,
    preflight=_weights_issues,
)
def resnet18(ctx: StepContext) -> dict:
    return {"model": _spec(ctx, "resnet18")}
