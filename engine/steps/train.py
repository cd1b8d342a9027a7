"""Supervised training of a classifier."""

from __future__ import annotations

from engine.context import StepContext
from engine.device import DEVICE_CHOICES
from engine.params import Bool, Choice, Float, Int, Seed
from engine.ports import DATASET, MODEL, TRAINED_MODEL, Port
from engine.problems import Issue, param_field
from engine.steps.registry import step
from engine.training.choices import CLASS_WEIGHTS, MONITORS, OPTIMIZERS, SCHEDULES
from engine.training.speed import COMPILE_CHOICES, COMPILE_PAYBACK_MINUTES, COMPILE_PAYBACK_STEPS


def speed_params() -> list:
    """The speed policy's params (engine.training.speed), declared once for every training step."""
    return [
        Bool("amp", True, "Mixed precision where it pays: bf16 autocast for convolutional models on CPUs with native "
             "bf16 (AVX512-BF16 or AMX), bf16 (else fp16 with a gradient scaler) on CUDA GPUs; off = fp32 everywhere.",
             advanced=True, label="Mixed precision"),
        Bool("channels_last", True, "Keep convolutional models and their image batches in the channels_last "
             "layout, the fast one for convolutions on CPUs and GPUs; checkpoints load either way.", advanced=True,
             label="Channels-last layout"),
        Choice("compile", "auto", COMPILE_CHOICES, "torch.compile the model: auto = only for runs long enough to pay "
               f"back the compile (a time budget of {COMPILE_PAYBACK_MINUTES:g} min or more, or "
               f"{COMPILE_PAYBACK_STEPS:,}+ planned steps); never on the app's window thread; falls back to eager "
               "if compiling fails.", advanced=True, label="Compile the model"),
    ]


def _check(params: dict) -> list[Issue]:
    if params["kfold"] == 1:
        return [(param_field("kfold"), "1 fold is not cross-validation — use 0 (one model) or 2 and more")]
    return []


@step(
    "train",
    title="Train classifier",
    category="train",
    description="Fit a classifier to the training split; reports loss per step and validation metrics per epoch.",
    inputs=[Port("data", DATASET), Port("model", MODEL)],
    outputs=[Port("model", TRAINED_MODEL)],
    check=_check,
    params=[
        Int("epochs", 10, 1, 10000, "Passes over the training data."),
        Int("batch_size", 64, 1, 65536, "Samples per optimisation step."),
        Float("lr", 1e-3, 1e-7, 10.0, "Learning rate: how big each update step is.", label="Learning rate"),
        Choice("optimizer", "adam", OPTIMIZERS, "Adam is a safe default; AdamW decouples weight decay; "
               "SGD uses momentum."),
        Choice("schedule", "constant", SCHEDULES, "How the learning rate changes over the run: step decays it "
               "every few epochs, cosine glides to zero, one_cycle warms up then anneals."),
        Float("time_budget", 0.0, 0.0, 10080.0, "Stop gracefully after this many minutes and keep the best "
              "weights; 0 = no limit (the epochs decide).", unit="min"),
        Int("patience", 0, 0, 1000, "Early stopping: stop when the monitored metric has not improved for this "
            "many epochs; 0 = off."),
        Choice("monitor", "val_loss", MONITORS, "Validation metric watched by early stopping and 'keep best'.",
               label="Watch for early stopping"),
        Bool("restore_best", True, "At the end, go back to the weights of the best validation epoch."),
        Float("weight_decay", 0.0, 0.0, 1.0, "L2 penalty that keeps weights small.", advanced=True),
        Float("momentum", 0.9, 0.0, 0.999, "SGD momentum (Nesterov).", advanced=True),
        Int("step_epochs", 10, 1, 10000, "With schedule = step: epochs between decays.", advanced=True,
            label="Epochs between decays"),
        Float("gamma", 0.1, 0.0, 1.0, "With schedule = step: factor applied at each decay.", advanced=True,
              label="Decay factor"),
        Float("label_smoothing", 0.0, 0.0, 0.5, "Soften the one-hot targets; curbs over-confidence.",
              advanced=True),
        Choice("class_weights", "none", CLASS_WEIGHTS, "balanced weighs each class by 1/frequency so rare "
               "classes count as much as common ones.", advanced=True),
        Float("grad_clip", 0.0, 0.0, 1000.0, "Clip the gradient norm to this value; 0 = off.", advanced=True,
              label="Gradient clipping"),
        Float("adversarial_eps", 0.0, 0.0, 1.0, "FGSM adversarial training: also train on inputs perturbed by "
              "this much (pixel units, 0..1); 0 = off.", advanced=True, label="Adversarial training strength"),
        Int("kfold", 0, 0, 20, "Cross-validate: train k models on k folds of train+val and report mean ± std; "
            "0 = a single model.", advanced=True, label="Cross-validation folds"),
        Seed(),
        Choice("device", "auto", DEVICE_CHOICES, "auto = the run's device (GPU when there is one).", advanced=True),
        *speed_params(),
        Int("log_every", 1, 1, 10000, "Report the training loss every N steps.", advanced=True),
    ],
)
def train(ctx: StepContext) -> dict:
    from engine.device import select_device
    from engine.errors import UserInputError
    from engine.training.supervised import FitConfig, fit_classifier, loop_config

    params = ctx.params
    if params["device"] != "auto":
        ctx.device, reason = select_device(params["device"])
        ctx.log(f"device for this step: {ctx.device} ({reason})")
    if params["kfold"] == 1:
        raise UserInputError(f"node '{ctx.node_id}', param 'kfold': 1 fold is not cross-validation — use 0 or 2+")
    data, spec = ctx.inputs["data"], ctx.inputs["model"]
    cfg, loop = FitConfig.from_params(params), loop_config(params)
    try:
        if params["kfold"] >= 2:
            from engine.training.kfold import fit_kfold

            trained = fit_kfold(ctx, data, spec, cfg, loop, params["kfold"])
        else:
            trained = fit_classifier(ctx, data, spec, cfg, loop)
    except ValueError as exc:  # an architecture that does not fit the data
        raise UserInputError(f"node '{ctx.node_id}': {exc}") from None
    for kind, path in trained.write_card(ctx.node_dir):  # a run without an Export step can still be tried
        ctx.artifact(kind, path)
    ctx.report(**trained.history)
    return {"model": trained}
