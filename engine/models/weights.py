"""Starting weights and freezing: ImageNet, a weights file, or a previous Loom run.

Nothing here unpickles: ``.safetensors`` files load with safetensors and
everything else with ``torch.load(weights_only=True)``; a file that needs
arbitrary Python objects to load is refused with a message saying why.

Weights from another task are matched to the new model by name and shape
(with or without a ``backbone.`` prefix, so torchvision's own files fit);
the head always starts fresh, because it must fit the new classes.  A first
convolution trained on RGB is folded onto grayscale input (sum over the
colour filters) and vice versa, so channels never block a transfer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from engine.errors import UserInputError

if TYPE_CHECKING:
    from engine.context import StepContext
    from engine.models import ModelSpec

IMAGENET_URL = "https://download.pytorch.org/models/resnet18-f37072fd.pth"
FREEZE_CHOICES = ("none", "backbone", "last_n")


def imagenet_cache_file() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / IMAGENET_URL.rsplit("/", 1)[1]


def load_imagenet_resnet18(where: str) -> dict[str, torch.Tensor]:
    """torchvision's ResNet-18 ImageNet weights: from the hub cache, else downloaded there."""
    cached = imagenet_cache_file()
    if cached.exists():
        return load_weights_file(cached, where)
    try:
        return torch.hub.load_state_dict_from_url(IMAGENET_URL, progress=False, check_hash=True, weights_only=True)
    except Exception as exc:
        raise UserInputError(
            f"{where}: could not download the ImageNet weights ({type(exc).__name__}: {str(exc)[:80]}). "
            f"Offline? Download {IMAGENET_URL} on a connected machine and place it as {cached} "
            f"(torch hub cache folder {cached.parent}), or set weights to none."
        ) from None


class WeightsError(ValueError):
    """Why a weights source cannot be used, without the "node ..., param ..." prefix (callers add it)."""


def load_weights_file(path: str | Path, where: str) -> dict[str, torch.Tensor]:
    """A state dict from a ``.safetensors`` or a weights-only ``.pt``/``.pth`` file."""
    try:
        return _read_weights(Path(path).expanduser())
    except WeightsError as exc:
        raise UserInputError(f"{where}: {exc}") from None


