"""Writing a trained classifier as safetensors, TorchScript and ONNX.

Exports run on a CPU copy of the module in eval mode with a fixed example
batch; the TorchScript and ONNX graphs take any batch size.  PyTorch's
deprecation warnings for the TorchScript-based paths are silenced here: they
are still the exporters that work offline without extra packages.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import torch
from torch import nn

from engine.fileio import atomic_write


def cpu_copy(module: nn.Module) -> nn.Module:
    return copy.deepcopy(module).cpu().eval()


def save_weights(module: nn.Module, path: Path, metadata: dict[str, str] | None = None) -> None:
    """The state dict as safetensors (tensors only; loading runs no code)."""
    from safetensors.torch import save

    state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    data = save(state, metadata=metadata or {})
    atomic_write(path, lambda f: f.write(data))


def save_torchscript(module: nn.Module, example: torch.Tensor, path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module, example, check_trace=False)
        atomic_write(path, lambda f: torch.jit.save(traced, f))


def save_onnx(module: nn.Module, example: torch.Tensor, path: Path, opset: int = 17) -> None:
    """ONNX with a dynamic batch axis: input ``input`` (N x C x H x W), output ``logits``."""
    import io

    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (example,),
            buf,
            dynamo=False,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=opset,
        )
    atomic_write(path, lambda f: f.write(buf.getvalue()))


def onnx_max_diff(module: nn.Module, path: Path, x: torch.Tensor) -> float | None:
    """Largest |logit difference| between onnxruntime and PyTorch on ``x`` (None without onnxruntime)."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = torch.from_numpy(session.run(None, {"input": x.numpy()})[0])
    with torch.inference_mode():
        want = module(x)
    return float((got - want).abs().max())
