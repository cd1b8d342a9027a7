"""Supervised training of a classifier."""

from __future__ import annotations

from engine.context import StepContext
from engine.device import DEVICE_CHOICES
from engine.params import Bool, Choice, Float, Int, Seed
from engine.ports import DATASET, MODEL, TRAINED_MODEL, Port
from engine.steps.registry import step
from engine.training.common import OPTIMIZERS


@step(
    "train",
    title="Train classifier",
    category="train",
    description="Fit a classifier to the training split; reports loss per step and validation accuracy per epoch.",
    inputs=[Port("data", DATASET), Port("model", MODEL)],
    outputs=[Port("model", TRAINED_MODEL)],
    params=[
        Int("epochs", 10, 1, 10000, "Passes over the training data."),
        Int("batch_size", 64, 1, 65536, "Samples per optimisation step."),
        Float("lr", 1e-3, 1e-7, 10.0, "Learning rate: how big each update step is."),
        Choice("optimizer", "adam", OPTIMIZERS, "Adam is a safe default; SGD uses momentum 0.9."),
        Float("weight_decay", 0.0, 0.0, 1.0, "L2 penalty that keeps weights small.", advanced=True),
        Seed(),
        Choice("device", "auto", DEVICE_CHOICES, "auto = the run's device (GPU when there is one).", advanced=True),
        Bool("amp", True, "Mixed precision on CUDA GPUs (ignored on CPU).", advanced=True),
        Int("log_every", 1, 1, 10000, "Report the training loss every N steps.", advanced=True),
    ],
)
def train(ctx: StepContext) -> dict:
    from engine.device import select_device
    from engine.training.supervised import FitConfig, fit_classifier

    if ctx.params["device"] != "auto":
        ctx.device, reason = select_device(ctx.params["device"])
        ctx.log(f"device for this step: {ctx.device} ({reason})")
    trained = fit_classifier(ctx, ctx.inputs["data"], ctx.inputs["model"], FitConfig.from_params(ctx.params))
    ctx.report(**trained.history)
    return {"model": trained}
