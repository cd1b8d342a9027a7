"""Preprocessing: reshape and rescale images, augment them, split the data."""

from __future__ import annotations

from typing import Any

from engine.context import StepContext
from engine.names import CachePolicy
from engine.params import Bool, Choice, Float, Int, Seed
from engine.ports import DATASET, IMAGE_DATASET, Port
from engine.steps.registry import step

RANGES = ("-1..1", "0..1", "mean/std")


@step(
    "normalize",
    title="Resize & normalise",
    category="preprocess",
    description="Resize images, set the channel count and rescale pixel values.",
    inputs=[Port("data", IMAGE_DATASET)],
    outputs=[Port("data", IMAGE_DATASET)],
    params=[
        Int("size", 0, 0, 512, "New image side in pixels; 0 keeps the current size.", unit="px"),
        Choice("channels", "keep", ("keep", "1", "3"), "1 = grayscale, 3 = RGB, keep = unchanged."),
        Choice(
            "range",
            "-1..1",
            RANGES,
            "-1..1 suits GANs and most nets; mean/std standardises each channel with the "
            "training split's statistics (no leakage from test data).",
        ),
    ],
    cache=CachePolicy.DISK,
)
def normalize(ctx: StepContext) -> dict:
    from engine.data.transforms import normalize_images

    p = ctx.params
    out = normalize_images(ctx.inputs["data"], size=p["size"], channels=p["channels"], value_range=p["range"])
    ctx.log(f"{len(out)} images -> {out.channels}x{out.size[0]}x{out.size[1]}, range {p['range']}")
    return {"data": out}


def _augment_specs(p: dict[str, Any]) -> list[dict[str, Any]]:
    specs: list[dict[str, Any]] = []
    if p["hflip"]:
        specs.append({"op": "hflip", "p": 0.5})
    if p["vflip"]:
        specs.append({"op": "vflip", "p": 0.5})
    if p["rotate"] > 0:
        specs.append({"op": "rotate", "degrees": float(p["rotate"])})
    if p["translate"] > 0:
        specs.append({"op": "translate", "fraction": float(p["translate"])})
    if p["zoom"] > 0:
        specs.append({"op": "zoom", "amount": float(p["zoom"])})
    jitter = {k: float(p[k]) for k in ("brightness", "contrast", "saturation") if p[k] > 0}
    if jitter:
        specs.append({"op": "jitter", **jitter})
    return specs


@step(
    "augment",
    title="Augment (training only)",
    category="preprocess",
    description="Random flips, rotations, shifts, zoom and colour jitter, drawn afresh for every training image "
    "in every batch on the training device. Validation and test data are never augmented.",
    inputs=[Port("data", IMAGE_DATASET)],
    outputs=[Port("data", IMAGE_DATASET, "The same images, carrying the augmentations for the training loop")],
    params=[
        Bool("hflip", True, "Mirror left-right half of the time (leave off for text or digits).",
             label="Flip left-right"),
        Bool("vflip", False, "Mirror top-bottom half of the time (aerial or microscope images).",
             label="Flip upside down"),
        Float("rotate", 10.0, 0.0, 180.0, "Rotate by a random angle up to this many degrees either way.", unit="°"),
        Float("translate", 0.1, 0.0, 0.5, "Shift by up to this fraction of the image side."),
        Float("zoom", 0.0, 0.0, 0.5, "Scale by a random factor in 1 ± this."),
        Float("brightness", 0.0, 0.0, 1.0, "Multiply brightness by a random factor in 1 ± this."),
        Float("contrast", 0.0, 0.0, 1.0, "Change contrast by a random factor in 1 ± this."),
        Float("saturation", 0.0, 0.0, 1.0, "Change colour saturation by a random factor in 1 ± this (RGB only)."),
    ],
    cache=CachePolicy.DISK,
    produces_images=True,
)
def augment(ctx: StepContext) -> dict:
    import torch

    from engine.data.datasets import ImageDataset
    from engine.data.preview import save_png, thumbnail_grid

    data = ctx.inputs["data"]
    specs = _augment_specs(ctx.params)
    out = data.with_x(data.x, augment=tuple(specs))
    if not specs:
        ctx.log("no augmentation switched on: the data passes through unchanged", "warning")
    else:
        ctx.log("training batches get: " + ", ".join(s["op"] for s in specs))
        # Show what the model will see: the first training images, augmented.
        idx = data.split("train")[:64]
        augmented = out.augmented(data.take(idx), torch.Generator().manual_seed(0))
        shown = ImageDataset(x=augmented, labels=None, classes=[], normalization=data.normalization)
        grid = thumbnail_grid(shown)
        path = ctx.node_dir / "augmented.png"
        save_png(grid, path)
        ctx.image("augmented", grid, path=path)
    ctx.report(augment=specs)
    return {"data": out}


@step(
    "split",
    title="Split train / val / test",
    category="preprocess",
    description="Seeded train/validation/test split, stratified so every part keeps the class proportions. "
    "Place it just before training; numeric table columns are re-standardised on the new training rows.",
    inputs=[Port("data", DATASET)],
    outputs=[Port("data", DATASET)],
    params=[
        Float("train", 0.8, 0.01, 1.0, "Share of samples to train on.", label="Training share"),
        Float("val", 0.1, 0.0, 0.99, "Share held out to watch overfitting and pick the best epoch.",
              label="Validation share"),
        Float("test", 0.1, 0.0, 0.99, "Share kept untouched for the final evaluation.", label="Test share"),
        Bool("stratify", True, "Keep every class in the same proportion in every part.", label="Keep class balance"),
        Seed(),
    ],
    cache=CachePolicy.DISK,
)
def split(ctx: StepContext) -> dict:
    import torch

    from engine.data.datasets import TabularDataset
    from engine.data.splits import stratified_split
    from engine.data.tables import restandardise

    p = ctx.params
    data = ctx.inputs["data"]
    fractions = (p["train"], p["val"], p["test"])
    if sum(fractions) > 1.0 + 1e-6:
        ctx.log(f"fractions add up to {sum(fractions):g}; they are rescaled to sum to 1", "warning")
    labels = data.labels if p["stratify"] else None
    splits = stratified_split(labels, len(data), fractions, p["seed"])
    out = data.with_x(data.x, splits=splits)
    if isinstance(out, TabularDataset):
        out = restandardise(out)
    sizes = {name: int(len(idx)) for name, idx in splits.items()}
    per_class = {}
    if data.labels is not None:
        for name, idx in splits.items():
            counts = torch.bincount(data.labels[idx], minlength=data.num_classes).tolist()
            per_class[name] = dict(zip(data.classes, counts, strict=False))
    ctx.log("split: " + ", ".join(f"{k} {v}" for k, v in sizes.items()))
    ctx.report(splits=sizes, counts_per_split=per_class, seed=p["seed"], stratified=p["stratify"])
    return {"data": out}
