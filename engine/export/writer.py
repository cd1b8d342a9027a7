"""The export step's work: write every format, check ONNX against PyTorch, then the card."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from engine.context import StepContext
from engine.errors import UserInputError
from engine.export.card import CARD_NAME, ONNX_NAME, TORCHSCRIPT_NAME, WEIGHTS_NAME, write_card
from engine.export.formats import cpu_copy, onnx_max_diff, save_onnx, save_torchscript, save_weights
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
    skipped: dict[str, str] = {}
    if torchscript:
        why = _try_export("TorchScript", lambda: save_torchscript(module, example, out / TORCHSCRIPT_NAME), ctx)
        if why:
            skipped["torchscript"] = why
        else:
            files["torchscript"] = TORCHSCRIPT_NAME
            ctx.artifact("torchscript", out / TORCHSCRIPT_NAME)
    if onnx:
        why = _try_export("ONNX", lambda: save_onnx(module, example, out / ONNX_NAME, opset), ctx)
        if why:
            skipped["onnx"] = why
        else:
            files["onnx"] = ONNX_NAME
            ctx.artifact("onnx", out / ONNX_NAME)
            probe = kind.example_input(trained.facts, 8, torch.Generator().manual_seed(1))
            try:
                diff = onnx_max_diff(module, out / ONNX_NAME, probe)
            except Exception as exc:  # noqa: BLE001 - onnxruntime lacks an operator: the file stays, unchecked
                diff = None
                checks["onnx_check"] = f"onnxruntime could not run it ({type(exc).__name__})"
                ctx.log(f"ONNX file written but not checked: onnxruntime could not run it ({type(exc).__name__})",
                        "warning")
            if diff is not None:
                checks["onnx_max_abs_diff"] = diff
                level = "info" if diff < 1e-3 else "warning"
                ctx.log(f"ONNX vs PyTorch on 8 random inputs: max |logit difference| {diff:.2e}", level)
    card = write_card(trained, out, metrics, files, checks=checks, not_exported=skipped)
    for role, name in card["files"].items():
        if role not in files:  # the kind's own files, e.g. the tokenizer of a text model
            ctx.artifact(role, out / name)
    files = card["files"]
    ctx.artifact("model_card", out / CARD_NAME)
    ctx.log(f"exported {trained.spec.arch} ({len(trained.classes)} classes) to {out}: {', '.join(files.values())}")
    return card


def _try_export(what: str, write: Callable[[], None], ctx: StepContext) -> str:
    """Write one optional format; '' when written, else why not (logged, and kept in the card).

    Some models cannot be traced (control flow that depends on the data, an
    operator the exporter lacks); the weights and the card are still written,
    so Loom and ``loom predict`` use the model all the same.
    """
    try:
        write()
    except ImportError as exc:
        why = f"{exc} — install the onnx package (pip install onnx)" if what == "ONNX" else str(exc)
    except Exception as exc:  # noqa: BLE001 - whatever the exporter trips on, the export goes on without it
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        why = f"this model cannot be exported to {what} ({type(exc).__name__}{': ' + detail if detail else ''})"
    else:
        return ""
    ctx.log(f"{what} export skipped: {why}; the safetensors weights and the card are written", "warning")
    return why
