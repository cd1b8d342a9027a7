"""Wizard choices -> an ordinary workflow (pure: no Qt, no torch).

The wizards teach by leaving a normal workflow on the canvas, so what they
build must read like something a person would draw: readable node ids
(``data``, ``preprocess``, ``model``, ``train``...), left-to-right positions,
and only the params the analyst chose or the preset implies.  Every step type
and param used here is looked up in the engine's registry first, so a renamed
step fails loudly here (and in the tests) rather than as an invalid workflow
on the user's canvas.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.workflow import Endpoint, Link, Node, Workflow

BUILTIN_IMAGE_SOURCES = ("digits", "shapes")
DATA_SOURCES = ("digits", "shapes", "folder", "csv")
PRESETS = ("fast", "balanced", "accurate")
GAN_MODELS = ("dcgan", "gan_mlp", "vae")
RESOLUTIONS = (16, 28, 32, 64)  # what a DCGAN can be sized for (engine.generative.shapes)
FREEZE_MODES = ("backbone", "last_n", "none")

# Grid used for node positions: columns left to right, rows top to bottom.
COL, ROW = 240.0, 160.0


class RecipeError(ValueError):
    """A choice the engine cannot build (a missing step type, an impossible combination)."""


def require_step(step_type: str, *params: str):
    """The registry's declaration of ``step_type``; RecipeError when it or a param is missing."""
    from engine.steps.registry import get_step

    spec = get_step(step_type)
    if spec is None:
        raise RecipeError(f"this Loom has no '{step_type}' step, which the wizard needs")
    for name in params:
        if spec.param(name) is None:
            raise RecipeError(f"the '{step_type}' step has no '{name}' setting, which the wizard needs")
    return spec


def has_param(step_type: str, name: str) -> bool:
    from engine.steps.registry import get_step

    spec = get_step(step_type)
    return spec is not None and spec.param(name) is not None


# -- choices -------------------------------------------------------------------------------------------
@dataclass
class DataChoice:
    """Where the pictures (or rows) come from."""

    source: str = "digits"  # digits | shapes | folder | csv
    path: str = ""  # folder or CSV file
    target: str = ""  # CSV: the column with the class
    shapes_count: int = 2000

    @property
    def is_image(self) -> bool:
        return self.source != "csv"


@dataclass
class Budget:
    """How long to train: a number of epochs, or minutes of wall time."""

    kind: str = "epochs"  # epochs | minutes
    epochs: int = 10
    minutes: float = 2.0
    early_stopping: bool = True
    patience: int = 3


@dataclass
class ClassifyChoices:
    data: DataChoice = field(default_factory=DataChoice)
    preset: str = "balanced"
    budget: Budget = field(default_factory=Budget)
    image_size: int = 0  # 0 = the preset's size for the data


@dataclass
class GenerateChoices:
    # A GAN needs more shapes than a classifier to learn all four (gan_shapes.json draws 10,000).
    data: DataChoice = field(default_factory=lambda: DataChoice(shapes_count=10000))
    # The built-in digits are 8 x 8 at heart: 16 px keeps every detail and trains about four times faster than
    # 32 px, so a 5-minute budget reaches recognisable digits of every class (bench/judge_samples.py, gan_digits.json).
    resolution: int = 16
    channels: int = 1
    model: str = "dcgan"
    budget: Budget = field(default_factory=lambda: Budget(kind="minutes", minutes=5.0, epochs=20,
                                                          early_stopping=False))


@dataclass
class FinetuneChoices:
    source: str = "imagenet"  # imagenet | run | file
    source_path: str = ""  # run folder or weights file
    data: DataChoice = field(default_factory=DataChoice)
    freeze: str = "backbone"
    train_blocks: int = 1
    image_size: int = 32
    budget: Budget = field(default_factory=lambda: Budget(epochs=8))


# -- presets -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Preset:
    """A model size the analyst picks by name: the step, its params and the training settings."""

    key: str
    title: str
    blurb: str
    model_type: str
    model_params: dict[str, Any]
    train_params: dict[str, Any]
    image_size: int  # side the images are brought to (built-in digits: their size param)


