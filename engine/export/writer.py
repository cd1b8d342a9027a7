"""The export step's work: write every format, check ONNX against PyTorch, then the card."""

from __future__ import annotations

from typing import Any

import torch

from engine.context import StepContext
from engine.errors import UserInputError
from engine.export.card import CARD_NAME, ONNX_NAME, TORCHSCRIPT_NAME, WEIGHTS_NAME, make_card
from engine.export.formats import cpu_copy, onnx_max_diff, save_onnx, save_torchscript, save_weights
from engine.fileio import atomic_write_json
from engine.models import TrainedModel


def write_export(ctx: StepContext, trained: TrainedModel, metrics: dict[str, Any] | None, torchscript: bool,
                 onnx: bool, opset: int) -> dict[str, Any]:
    if not isinstance(trained, TrainedModel):
        raise UserInputError(f"node '{ctx.node_id}': the model input is not a trained classifier")
    from engine.data.kinds import kind_named

    kind = kind_named(trained.input_kind)
    if kind is None:
        raise UserInputError(f"node '{ctx.node_id}': the model takes {trained.input_kind!r} data, a kind this Loom "
                             "does not know")
    out = ctx.node_dir
    module = cpu_copy(trained.module)
    example = kind.example_input(trained.facts, 2, torch.Generator().manual_seed(0))
    files = {"weights": WEIGHTS_NAME}
    save_weights(module, out / WEIGHTS_NAME, {"architecture": trained.spec.arch})
    ctx.artifact("weights", out / WEIGHTS_NAME)
    checks: dict[str, Any] = {}
    if torchscript:
        save_torchscript(module, example, out / TORCHSCRIPT_NAME)
        files["torchscript"] = TORCHSCRIPT_NAME
        ctx.artifact("torchscript", out / TORCHSCRIPT_NAME)
    if onnx:
        try:
            save_onnx(module, example, out / ONNX_NAME, opset)
        except ImportError as exc:
            ctx.log(f"ONNX export skipped: {exc} — install the onnx package (pip install onnx)", "warning")
        else:
            files["onnx"] = ONNX_NAME
            ctx.artifact("onnx", out / ONNX_NAME)
            probe = kind.example_input(trained.facts, 8, torch.Generator().manual_seed(1))
            diff = onnx_max_diff(module, out / ONNX_NAME, probe)
            if diff is not None:
                checks["onnx_max_abs_diff"] = diff
                level = "info" if diff < 1e-3 else "warning"
                ctx.log(f"ONNX vs PyTorch on 8 random inputs: max |logit difference| {diff:.2e}", level)
    for role, name in kind.export_files(trained.inputs, out).items():  # e.g. the tokenizer of a text model
        files[role] = name
        ctx.artifact(role, out / name)
    card = make_card(trained, metrics, files)
    if checks:
        card["checks"] = checks
    atomic_write_json(out / CARD_NAME, card)
    ctx.artifact("model_card", out / CARD_NAME)
    ctx.log(f"exported {trained.spec.arch} ({len(trained.classes)} classes) to {out}: {', '.join(files.values())}")
    return card