def _read_weights(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise WeightsError(f"no weights file at {path} — check the path")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except Exception as exc:
            raise WeightsError(f"{path} is not a readable safetensors file ({exc})") from None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        # torch's weights-only unpickler names the global it refused ("Unsupported global: GLOBAL ...");
        # any other failure (a text file, a truncated copy) is a file that is not weights at all.
        if "Unsupported global" in str(exc) or "GLOBAL" in str(exc):
            raise WeightsError(
                f"refused to load {path}: it holds pickled Python objects, which could run code when "
                "loaded. Loom only loads plain tensors — save the weights with torch.save(model.state_dict(), ...) "
                "or as .safetensors."
            ) from None
        raise WeightsError(
            f"{path} is not a readable PyTorch weights file ({type(exc).__name__}) — give a file saved with "
            "torch.save(model.state_dict(), ...), a .safetensors file or a Loom run folder"
        ) from None
    return _state_dict_of(obj, path)


def _state_dict_of(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    """Accept a bare state dict or a checkpoint holding one under a usual key."""
    if isinstance(obj, dict):
        for key in ("model", "state_dict", "model_state_dict"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
        tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
        if tensors:
            return tensors
    raise WeightsError(f"{path} holds no weights (expected a state dict of tensors)")


def safetensors_header_problem(path: Path) -> str | None:
    """Why ``path`` is not a well-formed safetensors file, read from its header alone (nothing is loaded).

    The format is an 8-byte little-endian header length, a JSON header naming
    each tensor's dtype, shape and byte range, then the bytes; a truncated
    download or a renamed file fails one of these checks.
    """
    bad = f"{path} is not a readable safetensors file"
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(8)
            n = int.from_bytes(head, "little") if len(head) == 8 else -1
            if n <= 0 or n > min(size - 8, 100 << 20):
                return f"{bad} (no valid header) — export the weights again"
            header = json.loads(f.read(n))
    except OSError as exc:
        return f"{path} cannot be read ({exc.strerror or exc}) — check its permissions"
    except (ValueError, UnicodeDecodeError):
        return f"{bad} (its header is not JSON) — export the weights again"
    if not isinstance(header, dict):
        return f"{bad} (its header is not a table of tensors) — export the weights again"
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    end = 0
    for name, info in tensors.items():
        offsets = info.get("data_offsets") if isinstance(info, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
            return f"{bad} (tensor '{name}' has no byte range) — export the weights again"
        end = max(end, offsets[1])
    if not tensors:
        return f"{path} holds no tensors — give the file the weights were saved to"
    if 8 + n + end > size:
        return f"{bad}: it is cut short ({size:,} bytes, the header needs {8 + n + end:,}) — copy or download it again"
    return None


def run_weights_file(run_dir: Path, where: str) -> Path:
    """The best weights a Loom run folder offers: an export, else its training checkpoint."""
    try:
        return _run_weights(run_dir)
    except WeightsError as exc:
        raise UserInputError(f"{where}: {exc}") from None


def _run_weights(run_dir: Path) -> Path:
    info_path = run_dir / "run.json"
    if not info_path.is_file():
        raise WeightsError(f"{run_dir} is a folder but not a Loom run (no run.json) — pass a run folder")
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        artifacts = [a for a in info.get("artifacts", []) if isinstance(a, dict) and isinstance(a.get("path"), str)]
    except (OSError, ValueError, AttributeError):
        raise WeightsError(f"{info_path} cannot be read as a Loom run record — pass an intact run folder") from None
    for kind in ("weights", "checkpoint"):
        for art in artifacts:
            if art.get("kind") == kind:
                p = run_dir / art["path"]
                best = p.with_name("best.pt")
                if kind == "checkpoint" and best.exists():
                    return best
                if p.exists():
                    return p
    found = sorted(run_dir.glob("*/checkpoints/best.pt")) + sorted(run_dir.glob("*/checkpoints/last.pt"))
    if not found:
        raise WeightsError(f"the run {run_dir} has no exported weights or checkpoint to start from — "
                           "export the model in that run, or give a weights file")
    return found[0]


def weights_problem(source: str) -> str | None:
    """Why a ``weights`` param cannot give starting weights, found before anything trains; None when it can.

    Checks what a run would meet later: a path that is not there, a run folder without an export or
    checkpoint, a safetensors file with a broken header, a .pt file that needs
    pickled objects (read with ``weights_only=True``, so nothing runs).
    """
    source = str(source).strip()
    if source.lower() in ("none", "imagenet", ""):
        return None  # ImageNet for another architecture is the step's check; the download is the run's
    path = Path(source).expanduser()
    if not path.exists():
        return f"{source} does not exist — give none, imagenet, a weights file or a Loom run folder"
    try:
        file = _run_weights(path) if path.is_dir() else path
        if file.suffix == ".safetensors":
            return safetensors_header_problem(file)
        _read_weights(file)
    except WeightsError as exc:
        return str(exc)
    return None


def load_source(source: str, spec_arch: str, where: str) -> tuple[dict[str, torch.Tensor], str]:
    """Resolve a ``weights`` param to a state dict and a short description."""
    if source == "imagenet":
        if spec_arch != "resnet18":
            raise UserInputError(f"{where}: ImageNet weights exist only for resnet18")
        return load_imagenet_resnet18(where), "ImageNet"
    path = Path(source).expanduser()
    if path.is_dir():
        file = run_weights_file(path, where)
        return load_weights_file(file, where), f"run {path.name} ({file.relative_to(path)})"
    return load_weights_file(path, where), path.name


def _adapt(src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor | None:
    """``src`` reshaped to fit ``dst`` when only the input channels differ (RGB <-> gray)."""
    if src.shape == dst.shape:
        return src
    if src.dim() == 4 and src.shape[0] == dst.shape[0] and src.shape[2:] == dst.shape[2:]:
        if dst.shape[1] == 1:
            return src.sum(1, keepdim=True)
        if src.shape[1] == 1:
            return src.repeat(1, dst.shape[1], 1, 1) / dst.shape[1]
    return None


def transfer(model: nn.Module, state: dict[str, torch.Tensor], where: str, what: str) -> tuple[int, int]:
    """Copy matching tensors of ``state`` into ``model`` (head excluded); returns (loaded, body total)."""
    target = model.state_dict()
    head = getattr(model, "loom_head", None)
    head_ids = {id(p) for p in head().state_dict(keep_vars=True).values()} if head else set()
    head_keys = {k for k, v in model.state_dict(keep_vars=True).items() if id(v) in head_ids}
    body = [k for k in target if k not in head_keys and not k.endswith("num_batches_tracked")]
    best: dict[str, torch.Tensor] = {}
    for prefix_in, prefix_out in (("", ""), ("", "backbone."), ("backbone.", "")):
        mapped = {}
        for k, v in state.items():
            if not k.startswith(prefix_in):
                continue
            name = prefix_out + k[len(prefix_in):]
            if name in body:
                fitted = _adapt(v, target[name])
                if fitted is not None:
                    mapped[name] = fitted.to(target[name].dtype)
        if len(mapped) > len(best):
            best = mapped
    if len(best) < max(1, len(body) // 2):
        raise UserInputError(
            f"{where}: the weights from {what} do not fit this model — only {len(best)} of {len(body)} tensors "
            "match by name and shape. Use weights saved from the same architecture."
        )
    model.load_state_dict(best, strict=False)
    return len(best), len(body)


def freeze(model: nn.Module, mode: str, train_blocks: int, where: str) -> int:
    """Freeze the backbone or all but the last ``train_blocks`` blocks; returns frozen parameter count."""
    if mode == "none":
        return 0
    if not hasattr(model, "loom_blocks"):
        raise UserInputError(f"{where}: this architecture cannot be frozen in blocks — set freeze to none")
    blocks = model.loom_blocks()
    frozen_blocks = blocks if mode == "backbone" else blocks[: max(len(blocks) - int(train_blocks), 0)]
    head_ids = {id(p) for p in model.loom_head().parameters()}
    frozen_ids = {id(p) for b in frozen_blocks for p in b.parameters()}
    if mode == "backbone":  # everything but the head, including parts outside the blocks
        frozen_ids = {id(p) for p in model.parameters()} - head_ids
        frozen_blocks = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    count = 0
    for p in model.parameters():
        if id(p) in frozen_ids:
            p.requires_grad_(False)
            count += p.numel()
    model._loom_frozen = list(frozen_blocks)  # the loop keeps these in eval mode (BN statistics stay put)
    return count


def prepare_model(model: nn.Module, spec: ModelSpec, ctx: StepContext) -> None:
    """Apply the spec's ``weights`` and ``freeze`` params to a freshly built model."""
    node = spec.node_id or ctx.node_id
    where = f"node '{node}', param 'weights'"
    source = str(spec.params.get("weights", "none") or "none").strip()
    if spec.source is not None:
        loaded, total = transfer(model, spec.source, where, "the connected pretrained model")
        ctx.log(f"started from the connected pretrained model: {loaded} of {total} backbone tensors loaded; "
                "the head starts fresh")
        ctx.report(pretrained="connected model", tensors_loaded=loaded)
    elif source.lower() not in ("none", ""):
        state, what = load_source(source, spec.arch, where)
        loaded, total = transfer(model, state, where, what)
        ctx.log(f"started from {what}: {loaded} of {total} backbone tensors loaded; the head starts fresh")
        ctx.report(pretrained=what, tensors_loaded=loaded)
    mode = spec.params.get("freeze", "none")
    if mode != "none":
        frozen = freeze(model, mode, int(spec.params.get("train_blocks", 1)), f"node '{node}', param 'freeze'")
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        ctx.log(f"froze {frozen:,} weights ({mode}); {trainable:,} stay trainable")
