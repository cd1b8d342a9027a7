"""Finding a pretrained Hugging Face model on this computer, without torch and without the network.

``pretrained_text``'s ``model`` param names a folder, or a model name
(``distilbert-base-uncased``, ``org/name``) looked up in Loom's models folder
(``~/.cache/loom/models``, or ``$LOOM_MODELS_DIR``) and then in the Hugging
Face cache (``~/.cache/huggingface/hub``, or ``$HF_HUB_CACHE`` /
``$HF_HOME``).  Nothing is downloaded: a model that is not there is reported
with the folder to put it in and the command that fetches it on a connected
machine.  The folder is what ``tokenize``'s ``pretrained`` method reads too
(its ``tokenizer.json``), so both steps take the same value.

Pure file checks, so the preflight (``loom validate``) and the GUI's wizard
can call them without importing torch or transformers.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

CONFIG = "config.json"
TOKENIZER = "tokenizer.json"
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json")
# Encoder families whose sequence-classification heads transformers builds from a config alone.
ENCODER_TYPES = ("bert", "distilbert", "roberta", "xlm-roberta", "albert", "electra", "deberta", "deberta-v2",
                 "mpnet", "camembert", "modernbert")
DEFAULT_MODEL = "distilbert-base-uncased"


def models_dir() -> Path:
    """Loom's own folder of pretrained models: ``$LOOM_MODELS_DIR``, else ``~/.cache/loom/models``."""
    env = os.environ.get("LOOM_MODELS_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "loom" / "models"


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache, where ``from_pretrained`` and ``hf download`` keep models."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "huggingface" / "hub"


def is_model_name(text: str) -> bool:
    """``name`` or ``org/name`` (a hub id), as opposed to a path."""
    parts = text.split("/")
    return 1 <= len(parts) <= 2 and all(p and p not in (".", "..") and "\\" not in p for p in parts) \
        and not text.startswith(("~", "."))


def cached_snapshot(name: str) -> Path | None:
    """The Hugging Face cache's copy of ``name`` (the ``main`` snapshot, else the newest one)."""
    repo = hf_cache_dir() / f"models--{name.replace('/', '--')}"
    snapshots = repo / "snapshots"
    try:
        ref = (repo / "refs" / "main").read_text(encoding="utf-8").strip()
    except OSError:
        ref = ""
    if ref and (snapshots / ref / CONFIG).is_file():
        return snapshots / ref
    try:
        found = [s for s in snapshots.iterdir() if (s / CONFIG).is_file()]
    except OSError:
        return None
    return max(found, key=lambda s: s.stat().st_mtime) if found else None


def resolve(model: str) -> Path | None:
    """The folder ``model`` stands for: a folder itself, or a name in Loom's models folder or the HF cache."""
    text = str(model).strip()
    if not text:
        return None
    path = Path(text).expanduser()
    try:
        if path.is_dir():
            return path
    except OSError:
        return None
    if not is_model_name(text):
        return None
    mine = models_dir() / text
    if (mine / CONFIG).is_file():
        return mine
    return cached_snapshot(text)


def fetch_advice(model: str) -> str:
    """Where to put a missing model and how to fetch it on a connected machine.

    A hub name (``bert-base-uncased``) gets its own folder and command; a folder path that does not exist is
    the analyst's own model, so the advice is to copy it there, with a hub model as an example of one.
    """
    text = str(model).strip()
    if is_model_name(text):
        target = models_dir() / text
        return (f"put the model's folder (config.json, model.safetensors, tokenizer.json) at {target}, or give the "
                f"path of a folder that holds it. On a connected machine run `hf download {text} --local-dir "
                f"{target}` (older versions: `huggingface-cli download ...`) and copy that folder here")
    example = models_dir() / DEFAULT_MODEL
    return (f"copy the model's folder (config.json, model.safetensors, tokenizer.json) to {text}, or give the path "
            f"of a folder that holds one. To use a published model instead, on a connected machine run e.g. "
            f"`hf download {DEFAULT_MODEL} --local-dir {example}` and copy that folder to {example}")


POSITION_OFFSET_TYPES = ("roberta", "xlm-roberta", "camembert")  # two positions reserved before the text


def usable_positions(config: dict) -> int | None:
    """How many tokens the model reads at most (None when its config does not say)."""
    limit = config.get("max_position_embeddings")
    if not isinstance(limit, int):
        return None
    return limit - 2 if config.get("model_type") in POSITION_OFFSET_TYPES else limit


def read_config(folder: Path) -> dict:
    """The model folder's ``config.json`` as a dict (``ValueError`` saying what is wrong)."""
    path = folder / CONFIG
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{folder} holds no {CONFIG} — it is not a Hugging Face model folder") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path} cannot be read as JSON ({type(exc).__name__}) — download the model again") from None
    if not isinstance(config, dict) or not isinstance(config.get("model_type"), str):
        raise ValueError(f"{path} does not say which kind of model it is (no \"model_type\") — download the model "
                         "again")
    return config


def model_problem(model: str) -> str | None:
    """Why ``model`` cannot be fine-tuned here (found, readable config, weights present); None when it can."""
    folder = resolve(model)
    if folder is None:
        return f"{model}: no such folder, and no model of that name on this computer — {fetch_advice(model)}"
    try:
        read_config(folder)
    except ValueError as exc:
        return str(exc)
    if not any((folder / name).is_file() for name in WEIGHT_FILES):
        return (f"{folder} holds no weights ({' or '.join(WEIGHT_FILES[::2])}) — the download was incomplete; "
                f"{fetch_advice(model)}")
    return None


@dataclass(frozen=True)
class LocalModel:
    """A pretrained text model found on this computer (for the wizard's list)."""

    name: str  # what the model param takes
    folder: Path
    model_type: str
    has_tokenizer: bool


def local_models() -> list[LocalModel]:
    """Encoder models in Loom's models folder and the Hugging Face cache, with weights present."""
    found: dict[str, LocalModel] = {}
    candidates: list[tuple[str, Path | None]] = []
    with contextlib.suppress(OSError):
        candidates += [(p.name, p) for p in sorted(models_dir().iterdir()) if p.is_dir()]
    try:
        repos = sorted(p.name for p in hf_cache_dir().iterdir() if p.name.startswith("models--"))
    except OSError:
        repos = []
    candidates += [(name, cached_snapshot(name)) for name in
                   (r.removeprefix("models--").replace("--", "/") for r in repos)]
    for name, folder in candidates:
        if folder is None or name in found or model_problem(str(folder)):
            continue
        kind = str(read_config(folder)["model_type"])
        if kind in ENCODER_TYPES:
            found[name] = LocalModel(name, folder, kind, (folder / TOKENIZER).is_file())
    return list(found.values())
