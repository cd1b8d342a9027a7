"""Saving and loading a trained generator without pickles.

A generator is two files in its node folder: ``generator.safetensors`` (the
weights of the GAN generator or VAE decoder) and ``generator.json`` (the
card: architecture, params, image shape, latent size, normalisation).  The
card plus the weights rebuild the exact module; nothing is ever unpickled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.errors import UserInputError
from engine.fileio import atomic_write, atomic_write_json
from engine.generative import GenSpec, TrainedGenerator, build_generator

CARD_NAME = "generator.json"
WEIGHTS_NAME = "generator.safetensors"
CARD_FORMAT = 1


def save_generator(trained: TrainedGenerator, folder: Path) -> Path:
    """Write weights + card into ``folder``; returns the card's path."""
    from safetensors.torch import save as st_save

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in trained.module.state_dict().items()}
    blob = st_save(tensors)
    atomic_write(folder / WEIGHTS_NAME, lambda f: f.write(blob))
    card: dict[str, Any] = {
        "format": CARD_FORMAT,
        "kind": trained.spec.kind,
        "arch": trained.spec.arch,
        "params": dict(trained.spec.params),
        "latent_dim": trained.latent_dim,
        "sample_shape": list(trained.sample_shape),
        "normalization": trained.normalization,
        "weights": WEIGHTS_NAME,
        "history": trained.history,
    }
    path = folder / CARD_NAME
    atomic_write_json(path, card)
    return path


def load_generator(card_path: Path, device: str = "cpu") -> TrainedGenerator:
    """Rebuild a generator from its card and safetensors weights."""
    from safetensors.torch import load_file

    card_path = Path(card_path)
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
        spec = GenSpec(str(card["arch"]), dict(card.get("params", {})))
        shape = tuple(int(v) for v in card["sample_shape"])
        weights = card_path.parent / str(card.get("weights", WEIGHTS_NAME))
    except FileNotFoundError:
        raise UserInputError(f"{card_path}: no generator card there — was the training step finished?") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserInputError(f"{card_path}: not a readable generator card ({exc})") from None
    try:
        module = build_generator(spec, shape)
        state = load_file(str(weights), device="cpu")
        module.load_state_dict(state)
    except FileNotFoundError:
        raise UserInputError(f"{weights}: the generator's weights file is missing") from None
    except Exception as exc:  # wrong shapes, corrupt file
        raise UserInputError(f"{weights}: cannot load the generator's weights ({type(exc).__name__}: {exc})") from None
    module.to(device).eval()
    return TrainedGenerator(
        spec=spec,
        module=module,
        sample_shape=shape,
        normalization=dict(card.get("normalization", {"mean": [0.0], "std": [1.0]})),
        history=dict(card.get("history", {})),
    )
