"""Data sources: where datasets come from."""

from __future__ import annotations

from engine.context import StepContext
from engine.params import Choice
from engine.ports import IMAGE_DATASET, Port
from engine.steps.registry import step


@step(
    "digits",
    title="Digits (built-in)",
    category="data",
    description="The 1,797 handwritten 8x8 digits that ship with scikit-learn: 10 classes, no download.",
    outputs=[Port("data", IMAGE_DATASET, "Grayscale digit images in [0, 1] with labels 0-9")],
    params=[
        Choice("size", 8, (8, 16, 28, 32), "Image side in pixels; larger sizes are smoothly upscaled.", unit="px"),
    ],
    cache="disk",
)
def digits(ctx: StepContext) -> dict:
    from engine.data.builtin import load_digits

    data = load_digits(ctx.params["size"])
    ctx.log(f"digits: {len(data)} images, {data.size[0]}x{data.size[1]} px, {data.num_classes} classes")
    ctx.report(samples=len(data), classes=data.num_classes, size=list(data.size))
    return {"data": data}