IMAGE_PRESETS: dict[str, Preset] = {
    "fast": Preset(
        "fast", "Fast", "A small CNN: a first answer in seconds, good for checking that the data makes sense.",
        "cnn", {"width": 16, "stages": 2, "dropout": 0.1},
        {"batch_size": 64, "lr": 0.003, "optimizer": "adamw", "schedule": "one_cycle"}, 16,
    ),
    "balanced": Preset(
        "balanced", "Balanced", "A wider CNN on larger images: usually the best accuracy for the time.",
        "cnn", {"width": 32, "stages": 0, "dropout": 0.2},
        {"batch_size": 64, "lr": 0.002, "optimizer": "adamw", "schedule": "one_cycle"}, 32,
    ),
    "accurate": Preset(
        "accurate", "Accurate", "ResNet-18, a deep network: slowest, best on varied photos.",
        "resnet18", {"weights": "none", "freeze": "none"},
        {"batch_size": 64, "lr": 0.001, "optimizer": "adamw", "schedule": "cosine"}, 32,
    ),
}

TABLE_PRESETS: dict[str, Preset] = {
    "fast": Preset("fast", "Fast", "One small hidden layer.", "mlp", {"hidden": "64", "dropout": 0.1},
                   {"batch_size": 64, "lr": 0.003, "optimizer": "adamw"}, 0),
    "balanced": Preset("balanced", "Balanced", "Two hidden layers.", "mlp", {"hidden": "256,128", "dropout": 0.1},
                       {"batch_size": 64, "lr": 0.001, "optimizer": "adamw"}, 0),
    "accurate": Preset("accurate", "Accurate", "Three wide hidden layers with more dropout.", "mlp",
                       {"hidden": "512,256,128", "dropout": 0.3},
                       {"batch_size": 64, "lr": 0.001, "optimizer": "adamw", "schedule": "cosine"}, 0),
}


def preset_for(data: DataChoice, key: str) -> Preset:
    table = IMAGE_PRESETS if data.is_image else TABLE_PRESETS
    if key not in table:
        raise RecipeError(f"unknown preset {key!r} (choose from {', '.join(PRESETS)})")
    return table[key]


def digits_size(side: int) -> int:
    """The built-in digits step offers 8, 16, 28 or 32 px: the nearest one not below ``side``."""
    for option in (8, 16, 28, 32):
        if option >= side:
            return option
    return 32


# -- building blocks -----------------------------------------------------------------------------------
class Builder:
    """Collects nodes and links, checking every type and param against the registry.

    Public so the other recipe modules (:mod:`gui.wizards.text_recipes`) build
    their workflows with the same checks rather than a copy of them.
    """

    def __init__(self, name: str, description: str) -> None:
        self.wf = Workflow(name=name, description=description)

    def node(self, node_id: str, step_type: str, params: dict[str, Any], col: float, row: float) -> str:
        require_step(step_type, *params)
        self.wf.add_node(Node(node_id, step_type, dict(params), (col * COL, row * ROW)))
        return node_id

    def link(self, source: str, target: str) -> None:
        src, dst = Endpoint.parse(source), Endpoint.parse(target)
        src_spec = require_step(self.wf.node(src.node).type)
        dst_spec = require_step(self.wf.node(dst.node).type)
        if src_spec.output(src.port) is None:
            raise RecipeError(f"step '{src_spec.type}' has no output '{src.port}'")
        if dst_spec.input(dst.port) is None:
            raise RecipeError(f"step '{dst_spec.type}' has no input '{dst.port}'")
        self.wf.links.append(Link(src, dst))


def _data_node(b: Builder, data: DataChoice, side: int, channels: str, unlabelled: bool = False,
               shapes_layout: str = "varied") -> str:
    """The ``data`` node for a choice; returns the id of the node whose ``data`` output feeds training."""
    if data.source == "digits":
        return b.node("data", "digits", {"size": digits_size(side)}, 0, 0)
    if data.source == "shapes":
        params = {"count": int(data.shapes_count), "size": side}
        if shapes_layout != "varied":
            params["layout"] = shapes_layout
        return b.node("data", "shapes", params, 0, 0)
    if data.source == "folder":
        if not data.path:
            raise RecipeError("choose a folder of images")
        params: dict[str, Any] = {"path": data.path, "size": side}
        if channels in ("1", "3"):
            params["channels"] = channels
        if unlabelled:
            params["labels"] = "none"
        return b.node("data", "image_folder", params, 0, 0)
    if data.source == "csv":
        if not data.path or not data.target:
            raise RecipeError("choose a CSV file and the column holding the class")
        return b.node("data", "csv_table", {"path": data.path, "target": data.target}, 0, 0)
    raise RecipeError(f"unknown data source {data.source!r}")


