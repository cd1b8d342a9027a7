"""Writing a trained classifier's files: every format, the ONNX check against PyTorch, then the card.

One path for both ways a model is exported: the Export step of a running
workflow (:func:`write_export`) and an export of a finished run on purpose
(:func:`engine.export.from_run.export_run`).  Both hand a module to
:func:`write_formats`, which writes the weights and the optional formats and
says what it could not write and why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.context import StepContext
from engine.errors import UserInputError
from engine.export.card import CARD_NAME, ONNX_NAME, TORCHSCRIPT_NAME, WEIGHTS_NAME, write_card
from engine.export.formats import cpu_copy, onnx_max_diff, save_onnx, save_torchscript, save_weights
from engine.models import TrainedModel

Log = Callable[[str, str], None]  # (message, level)


@dataclass
class WrittenFormats:
    """What :func:`write_formats` wrote: role -> file name, the checks made, and format -> why it was skipped."""

    files: dict[str, str] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def write_formats(module: nn.Module, kind: Any, facts: Mapping[str, Any], arch: str, out: Path, *,
                  torchscript: bool, onnx: bool, opset: int, log: Log) -> WrittenFormats:
    """Weights as safetensors, and TorchScript / ONNX when asked, into ``out`` (a CPU copy in eval mode).

    ``kind`` (a registered data kind) makes the example inputs the exporters
    trace with and the ONNX check's probe; ``facts`` are the model's facts
    (input shape, vocabulary size...).
    """
    module = cpu_copy(module)
    example = kind.example_input(facts, 2, torch.Generator().manual_seed(0))
    result = WrittenFormats(files={"weights": WEIGHTS_NAME})
    save_weights(module, out / WEIGHTS_NAME, {"architecture": arch})
    if torchscript:
        why = _try_export("TorchScript", lambda: save_torchscript(module, example, out / TORCHSCRIPT_NAME), log)
        if why:
            result.skipped["torchscript"] = why
        else:
            result.files["torchscript"] = TORCHSCRIPT_NAME
    if onnx:
        why = _try_export("ONNX", lambda: save_onnx(module, example, out / ONNX_NAME, opset), log)
        if why:
            result.skipped["onnx"] = why
        else:
            result.files["onnx"] = ONNX_NAME
            _check_onnx(module, kind.example_input(facts, 8, torch.Generator().manual_seed(1)), out / ONNX_NAME,
                        result.checks, log)
    return result


def write_export(ctx: StepContext, trained: TrainedModel, metrics: dict[str, Any] | None, torchscript: bool,
                 onnx: bool, opset: int) -> dict[str, Any]:
    """The Export step: every format into the node's folder, then the card; each file is a run artifact."""
    if not isinstance(trained, TrainedModel):
        raise UserInputError(f"node '{ctx.node_id}': the model input is not a trained classifier")
    from engine.data.kinds import kind_named

    kind = kind_named(trained.input_kind)
    if kind is None:
        raise UserInputError(f"node '{ctx.node_id}': the model takes {trained.input_kind!r} data, a kind this Loom "
                             "does not know")
    out = ctx.node_dir
    written = write_formats(trained.module, kind, trained.facts, trained.spec.arch, out, torchscript=torchscript,
                            onnx=onnx, opset=opset, log=ctx.log)
    card = write_card(trained, out, metrics, written.files, checks=written.checks, not_exported=written.skipped)
    for role, name in card["files"].items():  # the formats, then the kind's own files (a text model's tokenizer)
        ctx.artifact(role, out / name)
    ctx.artifact("model_card", out / CARD_NAME)
    ctx.log(f"exported {trained.spec.arch} ({len(trained.classes)} classes) to {out}: "
            f"{', '.join(card['files'].values())}")
    return card


def _check_onnx(module: nn.Module, probe: torch.Tensor, path: Path, checks: dict[str, Any], log: Log) -> None:
    """onnxruntime against PyTorch on a probe batch; the result joins ``checks`` (and the log)."""
    try:
        diff = onnx_max_diff(module, path, probe)
    except Exception as exc:  # noqa: BLE001 - onnxruntime lacks an operator: the file stays, unchecked
        checks["onnx_check"] = f"onnxruntime could not run it ({type(exc).__name__})"
        log(f"ONNX file written but not checked: onnxruntime could not run it ({type(exc).__name__})", "warning")
        return
    if diff is not None:
        checks["onnx_max_abs_diff"] = diff
        level = "info" if diff < 1e-3 else "warning"
        log(f"ONNX vs PyTorch on 8 random inputs: max |logit difference| {diff:.2e}", level)


def _try_export(what: str, write: Callable[[], None], log: Log) -> str:
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
    log(f"{what} export skipped: {why}; the safetensors weights and the card are written", "warning")
    return why
