"""Preprocessing: reshape and rescale images before a model sees them."""

from __future__ import annotations

from engine.context import StepContext
from engine.params import Choice, Int
from engine.ports import IMAGE_DATASET, Port
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
    cache="disk",
)
def normalize(ctx: StepContext) -> dict:
    from engine.data.transforms import normalize_images

    p = ctx.params
    out = normalize_images(ctx.inputs["data"], size=p["size"], channels=p["channels"], value_range=p["range"])
    ctx.log(f"{len(out)} images -> {out.channels}x{out.size[0]}x{out.size[1]}, range {p['range']}")
    return {"data": out}