def _train_params(preset: Preset, budget: Budget) -> dict[str, Any]:
    params = dict(preset.train_params)
    if budget.kind == "minutes":
        require_step("train", "time_budget")
        params["time_budget"] = float(budget.minutes)
        params["epochs"] = 1000  # the clock decides; early stopping may end sooner
    else:
        params["epochs"] = int(budget.epochs)
    if budget.early_stopping:
        params["patience"] = int(budget.patience)
        params["monitor"] = "val_accuracy"
        params["restore_best"] = True
    else:
        params["patience"] = 0
    params["seed"] = 0
    return params


def _classifier(b: Builder, data: DataChoice, side: int, model_type: str, model_params: dict[str, Any],
                train_params: dict[str, Any]) -> None:
    """data [-> preprocess] -> train <- model; train -> evaluate <- (preprocessed) data."""
    _data_node(b, data, side, "keep")
    feed = "data.data"
    if data.is_image:
        pre = {"range": "mean/std"}
        if data.source == "digits" and digits_size(side) != side:
            pre["size"] = side
        b.node("preprocess", "normalize", pre, 1, 0)
        b.link("data.data", "preprocess.data")
        feed = "preprocess.data"
    b.node("model", model_type, model_params, 1, 1)
    b.node("train", "train", train_params, 2, 0.5)
    b.node("evaluate", "evaluate", {"split": "test"}, 3, 0.5)
    b.link(feed, "train.data")
    b.link("model.model", "train.model")
    b.link("train.model", "evaluate.model")
    b.link(feed, "evaluate.data")


def _data_title(data: DataChoice) -> str:
    if data.source in BUILTIN_IMAGE_SOURCES:
        return f"built-in {data.source}"
    return Path(data.path).name or data.path


# -- recipes -------------------------------------------------------------------------------------------
def classify_workflow(c: ClassifyChoices) -> Workflow:
    """Classify images (or table rows): data -> preprocess -> model -> train -> evaluate."""
    preset = preset_for(c.data, c.preset)
    side = c.image_size or preset.image_size
    b = Builder(
        f"Classify {_data_title(c.data)} ({preset.title.lower()})",
        f"Made by the Classify wizard: {preset.title} preset ({preset.blurb}) on {_data_title(c.data)}.",
    )
    _classifier(b, c.data, side, preset.model_type, preset.model_params, _train_params(preset, c.budget))
    return b.wf


