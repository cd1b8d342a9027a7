"""Export: a trained classifier as files for deployment and `loom predict`."""

from __future__ import annotations

from engine.context import StepContext
from engine.names import CachePolicy
from engine.params import Bool, Int
from engine.ports import METRICS, TRAINED_MODEL, Port
from engine.steps.registry import step


@step(
    "export",
    title="Export model",
    category="export",
    description="Weights as safetensors plus a JSON model card (classes, input size, channels, normalisation, "
    "metrics, versions); optionally TorchScript and ONNX. `loom predict RUN IMAGES` uses it.",
    inputs=[Port("model", TRAINED_MODEL), Port("metrics", METRICS, "Evaluation results to record in the card",
                                               optional=True)],
    outputs=[],
    params=[
        Bool("torchscript", True, "Also write model.torchscript.pt (runs in C++ / PyTorch without Loom).",
             label="TorchScript"),
        Bool("onnx", True, "Also write model.onnx (runs in onnxruntime, browsers, mobile).", label="ONNX"),
        Int("opset", 17, 13, 21, "ONNX operator set version.", advanced=True, label="ONNX operator set"),
    ],
    cache=CachePolicy.NONE,
)
def export(ctx: StepContext) -> dict:
    from engine.export.writer import write_export

    card = write_export(ctx, ctx.inputs["model"], ctx.inputs.get("metrics"), ctx.params["torchscript"],
                        ctx.params["onnx"], ctx.params["opset"])
    ctx.report(files=card["files"], onnx_max_abs_diff=card.get("checks", {}).get("onnx_max_abs_diff"))
    return {}