def generate_workflow(c: GenerateChoices) -> Workflow:
    """Generate images: data -> preprocess -> model -> train_gan / train_vae -> generate."""
    if c.model not in GAN_MODELS:
        raise RecipeError(f"unknown model {c.model!r} (choose from {', '.join(GAN_MODELS)})")
    if c.model == "dcgan" and c.resolution not in RESOLUTIONS:
        raise RecipeError("DCGAN draws 16, 28, 32 or 64 px images")
    if c.data.source == "csv":
        raise RecipeError("a GAN learns from images, not a table")
    is_vae = c.model == "vae"
    titles = {"dcgan": "DCGAN", "gan_mlp": "MLP GAN", "vae": "VAE"}
    b = Builder(
        f"Generate {_data_title(c.data)} ({titles[c.model]})",
        f"Made by the Generate wizard: a {titles[c.model]} learns to draw {_data_title(c.data)} at "
        f"{c.resolution} px, {'colour' if c.channels == 3 else 'grayscale'}; watch the sample grid sharpen.",
    )
    # Four distinct kinds of image: a plain DCGAN hops from one shape to another. Centred
    # shapes, a discriminator that judges packs of 4 and label smoothing draw all four
    # (the judge in bench/judge_samples.py, see gan_shapes.json).
    shapes = c.data.source == "shapes"
    _data_node(b, c.data, c.resolution, str(c.channels), unlabelled=True,
               shapes_layout="centred" if shapes else "varied")
    b.node("preprocess", "normalize",
           {"size": c.resolution, "channels": str(c.channels), "range": "0..1" if is_vae else "-1..1"}, 1, 0)
    # Labelled data (digits, shapes) makes the model class-conditional (its ``conditional`` is auto): one grid
    # row per class, and Generate more / `loom generate --class` draw a chosen class.  The samples come from the
    # generator's weight average (``ema``, on by default).  A folder is read unlabelled: its subfolders may not
    # be classes the analyst wants drawn.
    model_params: dict[str, Any] = {}
    params: dict[str, Any] = {"batch_size": 64, "sample_every": 100, "seed": 0}
    if shapes and c.model == "dcgan":
        model_params = {"pack": 4, "minibatch_std": True}
        params["label_smoothing"] = 0.1
    elif c.data.source == "digits" and c.model == "dcgan":
        params["diversity"] = 0.2  # mode seeking: a conditional GAN otherwise draws one picture per digit
        # The digits are 8 x 8 upscaled bicubically: drawn at 8 px and upscaled the same way, samples stay on what
        # the data can look like (Fréchet distance ~1.1x the real-vs-real floor instead of ~2-8x; gan_digits.json).
        model_params = {"draw_size": 8}
    b.node("model", c.model, model_params, 1, 1)
    train_type = "train_vae" if is_vae else "train_gan"
    if c.budget.kind == "minutes":
        require_step(train_type, "time_budget")
        params.update(time_budget=float(c.budget.minutes), epochs=100000)
    else:
        params["epochs"] = int(c.budget.epochs)
    b.node("train", train_type, params, 2, 0.5)
    b.node("generate", "generate", {"n": 64, "seed": 1}, 3, 0.5)
    b.link("data.data", "preprocess.data")
    b.link("preprocess.data", "train.data")
    b.link("model.model", "train.model")
    b.link("train.generator", "generate.generator")
    return b.wf


def run_model_node(run_dir: str | Path) -> tuple[str, dict[str, Any]]:
    """The classifier model step (type, params) of a previous Loom run, read from its workflow.json."""
    path = Path(run_dir) / "workflow.json"
    if not path.is_file():
        raise RecipeError(f"{run_dir} is not a Loom run folder (no workflow.json inside)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RecipeError(f"{path} could not be read: {exc}") from None
    for node in data.get("nodes", []):
        if node.get("type") in ("cnn", "resnet18"):
            return str(node["type"]), dict(node.get("params", {}))
    raise RecipeError(f"the run in {run_dir} did not train an image classifier (no cnn or resnet18 step)")


def finetune_workflow(c: FinetuneChoices) -> Workflow:
    """Fine-tune: a pretrained model (ImageNet, a run, a file) trained further on new images."""
    if not c.data.is_image:
        raise RecipeError("fine-tuning needs images")
    if c.freeze not in FREEZE_MODES:
        raise RecipeError(f"unknown freeze mode {c.freeze!r}")
    if c.source == "imagenet":
        model_type, model_params, weights, what = "resnet18", {}, "imagenet", "ImageNet ResNet-18"
    elif c.source == "run":
        model_type, model_params = run_model_node(c.source_path)
        model_params = {k: v for k, v in model_params.items() if k not in ("weights", "freeze", "train_blocks")}
        weights, what = c.source_path, f"the run {Path(c.source_path).name}"
    elif c.source == "file":
        if not Path(c.source_path).is_file():
            raise RecipeError(f"no weights file at {c.source_path}")
        model_type, model_params, weights, what = "resnet18", {}, c.source_path, Path(c.source_path).name
    else:
        raise RecipeError(f"unknown source {c.source!r} (imagenet, run or file)")
    model_params.update(weights=weights, freeze=c.freeze)
    if c.freeze == "last_n":
        model_params["train_blocks"] = int(c.train_blocks)
    preset = IMAGE_PRESETS["balanced"]
    train_params = _train_params(preset, c.budget)
    train_params["lr"] = 0.0005 if c.freeze == "none" else 0.002  # gentler when every layer moves
    b = Builder(
        f"Fine-tune {what} on {_data_title(c.data)}",
        f"Made by the Fine-tune wizard: starts from {what}, freezes '{c.freeze}', trains on {_data_title(c.data)}.",
    )
    _classifier(b, c.data, c.image_size, model_type, model_params, train_params)
    return b.wf
